// Alarm -> offer on the field worker's phone, over loopback: a real server and
// SQLite file; a device platform raising alarms; a console that dispatches each new
// incident the moment it sees it (an operator who only confirms); field workers
// who take each offer, arrive and complete at once, so they are free again.
// Measured: from the alarm leaving the device to the offer reaching the worker,
// and from the dispatch leaving the console to the offer reaching the worker.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "anxin/core/protocol.hpp"
#include "anxin/gateway/server.hpp"
#include "anxin/gateway/ws_client.hpp"
#include "bench.hpp"
#include "district.hpp"
#include "harness.hpp"

namespace anxin::bench {

namespace proto = anxin::protocol;

int run_offer(const OfferOptions& o) {
  sim::District district = sim::generate_district({42, 2000, o.workers, "2026-11-26"});
  SystemClock clock;
  for (auto& w : district.workers) {
    w.status = WorkerStatus::available;  // everyone on duty, positions fresh
    w.on_duty = true;
    w.position_ms = clock.now_ms();
  }
  const auto dir = std::filesystem::path(o.dir) / "offer";
  const std::string db = make_bench_db(dir, district);
  gateway::ServerOptions so;
  so.db_path = db;
  so.port = 0;
  so.interface = "127.0.0.1";
  QuietNotifier quiet;
  so.notifier = &quiet;
  gateway::Server server(so, clock);
  server.start();

  std::mutex mu;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> alarm_sent;  // (device, seq) -> ns
  std::map<IncidentId, std::int64_t> incident_sent, dispatch_sent;
  std::vector<double> alarm_to_offer_ms, dispatch_to_offer_ms;
  std::atomic<int> ready{0}, offers{0};

  gateway::WsClientGroup clients;
  gateway::ClientOptions co;
  co.port = server.port();
  co.reconnect = false;
  auto hello = [&](size_t id, Role role, std::string token) {
    clients.send(id, proto::encode({"", proto::Hello{role, std::move(token)}}));
  };

  // The console: dispatch every new incident; resolve it once its responder completes.
  const size_t console = clients.size();
  {
    gateway::ClientHandlers h;
    h.on_open = [&] {
      hello(console, Role::console, "bench-console");
      clients.send(console, proto::encode({"", proto::Subscribe{}}));
    };
    h.on_message = [&](std::string text) {
      auto m = proto::parse_server(text);
      if (!m) return;
      if (std::holds_alternative<proto::Snapshot>(m->body)) ++ready;
      auto* d = std::get_if<proto::DeltaMessage>(&m->body);
      if (!d || d->worker) return;
      const IncidentId id = d->incident.id;
      if (d->kind == DeltaKind::incident_opened) {
        {
          std::lock_guard lock(mu);
          dispatch_sent[id] = now_ns();
        }
        clients.send(console, proto::encode({"", proto::Dispatch{id, std::nullopt, 1}}));
      }
      for (const auto& e : d->append)
        if (e.kind == TimelineKind::completed)
          clients.send(console, proto::encode({"", proto::ResolveIncident{id, Disposition::visitor_assisted, ""}}));
    };
    clients.add(co, std::move(h));
  }

  // The field workers: take the offer, arrive, complete.
  for (const auto& w : district.workers) {
    const size_t id = clients.size();
    gateway::ClientHandlers h;
    const std::string token = "bench-w" + std::to_string(w.id);
    h.on_open = [&, id, token] { hello(id, Role::field, token); };
    h.on_message = [&, id](std::string text) {
      const std::int64_t t = now_ns();
      auto m = proto::parse_server(text);
      if (!m) return;
      if (std::holds_alternative<proto::Welcome>(m->body)) ++ready;
      auto* task = std::get_if<proto::Task>(&m->body);
      if (!task || task->event != FieldEvent::offer) return;
      {
        std::lock_guard lock(mu);
        if (auto it = incident_sent.find(task->incident.id); it != incident_sent.end())
          alarm_to_offer_ms.push_back(static_cast<double>(t - it->second) / 1e6);
        if (auto it = dispatch_sent.find(task->incident.id); it != dispatch_sent.end())
          dispatch_to_offer_ms.push_back(static_cast<double>(t - it->second) / 1e6);
      }
      ++offers;
      const std::int64_t a = task->assignment.id;
      clients.send(id, proto::encode({"", proto::Accept{a}}));
      clients.send(id, proto::encode({"", proto::OnScene{a}}));
      clients.send(id, proto::encode({"", proto::Complete{a, "bench"}}));
    };
    clients.add(co, std::move(h));
  }

  // The device platforms.
  std::map<std::string, size_t> platform_of;
  for (const auto& d : district.devices) {
    if (platform_of.count(d.vendor)) continue;
    const size_t id = clients.size();
    gateway::ClientHandlers h;
    const std::string token = "bench-" + d.vendor;
    h.on_open = [&, id, token] { hello(id, Role::device, token); };
    h.on_message = [&](std::string text) {
      auto m = proto::parse_server(text);
      if (!m) return;
      if (std::holds_alternative<proto::Welcome>(m->body)) ++ready;
      auto* ack = std::get_if<proto::Ack>(&m->body);
      if (!ack) return;
      std::lock_guard lock(mu);
      auto it = alarm_sent.find({ack->device, ack->seq});
      if (it != alarm_sent.end()) incident_sent.emplace(ack->ack.incident, it->second);
    };
    platform_of[d.vendor] = clients.add(co, std::move(h));
  }
  clients.start();
  const int expected = 1 + o.workers + static_cast<int>(platform_of.size());
  for (int i = 0; i < 1000 && ready < expected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (ready < expected) throw std::runtime_error("clients did not connect");

  sim::DeviceFleet fleet(district, 3);
  const auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
  const int total = static_cast<int>(o.rate * o.seconds);
  auto next = SteadyClock::now();
  for (int i = 0; i < total; ++i) {
    std::this_thread::sleep_until(next);
    next += interval;
    AlarmIn a = fleet.next(clock.now_ms());
    {
      std::lock_guard lock(mu);
      alarm_sent[{a.device, a.seq}] = now_ns();
    }
    clients.send(platform_of.at(fleet.vendor_of(a.device)), proto::encode({"", a}));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  clients.stop();
  server.stop();
  std::filesystem::remove_all(dir);

  std::lock_guard lock(mu);
  std::printf("alarm -> offer on the worker's phone: %.0f alarms/s for %.0f s, %d field workers, %zu offers\n",
              o.rate, o.seconds, o.workers, alarm_to_offer_ms.size());
  std::printf("| path | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n");
  const std::pair<const char*, const std::vector<double>*> rows[] = {{"alarm -> offer", &alarm_to_offer_ms},
                                                                      {"dispatch -> offer", &dispatch_to_offer_ms}};
  for (const auto& [name, v] : rows)
    std::printf("| %s | %zu | %.3f | %.3f | %.3f | %.3f |\n", name, v->size(), percentile(*v, 0.5), percentile(*v, 0.9),
                percentile(*v, 0.99), v->empty() ? 0 : *std::max_element(v->begin(), v->end()));
  return alarm_to_offer_ms.empty() ? 1 : 0;
}

}  // namespace anxin::bench
