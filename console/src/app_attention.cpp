// App, attention (issue 14, item 2): no alarm goes by unannounced. Every new
// incident, wherever it ranks, and every new critical alert that joins an incident
// already acknowledged (the server sets the header's unseen_alert_ms, see
// dispatch-core/src/attention.cpp) adds an entry to the banner over every view
// (view_attention.cpp), flashes its row and marker, and chimes. A new incident's
// entry goes once it is acknowledged, opened in the workspace, or resolved; a new
// alert's once it is marked seen (A) or its incident resolved.
#include <algorithm>
#include <chrono>

#include "app.hpp"

namespace anxin::console {
namespace {

constexpr Millis kFlashMs = 4000;   // how long an announced incident pulses
constexpr size_t kMaxEntries = 50;  // the banner names the newest; the rest are counted

Millis local_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void App::attend_to(const protocol::DeltaMessage& d, Millis unseen_before) {
  const Incident* i = replica_.incident(d.incident.id);
  if (!i) return;
  if (d.kind == DeltaKind::incident_opened && unacknowledged(*i)) announce(i->id, false);
  else if (i->unseen_alert_ms && i->unseen_alert_ms != unseen_before) announce(i->id, true);
}

void App::announce(IncidentId incident, bool realert) {
  std::erase_if(announcements_, [&](const Announcement& a) { return a.incident == incident; });
  announcements_.insert(announcements_.begin(), Announcement{incident, realert, local_ms()});
  if (announcements_.size() > kMaxEntries) announcements_.resize(kMaxEntries);
  flash_incident_ = incident;
  flash_until_ms_ = local_ms() + kFlashMs;
  chime_.play();
}

void App::prune_announcements() {
  std::erase_if(announcements_, [&](const Announcement& a) {
    const Incident* i = replica_.incident(a.incident);
    if (!i) return true;
    // A new critical alert stays until marked seen (A), even on the incident open in
    // the workspace: the operator may be busy with its notes. A new incident goes once
    // the operator is on it.
    if (a.realert) return i->unseen_alert_ms == 0;
    if (view_ == View::incident && selected_ == a.incident) return true;
    return !unacknowledged(*i);
  });
}

}  // namespace anxin::console
