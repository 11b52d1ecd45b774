#include "anxin/gateway/line.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace anxin::gateway {
namespace fs = std::filesystem;

namespace {

// A Call-ID may hold '@', '/' and more: keep file names to letters, digits, '-', '.'.
std::string file_safe(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_');
  return out.substr(0, 80);
}

}  // namespace

Result<LineConfig> load_line_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::bad_field, "cannot read the line file " + path};
  const fs::path base = fs::absolute(path).parent_path();
  auto local = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };
  try {
    const auto j = nlohmann::json::parse(in);
    LineConfig c;
    const std::string work = local(j.value("workdir", std::string("line")));
    const int ring_s = j.value("ring_timeout_s", 30);
    for (const auto& s : j.at("seats")) {
      SeatConfig seat;
      seat.name = s.at("name").get<std::string>();
      if (seat.name.empty() || file_safe(seat.name) != seat.name)
        return Error{ErrorCode::bad_field, "a seat's name must be letters, digits, '-' or '.': " + seat.name};
      seat.baresip = j.value("baresip", seat.baresip);
      seat.dir = (fs::path(work) / seat.name).string();
      seat.sip_addr = s.value("sip_addr", seat.sip_addr);
      seat.sip_port = s.at("sip_port").get<int>();
      seat.ctrl_port = s.at("ctrl_port").get<int>();
      if (seat.ctrl_port == seat.sip_port + 1)
        return Error{ErrorCode::bad_field, seat.name + ": ctrl_port must not be sip_port + 1 (SIP TLS takes it)"};
      seat.account = s.value("account", std::string());
      seat.rtp_min = s.value("rtp_min", seat.rtp_min);
      seat.rtp_max = s.value("rtp_max", seat.rtp_max);
      seat.audio_source = local(s.value("audio_source", std::string()));
      seat.ring_timeout_ms = ring_s * 1000;
      c.seats.push_back(std::move(seat));
    }
    if (c.seats.empty()) return Error{ErrorCode::bad_field, "the line file names no seats"};
    if (j.contains("dial")) {
      for (const auto& [number, uri] : j["dial"].items()) {
        if (number == "default") c.dial_default = uri.get<std::string>();
        else c.dial[number] = uri.get<std::string>();
      }
    }
    if (c.dial_default.find("{number}") == std::string::npos)
      return Error{ErrorCode::bad_field, "dial.default must contain {number}, e.g. sip:{number}@pbx.example"};
    c.recordings = local(j.value("recordings", std::string("recordings")));
    c.retention_days = j.value("retention_days", c.retention_days);
    if (c.retention_days < 1) return Error{ErrorCode::bad_field, "retention_days must be at least 1"};
    for (auto& s : c.seats) s.record_dir = (fs::path(c.recordings) / ".incoming" / s.name).string();
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Error{ErrorCode::bad_field, "the line file " + path + ": " + e.what()};
  }
}

Line::Line(LineConfig config, std::function<void()> wake) : config_(std::move(config)), wake_(std::move(wake)) {
  fs::create_directories(config_.recordings);
  for (const auto& sc : config_.seats) {
    fs::create_directories(sc.dir);
    fs::create_directories(sc.record_dir);
    seats_.push_back(std::make_unique<Seat>(sc, [this](const SeatEvent& e) {
      {
        std::lock_guard lock(mu_);
        events_.push_back(e);
      }
      wake_();
    }));
  }
}

Line::~Line() { seats_.clear(); }  // each Seat stops its agent and thread

std::vector<SeatEvent> Line::take_events() {
  std::lock_guard lock(mu_);
  return std::exchange(events_, {});
}

Seat* Line::seat(const std::string& name) {
  for (auto& s : seats_)
    if (s->config().name == name) return s.get();
  return nullptr;
}

const Seat* Line::seat(const std::string& name) const { return const_cast<Line*>(this)->seat(name); }

std::string Line::uri_for(const std::string& number) const {
  if (auto it = config_.dial.find(number); it != config_.dial.end()) return it->second;
  std::string uri = config_.dial_default;
  uri.replace(uri.find("{number}"), 8, number);
  return uri;
}

std::pair<std::string, std::string> Line::keep_recordings(const SeatEvent& closed, IncidentId incident) const {
  std::pair<std::string, std::string> names;
  const std::string folder = incident ? std::to_string(incident) : "unknown";
  std::error_code ec;
  fs::create_directories(fs::path(config_.recordings) / folder, ec);
  auto keep = [&](const std::string& from, std::string& name) {
    if (from.empty() || !fs::exists(from, ec)) return;
    name = folder + "/" + file_safe(fs::path(from).filename().string());
    fs::rename(from, fs::path(config_.recordings) / name, ec);
    if (ec) name.clear();
  };
  keep(closed.heard_wav, names.first);
  keep(closed.sent_wav, names.second);
  return names;
}

Result<std::string> Line::read_recording(const std::string& name) const {
  const fs::path p = fs::path(config_.recordings) / name;
  std::ifstream in(p, std::ios::binary);
  if (name.find("..") != std::string::npos || !in)
    return Error{ErrorCode::bad_field, "no recording " + name};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int Line::purge_recordings() const {
  const auto keep_for = std::chrono::hours(24) * config_.retention_days;
  const auto now = fs::file_time_type::clock::now();
  int n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(config_.recordings, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".wav") continue;
    if (it->path().string().find("/.incoming/") != std::string::npos) continue;
    if (now - it->last_write_time(ec) > keep_for && fs::remove(it->path(), ec)) ++n;
  }
  return n;
}

}  // namespace anxin::gateway
