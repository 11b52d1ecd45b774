#include "bench.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "anxin/core/ranking.hpp"
#include "frame.hpp"

namespace anxin::console {
namespace {

const char* const kTowns[] = {"曹城街道", "磐石街道", "郑庄街道", "倪集街道", "庄寨镇", "普连集镇",
                              "青菏街道", "仵楼镇",   "楼庄乡",   "青固集镇", "韩集镇", "砖庙镇"};
const char* const kSurnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗";
const char* const kGiven[] = {"桂英", "秀兰", "德明", "建国", "玉兰", "凤英", "国栋", "淑珍", "志强", "春花"};

std::string surname(std::mt19937& rng) {
  const int k = static_cast<int>(rng() % 20);
  return std::string(kSurnames + k * 3, 3);  // each surname is one 3-byte UTF-8 character
}

Millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct Stats {
  double p50 = 0, p99 = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  return {at(0.50), at(0.99), v.back()};
}

}  // namespace

protocol::Snapshot synthetic_centre(int incidents, int workers, Millis now, unsigned seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  protocol::Snapshot s;
  s.seq = 1;
  s.epoch = "bench";
  s.server_time_ms = now;
  const AlertKind kinds[] = {AlertKind::sos,        AlertKind::fall,          AlertKind::smoke,
                             AlertKind::inactivity, AlertKind::door_open_long, AlertKind::low_battery,
                             AlertKind::offline,    AlertKind::water_leak,    AlertKind::vital_abnormal};
  for (int k = 0; k < incidents; ++k) {
    const int town = k % 12;
    protocol::ElderCard e;
    e.id = k + 1;
    e.name = surname(rng) + kGiven[rng() % 10];
    e.age = 60 + static_cast<int>(rng() % 35);
    e.tier = e.age >= 80 ? CareTier::key : (rng() % 3 ? CareTier::general : CareTier::sub_key);
    e.living = static_cast<LivingSituation>(rng() % 5);
    e.town = kTowns[town];
    e.community = e.town.substr(0, 6) + std::to_string(k % 7 + 1) + "社区";
    e.address = e.community + std::to_string(k % 40 + 1) + "号楼";
    e.lat = 34.70 + 0.06 * (town / 4) + uniform(-0.02, 0.02);
    e.lon = 115.40 + 0.08 * (town % 4) + uniform(-0.03, 0.03);
    e.phone = "138" + std::to_string(10'000'000 + k);
    e.contacts = {{"王建国", "儿子", "13900000001"}, {"刘大妈", "邻居", "13900000002"}};
    s.elders.push_back(e);

    Incident i;
    i.id = k + 1;
    i.elder = e.id;
    i.opened_ms = now - static_cast<Millis>(rng() % (3 * 3600 * 1000));
    const AlertKind kind = kinds[rng() % std::size(kinds)];
    i.rank_base = kind_points(kind, false, {}) + (e.tier == CareTier::key ? 25 : 0);
    i.rank_reasons = {{"kind:" + std::string(name_of(kind)), kind_points(kind, false, {})}};
    if (e.tier == CareTier::key) i.rank_reasons.push_back({"tier:key", 25});
    if (rng() % 10 < 3) {
      i.state = IncidentState::acknowledged;
      i.acknowledged_ms = i.opened_ms + 20'000 + static_cast<Millis>(rng() % 100'000);
      i.acknowledged_by = "王芳";
    }
    for (int a = 0; a < 1 + static_cast<int>(rng() % 3); ++a) {
      TimelineEntry t;
      t.at_ms = i.opened_ms + a * 5000;
      t.kind = TimelineKind::alert;
      t.alert_kind = kind;
      t.actor = "D" + std::to_string(100000 + k * 3 + a);
      t.text = "{}";
      i.timeline.push_back(t);
    }
    if (rng() % 20 == 0) i.escalations.push_back({EscalationKind::unacknowledged, i.opened_ms + 60'000, 0, false});
    s.incidents.push_back(std::move(i));
  }
  for (int k = 0; k < workers; ++k) {
    Worker w;
    w.id = k + 1;
    w.name = surname(rng) + kGiven[rng() % 10];
    w.role = static_cast<WorkerRole>(rng() % 6);
    w.town = kTowns[k % 12];
    w.status = static_cast<WorkerStatus>(rng() % 6);
    w.on_duty = w.status != WorkerStatus::off_duty;
    w.mode = static_cast<TransportMode>(rng() % 3);
    w.lat = 34.70 + 0.06 * ((k % 12) / 4) + uniform(-0.03, 0.03);
    w.lon = 115.40 + 0.08 * (k % 4) + uniform(-0.04, 0.04);
    w.position_ms = now - static_cast<Millis>(rng() % (30 * 60'000));
    if (w.status == WorkerStatus::en_route || w.status == WorkerStatus::on_scene || w.status == WorkerStatus::offered)
      w.incident = 1 + static_cast<IncidentId>(rng() % static_cast<unsigned>(incidents));
    s.workers.push_back(std::move(w));
  }
  return s;
}

int run_bench(GLFWwindow* window, App& app, const BenchOptions& o) {
  app.load_offline(synthetic_centre(o.incidents, o.workers, now_ms()));
  Autotest none(AutotestOptions{});
  int w = 0, h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  std::printf("anxin-console bench: %d open incidents, %d workers, %dx%d, %d frames per view, vsync off\n",
              o.incidents, o.workers, w, h, o.frames);
  std::printf("CPU ms per frame on the UI thread (CLOCK_THREAD_CPUTIME_ID; swap excluded)\n");
  std::printf("%-22s %28s   %28s\n", "", "views + ImGui::Render", "+ GL submit (llvmpipe)");
  std::printf("%-22s %8s %9s %9s   %8s %9s %9s %9s\n", "view", "p50", "p99", "max", "p50", "p99", "max", "vertices");

  struct Pass {
    const char* name;
    View view;
    bool resort_every_frame;  // the worst case: the cached queue rebuilt each frame
  };
  const Pass passes[] = {{"queue", View::queue, false},         {"queue (re-sort each)", View::queue, true},
                         {"incident", View::incident, false},   {"map", View::map, false},
                         {"workers", View::workers, false},     {"dashboard", View::dashboard, false},
                         {"history", View::history, false},     {"team", View::team, false}};
  bool over_budget = false, over_with_gl = false;
  for (const Pass& p : passes) {
    if (!o.only.empty() && o.only != p.name) continue;
    Commands setup;
    setup.push(cmd::Show{p.view});
    setup.push(cmd::Select{1 + o.incidents / 2});
    app.execute(setup);
    std::vector<double> build, total;
    for (int f = 0; f < o.frames + 10; ++f) {
      glfwPollEvents();
      if (p.resort_every_frame) app.ui().queue.invalidate();
      FrameResult r = run_frame(window, app, none);
      glfwSwapBuffers(window);
      // Walk the selection down the queue, as an operator's arrow key would.
      Commands move;
      if (f % 4 == 0) move.push(cmd::Select{1 + (o.incidents / 2 + f) % o.incidents});
      app.execute(move);
      if (f >= 10) build.push_back(r.build_ms), total.push_back(r.build_ms + r.render_ms);  // after warm-up
    }
    const Stats b = stats(build), t = stats(total);
    std::printf("%-22s %8.2f %9.2f %9.2f   %8.2f %9.2f %9.2f %9d\n", p.name, b.p50, b.p99, b.max, t.p50, t.p99, t.max,
                ImGui::GetDrawData()->TotalVtxCount);
    over_budget |= b.p99 > 16.0;
    over_with_gl |= t.p99 > 16.0;
  }
  std::printf("target p99 <= 16 ms CPU per frame (60 fps): views + ImGui::Render %s; with GL submit %s\n",
              over_budget ? "MISSED" : "met", over_with_gl ? "MISSED" : "met");
  return 0;
}

}  // namespace anxin::console
