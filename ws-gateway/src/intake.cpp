// The service thread's side of intake.hpp, and the one path every alarm takes: from
// the WebSocket (commands.cpp), the DC-09 receiver or the HTTP intake, an alarm is
// checked and applied the same way, and answered once it is durable.
#include "server_impl.hpp"

namespace anxin::gateway {

void Server::Impl::drain_intake() {
  for (auto& r : intake.take()) take_in(std::move(r));
}

void Server::Impl::take_in(IntakeRequest r) {
  ++frames_in;
  watch_storage();
  if (auto* beat = std::get_if<HeartbeatIn>(&r.what)) {
    auto got = dispatcher.heartbeat(r.who, *beat);
    if (!got) ++errors_sent;
    return r.done(got ? IntakeResult{} : IntakeResult{std::nullopt, got.error()});
  }
  const AlarmIn& a = std::get<AlarmIn>(r.what);
  if (storage_full) {
    ++errors_sent;
    return r.done({std::nullopt, refused_for_full_disk()});
  }
  take_alarm(r.who, a, [this, done = std::move(r.done)](const Result<AlarmAck>& got) {
    if (!got) ++errors_sent;
    Outbound durable;
    durable.then = [done, result = got ? IntakeResult{got.value(), std::nullopt}
                                       : IntakeResult{std::nullopt, got.error()}] { done(result); };
    return durable;
  });
}

void Server::Impl::take_alarm(const Principal& who, const AlarmIn& a, AlarmAnswer answer) {
  auto got = dispatcher.raise_alarm(who, a);
  if (!got || !got->look_up) return alarm_taken(a, got, answer);
  // Perhaps a resend older than the alarms in memory: the file says. Asked once
  // everything before it is durable, on the reader thread, then back here.
  store.submit({}, [this, who, a, answer] {
    reader.post([this, who, a, answer] {
      std::optional<std::vector<Alert>> stored;
      try {
        stored = store.find_alerts(a.device, a.boot, a.seq);
      } catch (const std::exception& e) {
        lwsl_err("cannot look for an old resend of %s: %s\n", a.device.c_str(), e.what());
      }
      std::lock_guard lock(finished_reads_mu);
      finished_reads.push_back([this, who, a, answer, stored] {
        if (!stored)
          return release({answer(Error{ErrorCode::internal, "the server could not read that; send it again"})});
        for (const Alert& old : *stored)
          if (old.kind == a.kind && old.device_time_ms == a.device_time_ms)
            return release({answer(AlarmAck{old.id, old.incident, true})});
        if (storage_full)
          return release({answer(refused_for_full_disk())});
        alarm_taken(a, dispatcher.raise_alarm(who, a, true), answer);  // a restarted counter
      });
      lws_cancel_service(context);
    });
  });
}

void Server::Impl::alarm_taken(const AlarmIn& a, const Result<AlarmAck>& r, const AlarmAnswer& answer) {
  if (r && !r->duplicate) {
    ++alarms_accepted;
    if (const auto elder = dispatcher.elder_of_device(a.device)) visits.on_alert(*elder, a.kind);
  }
  if (held_acks.empty()) held_acks.reserve(kMaxHeldAcks);
  held_acks.push_back(answer(r));
  commit_due = true;
  if (held_acks.size() >= kMaxHeldAcks) commit_and_send({});
}

}  // namespace anxin::gateway
