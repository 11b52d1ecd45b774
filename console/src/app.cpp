#include "app.hpp"

#include <chrono>
#include <cstdio>
#include <type_traits>

namespace anxin::console {
namespace proto = anxin::protocol;

namespace {

Millis local_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The server names a console principal "operator:王芳"; people only need the name.
std::string display_name(const std::string& subject) {
  auto colon = subject.find(':');
  return colon == std::string::npos ? subject : subject.substr(colon + 1);
}

}  // namespace

Commands& Commands::operator+=(const Commands& o) {
  if (o.select) select = o.select;
  if (o.acknowledge) acknowledge = o.acknowledge;
  toggle_language = toggle_language != o.toggle_language;
  return *this;
}

App::App(AppOptions options, std::function<void()> wake)
    : link_(std::move(options.link), std::move(wake)),
      lang_(options.lang),
      operator_name_(std::move(options.operator_name)) {}

void App::pump() {
  for (auto& event : link_.take()) {
    if (const auto* m = std::get_if<proto::ServerMessage>(&event)) {
      on_message(*m);
    } else {
      // Keep showing what we had, marked stale; the next snapshot replaces it.
      replica_.lose_sync();
      for (auto& [id, a] : acks_)
        if (a.status == AckRequest::Status::sending) a.status = AckRequest::Status::no_reply;
    }
  }
}

void App::on_message(const proto::ServerMessage& m) {
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, proto::Welcome>) {
          clock_offset_ms_ = b.server_time_ms - local_now_ms();
          operator_name_ = display_name(b.subject);
        } else if constexpr (std::is_same_v<T, proto::Snapshot>) {
          clock_offset_ms_ = b.server_time_ms - local_now_ms();
          replica_.apply(b);
        } else if constexpr (std::is_same_v<T, proto::DeltaMessage>) {
          if (replica_.apply(b) == Replica::Applied::resync) {
            std::fprintf(stderr, "anxin-console: delta %llu out of sequence after %llu; resubscribing\n",
                         static_cast<unsigned long long>(b.seq),
                         static_cast<unsigned long long>(replica_.seq()));
            link_.subscribe();
          }
        } else if constexpr (std::is_same_v<T, proto::Ok>) {
          on_reply(m.req, std::nullopt);
        } else if constexpr (std::is_same_v<T, proto::ErrorReply>) {
          on_reply(m.req, b.error);
        }
        // Ack (device side) and Pong are not for consoles.
      },
      m.body);
}

void App::on_reply(const std::string& req, const std::optional<Error>& error) {
  for (auto& [id, a] : acks_) {
    if (a.req != req) continue;
    if (error) {
      a.status = AckRequest::Status::refused;
      a.error = std::string(code_name(error->code)) + ": " + error->message;
    } else {
      a.status = AckRequest::Status::ok;
    }
    return;
  }
}

void App::execute(const Commands& c) {
  if (c.select) selected_ = c.select;
  if (c.acknowledge) acknowledge(*c.acknowledge);
  if (c.toggle_language) lang_ = lang_ == Lang::zh ? Lang::en : Lang::zh;
}

void App::acknowledge(IncidentId id) {
  AckRequest& a = acks_[id];
  a = AckRequest{"ack-" + std::to_string(next_req_++), AckRequest::Status::sending, ""};
  if (!link_.send({a.req, proto::AckIncident{id}})) a.status = AckRequest::Status::not_sent;
}

const AckRequest* App::ack_request(IncidentId id) const {
  auto it = acks_.find(id);
  return it == acks_.end() ? nullptr : &it->second;
}

std::vector<IncidentId> App::acknowledged_by_me() const {
  std::vector<IncidentId> ids;
  for (const auto& [id, a] : acks_)
    if (a.status == AckRequest::Status::ok) ids.push_back(id);
  return ids;
}

Millis App::server_now_ms() const { return local_now_ms() + clock_offset_ms_; }

}  // namespace anxin::console
