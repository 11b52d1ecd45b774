// What leaves the centre: SMS notices to emergency contacts and call requests to a
// telephony gateway. The core only says what should be sent; a Notifier delivers
// it. The server's default notifier logs each notice and POSTs it as JSON to a
// configured webhook, where a real SMS or telephony gateway can be plugged in.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

enum class NoticeKind {
  contact_sms,     // "warn and notify the emergency contacts at the same time" (000, 001)
  family_call,     // one step of the family cascade: call this contact
  ambulance_120,   // call 120 for the elder
  fire_119,        // call 119 for the home
};
std::string_view name_of(NoticeKind);

struct Notice {
  NoticeKind kind = NoticeKind::contact_sms;
  std::int64_t task_id = 0;  // the call task it belongs to, 0 for none
  IncidentId incident = 0;
  ElderId elder = 0;
  std::string to_name;
  std::string to_phone;
  std::string text;  // what to say or send, in Chinese
  Millis at_ms = 0;
  // The same for every attempt to deliver this notice, and after a restart, so a
  // receiver can drop duplicates: "call-<task_id>" for call requests (task ids are
  // durable), "sms-<incident>-<contact index>" for the contacts' SMS (sent once per
  // incident). Also the notice's key in the outbox. Opaque to receivers.
  std::string id;
};

// Where a notice stands in the outbox (the `outbox` table, issue 11 item 1). A notice
// is written there in the same transaction as its cause, and leaves `pending` only
// when the notifier reports it delivered or finally failed, or when the restart that
// would re-send it finds the call task it asks for already closed (cancelled).
enum class NoticeState { pending, delivered, failed, cancelled };
std::string_view name_of(NoticeState);

// Renders a notice as the JSON object the webhook receives.
std::string notice_json(const Notice& notice);

// "13900000001" -> "139****0001": enough for an operator to tell contacts apart,
// not enough to call them from a log file. Numbers under 8 characters are all stars.
std::string masked_phone(std::string_view phone);

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Must not block: called on the dispatcher's thread.
  virtual void send(const Notice& notice) = 0;
  // The same for several, in order: a notifier with a queue takes them all at once.
  virtual void send_all(const std::vector<Notice>& notices) {
    for (const Notice& n : notices) send(n);
  }
};

// Keeps what it is given; for tests and the replay.
class RecordingNotifier final : public Notifier {
 public:
  void send(const Notice& n) override {
    std::lock_guard lock(mu_);
    sent_.push_back(n);
  }
  std::vector<Notice> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Notice> sent_;
};

}  // namespace anxin
