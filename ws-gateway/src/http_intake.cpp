// The signed HTTP intake for vendor platforms (docs/protocol.md, "HTTP intake"):
// POST /intake/v1/alarm and /intake/v1/heartbeat on the main port, served by the same
// libwebsockets context as the WebSocket. This file owns the HTTP side: the request
// line, headers and body, the signature and replay checks (intake_signature.hpp), the
// body's parsing (the protocol's own alarm and heartbeat frames, anxin/core/protocol.hpp)
// and the answer. It hands the value to take_in (intake.cpp), which applies it as the
// WebSocket would; an alarm's 200 is written only once take_in says it is committed.
// Everything here runs on the service thread.
#include <cctype>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "server_impl.hpp"

namespace anxin::gateway {

namespace {

using json = nlohmann::ordered_json;  // answers keep "type" first

constexpr std::string_view kPrefix = "/intake/v1/";
constexpr size_t kMaxHeaderValue = 256;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A header libwebsockets does not know by name; it keeps those lower-cased, with the
// colon. An absent header is empty; one longer than any valid value is a value that
// fails every check.
std::string custom_header(lws* wsi, const char* name) {
  const int name_len = static_cast<int>(std::strlen(name));
  const int n = lws_hdr_custom_length(wsi, name, name_len);
  if (n <= 0) return "";
  if (static_cast<size_t>(n) > kMaxHeaderValue) return std::string(kMaxHeaderValue + 1, '?');
  std::string v(static_cast<size_t>(n) + 1, '\0');
  if (lws_hdr_custom_copy(wsi, v.data(), n + 1, name, name_len) < 0) return "";
  v.resize(static_cast<size_t>(n));
  return v;
}

std::string known_header(lws* wsi, lws_token_indexes h) {
  const int n = lws_hdr_total_length(wsi, h);
  if (n <= 0 || static_cast<size_t>(n) > kMaxHeaderValue) return n > 0 ? std::string(kMaxHeaderValue + 1, '?') : "";
  std::string v(static_cast<size_t>(n) + 1, '\0');
  if (lws_hdr_copy(wsi, v.data(), n + 1, h) < 0) return "";
  v.resize(static_cast<size_t>(n));
  return v;
}

// application/json, with or without parameters (`; charset=utf-8`), in any case.
bool is_json(std::string_view type) {
  constexpr std::string_view want = "application/json";
  if (type.size() < want.size()) return false;
  for (size_t i = 0; i < want.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(type[i])) != want[i]) return false;
  return type.size() == want.size() || type[want.size()] == ';' || type[want.size()] == ' ';
}

int http_status(ErrorCode c) {
  switch (c) {
    case ErrorCode::bad_json:
    case ErrorCode::unknown_type:
    case ErrorCode::missing_field:
    case ErrorCode::bad_field:
    case ErrorCode::kind_not_supported: return 400;
    case ErrorCode::bad_signature:
    case ErrorCode::stale:
    case ErrorCode::auth_failed:
    case ErrorCode::not_authenticated: return 401;
    case ErrorCode::forbidden:
    case ErrorCode::device_not_owned: return 403;
    case ErrorCode::unknown_device: return 404;
    case ErrorCode::replayed:
    case ErrorCode::bad_state: return 409;
    case ErrorCode::too_large: return 413;
    case ErrorCode::rate_limited:
    case ErrorCode::throttled: return 429;
    case ErrorCode::storage_full: return 503;
    default: return 500;
  }
}

std::string error_json(const Error& e, const std::string& req, std::optional<Millis> server_time_ms = {}) {
  json j{{"type", "error"}, {"code", std::string(code_name(e.code))}, {"message", e.message}};
  if (!req.empty()) j["req"] = req;
  if (server_time_ms) j["server_time_ms"] = *server_time_ms;
  return dump(j);
}

}  // namespace

bool Server::Impl::http_intake(lws* wsi, lws_callback_reasons reason, std::uint64_t* slot, void* in, size_t len,
                               int& rc) {
  rc = 0;
  if (reason == LWS_CALLBACK_HTTP) {
    const char* path = static_cast<const char*>(in);
    if (!slot || !path || lws_get_vhost(wsi) != vhost) return false;
    if (std::strcmp(path, "/intake") != 0 && std::strncmp(path, "/intake/", 8) != 0) return false;
    intake_begin(wsi, slot, path);
    return true;
  }
  if (!slot || !(*slot & kHttpExchangeBit)) return false;
  const std::uint64_t id = *slot;
  switch (reason) {
    case LWS_CALLBACK_HTTP_BODY: {
      auto it = http_exchanges.find(id);
      if (it == http_exchanges.end()) return true;
      HttpExchange& x = it->second;
      if (x.early || x.taken) return true;  // refused already: the rest is read and dropped
      if (x.body.size() + len > proto::kMaxFrameBytes) {
        x.early = {413, {ErrorCode::too_large, "the body is over " + std::to_string(proto::kMaxFrameBytes) + " bytes"}};
        std::string().swap(x.body);
      } else {
        x.body.append(static_cast<const char*>(in), len);
      }
      return true;
    }
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      intake_complete(id);
      return true;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      rc = intake_write(id, slot);
      return true;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      // Gone before its answer: an alarm still committing answers into nothing.
      http_exchanges.erase(id);
      *slot = 0;
      return false;  // and libwebsockets' own handling
    default:
      return false;
  }
}

void Server::Impl::intake_begin(lws* wsi, std::uint64_t* slot, const char* path) {
  const std::uint64_t id = kHttpExchangeBit | ++next_http_exchange;
  *slot = id;
  HttpExchange& x = http_exchanges[id];
  x.wsi = wsi;
  const std::string p = path;
  if (p.rfind(kPrefix, 0) == 0) x.path = p.substr(kPrefix.size());
  x.vendor = custom_header(wsi, "x-anxin-vendor:");
  x.timestamp = custom_header(wsi, "x-anxin-timestamp:");
  x.signature = custom_header(wsi, "x-anxin-signature:");
  const bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
  const std::string length_text = known_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  long long length = -1;
  if (!length_text.empty()) {
    auto [end, err] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (err != std::errc() || end != length_text.data() + length_text.size() || length < 0) length = -1;
  }
  auto refuse = [&](int status, ErrorCode code, std::string message) {
    x.early = {status, Error{code, std::move(message)}};
  };
  if (options.intake_secrets.empty())
    refuse(404, ErrorCode::unknown_type,
           "this server's HTTP intake is off: no vendor is configured (docs/configuration.md, \"intake\")");
  else if (x.path != "alarm" && x.path != "heartbeat")
    refuse(404, ErrorCode::unknown_type, "nothing at " + p.substr(0, 128) +
                                             ": POST to /intake/v1/alarm or /intake/v1/heartbeat");
  else if (!post)
    refuse(405, ErrorCode::bad_field, "only POST is allowed at " + p);
  else if (length < 0)
    refuse(411, ErrorCode::missing_field, "a Content-Length header is required");
  else if (!is_json(known_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE)))
    refuse(415, ErrorCode::bad_field, "Content-Type must be application/json");
  else if (length > static_cast<long long>(proto::kMaxFrameBytes))
    refuse(413, ErrorCode::too_large, "the body is over " + std::to_string(proto::kMaxFrameBytes) + " bytes");
  // A POST's body is read first, even when refused already, so that the answer is
  // read by a client still sending, and the connection can carry the next request.
  if (!post || length <= 0) intake_complete(id);
}

void Server::Impl::intake_complete(std::uint64_t id) {
  auto it = http_exchanges.find(id);
  if (it == http_exchanges.end() || it->second.taken) return;
  HttpExchange& x = it->second;
  x.taken = true;
  ++frames_in;
  if (x.early) {
    ++errors_sent;
    return intake_answer(id, x.early->first, error_json(x.early->second, ""));
  }
  const Millis now = clock.now_ms();
  auto stamp = check_signature({x.vendor, x.timestamp, x.signature, x.body}, options.intake_secrets, now,
                               options.intake_window_s);
  std::optional<Error> refused;
  if (!stamp) refused = stamp.error();
  else
    refused = seen_signatures.take(x.vendor, x.signature,
                                   stamp.value() + static_cast<Millis>(options.intake_window_s) * 1000, now);
  if (refused) {
    ++errors_sent;
    char peer[64] = "";
    lws_get_peer_simple(x.wsi, peer, sizeof peer);
    lwsl_warn("HTTP intake: refused a request from %s: %s\n", peer, std::string(code_name(refused->code)).c_str());
    return intake_answer(id, http_status(refused->code),
                         error_json(*refused, "", refused->code == ErrorCode::stale ? std::optional(now) : std::nullopt));
  }
  // The body is the protocol's alarm or heartbeat frame; its "type" is the path's.
  const std::string type = x.path;
  std::string req;
  auto parsed = [&]() -> Result<proto::ClientMessage> {
    nlohmann::json j = nlohmann::json::parse(x.body, nullptr, false);  // not ordered: any number of keys
    if (j.is_discarded()) return Error{ErrorCode::bad_json, "the body is not valid JSON"};
    if (!j.is_object()) return Error{ErrorCode::bad_json, "the body must be a JSON object"};
    if (j.contains("type") && j["type"] != type)
      return Error{ErrorCode::bad_field, "'type' must be \"" + type + "\" at /intake/v1/" + type + ", or left out"};
    j["type"] = type;
    return proto::parse_client(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), &req);
  }();
  if (!parsed) {
    ++errors_sent;
    return intake_answer(id, http_status(parsed.error().code), error_json(parsed.error(), req));
  }
  req = parsed->req;
  IntakeRequest r;
  r.who = Principal{Role::device, "vendor:" + x.vendor};
  DeviceId device;
  std::int64_t seq = 0;
  if (auto* a = std::get_if<AlarmIn>(&parsed->body)) {
    device = a->device;
    seq = a->seq;
    r.what = std::move(*a);
  } else {
    r.what = std::move(std::get<HeartbeatIn>(parsed->body));
  }
  r.done = [this, id, req, device, seq](const IntakeResult& result) {
    if (result.error) return intake_answer(id, http_status(result.error->code), error_json(*result.error, req));
    json ok = result.ack ? json::parse(proto::encode(proto::ServerMessage{req, proto::Ack{device, seq, *result.ack}}))
                         : json{{"type", "ok"}};
    if (!req.empty()) ok["req"] = req;
    intake_answer(id, 200, dump(ok));
  };
  take_in(std::move(r));
}

void Server::Impl::intake_answer(std::uint64_t id, int status, std::string body) {
  auto it = http_exchanges.find(id);
  if (it == http_exchanges.end()) return;  // the client went away meanwhile
  it->second.status = status;
  it->second.answer = std::move(body);
  lws_callback_on_writable(it->second.wsi);
}

int Server::Impl::intake_write(std::uint64_t id, std::uint64_t* slot) {
  auto it = http_exchanges.find(id);
  if (it == http_exchanges.end() || it->second.status == 0) return 0;  // nothing to say yet
  HttpExchange& x = it->second;
  lws* wsi = x.wsi;
  // The headers, then the body at the next writeable: one write each time.
  if (!x.headers_sent) {
    unsigned char buf[LWS_PRE + LWS_RECOMMENDED_MIN_HEADER_SPACE];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, static_cast<unsigned>(x.status), "application/json", x.answer.size(), &p,
                                    end))
      return -1;
    if (x.status == 405 &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ALLOW, reinterpret_cast<const unsigned char*>("POST"), 4, &p,
                                     end))
      return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    x.headers_sent = true;
    lws_callback_on_writable(wsi);
    return 0;
  }
  std::vector<unsigned char> buf(LWS_PRE + x.answer.size());
  std::memcpy(buf.data() + LWS_PRE, x.answer.data(), x.answer.size());
  const int n = lws_write(wsi, buf.data() + LWS_PRE, x.answer.size(), LWS_WRITE_HTTP_FINAL);
  http_exchanges.erase(it);
  *slot = 0;
  if (n < 0) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

}  // namespace anxin::gateway
