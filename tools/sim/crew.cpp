#include "crew.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "anxin/core/candidates.hpp"
#include "anxin/core/geo.hpp"
#include "anxin/gateway/ws_client.hpp"
#include "district.hpp"

namespace anxin::sim {

using json = nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

// What people on a visit write (assumptions, in the register of the seeds' reports).
const char* const kOutcomes[] = {"老人情况稳定，已安抚", "协助老人起身，无明显外伤", "已陪同家属送医",
                                 "设备误触，已讲解使用方法", "血压偏高，已联系家庭医生"};
const char* const kNotes[] = {"老人独自在家，精神尚可", "膝盖轻微擦伤，已消毒包扎", "已提醒按时服药",
                              "家属已到场", "老人情绪低落，陪聊半小时"};
const char* const kHazards[] = {"卫生间地面湿滑，无扶手", "燃气软管老化", "电线私拉乱接"};
const char* const kMoreAreas[] = {"health", "home_safety", "emotional", "care_advice"};
const char* const kDeclines[] = {"正在另一户探访", "电动车没电了"};

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }
Steady::time_point after(double seconds) {
  return Steady::now() + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(seconds));
}
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Crew::Impl {
  enum class State { signing_in, idle, offered, travelling, on_scene };
  struct Member {
    Worker w;
    size_t conn = 0;
    State state = State::signing_in;
    std::int64_t assignment = 0;
    bool will_accept = true;
    double lat = 0, lon = 0;            // where the phone says it is
    double home_lat = 0, home_lon = 0;  // idle workers drift around here
    double from_lat = 0, from_lon = 0, to_lat = 0, to_lon = 0;
    Steady::time_point phase_start, phase_end, next_position;
    std::optional<Steady::time_point> login_again;  // after E_THROTTLED: one address checks two at once
  };

  CrewOptions o;
  Rng rng;
  TravelModel travel;
  gateway::WsClientGroup group;
  std::vector<Member> crew;
  std::mutex mu;
  std::deque<std::pair<size_t, std::string>> inbox;  // (member, frame), from the client thread
  CrewCounts counts;
  std::atomic<bool> running{false};

  Impl(CrewOptions options, const std::vector<Worker>& workers) : o(std::move(options)), rng(o.seed ^ 0xc4e3ULL) {
    for (const Worker& w : workers) {
      Member m;
      m.w = w;
      m.lat = m.home_lat = w.lat;
      m.lon = m.home_lon = w.lon;
      crew.push_back(m);
    }
    for (size_t i = 0; i < crew.size(); ++i) {
      gateway::ClientOptions co;
      co.host = o.host;
      co.port = o.port;
      gateway::ClientHandlers h;
      h.on_open = [this, i] { login(i); };
      h.on_message = [this, i](std::string text) {
        std::lock_guard lock(mu);
        inbox.emplace_back(i, std::move(text));
      };
      h.on_close = [this, i](const std::string&) {
        std::lock_guard lock(mu);
        inbox.emplace_back(i, "");  // "" = the connection dropped
      };
      crew[i].conn = group.add(co, std::move(h));
    }
  }

  bool send(size_t i, const json& frame) { return group.send(crew[i].conn, frame.dump()); }
  void login(size_t i) {
    send(i, {{"type", "login"}, {"role", "field"}, {"username", "w" + std::to_string(crew[i].w.id)},
             {"password", o.password}, {"req", "l"}});
  }
  double scaled(int lo_s, int hi_s, double floor_s) {
    return std::max(floor_s, static_cast<double>(rng.uniform(lo_s, hi_s)) / o.speedup);
  }
  template <class T, size_t N> const char* any(const T (&list)[N]) { return list[static_cast<size_t>(rng.uniform(0, static_cast<std::int64_t>(N) - 1))]; }

  void step() {
    std::deque<std::pair<size_t, std::string>> got;
    {
      std::lock_guard lock(mu);
      got.swap(inbox);
    }
    for (auto& [i, text] : got) on_frame(crew[i], i, text);
    for (size_t i = 0; i < crew.size(); ++i) tick(crew[i], i);
  }

  void on_frame(Member& m, size_t i, const std::string& text) {
    if (text.empty()) {
      m.state = State::signing_in;  // the client reconnects and logs in again
      return;
    }
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return;
    const std::string type = j.value("type", "");
    if (type == "welcome") {
      ++counts.signed_in;
      m.state = State::idle;
      m.next_position = Steady::now();
      send(i, {{"type", "duty"}, {"on", true}, {"req", "d"}});
    } else if (type == "error" && j.value("req", "") == "l") {
      m.login_again = after(1 + static_cast<double>(rng.uniform(0, 1000)) / 1000);  // throttled; try again
    } else if (type == "error") {
      ++counts.refused;
      // A step the server refused (the incident closed meanwhile, say): start afresh.
      if (m.state != State::signing_in && j.value("req", "") != "p") m.state = State::idle, m.assignment = 0;
    } else if (type == "task") {
      on_task(m, j);
    }
  }

  void on_task(Member& m, const json& j) {
    const std::string event = j.value("event", "");
    const json& a = j.value("assignment", json::object());
    const std::int64_t id = a.value("id", std::int64_t{0});
    if (event == "offer" && m.state == State::idle) {
      ++counts.offers;
      const json& elder = j.value("elder", json::object());
      m.assignment = id;
      m.state = State::offered;
      m.to_lat = elder.value("lat", m.lat);
      m.to_lon = elder.value("lon", m.lon);
      m.will_accept = rng.chance(0.85);
      m.phase_end = after(scaled(4, 25, 1.5));  // reading the offer
    } else if (id == m.assignment && m.state != State::signing_in) {
      const std::string state = a.value("state", "");
      if (event == "offer_expired" || event == "offer_withdrawn" || state == "cancelled" || state == "completed")
        m.state = State::idle, m.assignment = 0;
    }
  }

  void tick(Member& m, size_t i) {
    const auto now = Steady::now();
    switch (m.state) {
      case State::signing_in:
        if (m.login_again && now >= *m.login_again) m.login_again.reset(), login(i);
        return;
      case State::idle:
        break;
      case State::offered:
        if (now < m.phase_end) break;
        if (!m.will_accept) {
          ++counts.declined;
          send(i, {{"type", "decline"}, {"assignment_id", m.assignment}, {"reason", any(kDeclines)}, {"req", "x"}});
          m.state = State::idle, m.assignment = 0;
          break;
        }
        ++counts.accepted;
        send(i, {{"type", "accept"}, {"assignment_id", m.assignment}, {"req", "a"}});
        m.state = State::travelling;
        m.from_lat = m.lat, m.from_lon = m.lon;
        m.phase_start = now;
        m.phase_end = after(std::max(2.0, distance_m(m.lat, m.lon, m.to_lat, m.to_lon) * travel.detour_factor /
                                              travel.speed_mps(m.w.mode) / o.speedup));
        break;
      case State::travelling: {
        const double total = std::chrono::duration<double>(m.phase_end - m.phase_start).count();
        const double f = std::min(1.0, seconds_since(m.phase_start) / total);
        m.lat = m.from_lat + (m.to_lat - m.from_lat) * f;
        m.lon = m.from_lon + (m.to_lon - m.from_lon) * f;
        if (f < 1) break;
        ++counts.arrived;
        position(m, i);
        send(i, {{"type", "on_scene"}, {"assignment_id", m.assignment}, {"req", "s"}});
        m.state = State::on_scene;
        m.phase_end = after(scaled(8 * 60, 25 * 60, 3));
        break;
      }
      case State::on_scene:
        if (now < m.phase_end) break;
        complete(m, i);
        m.home_lat = m.lat, m.home_lon = m.lon;  // the next task starts from this home
        m.state = State::idle, m.assignment = 0;
        break;
    }
    if (now >= m.next_position) {
      if (m.state == State::idle) {  // a few metres' drift around the spot
        m.lat = m.home_lat + static_cast<double>(rng.uniform(-150, 150)) * 1e-6;
        m.lon = m.home_lon + static_cast<double>(rng.uniform(-150, 150)) * 1e-6;
      }
      position(m, i);
      m.next_position = after(m.state == State::travelling ? std::max(0.5, 5 / o.speedup) : std::max(2.0, 30 / o.speedup));
    }
  }

  void position(const Member& m, size_t i) {
    if (send(i, {{"type", "position"}, {"lat", m.lat}, {"lon", m.lon}, {"accuracy_m", 12}, {"at_ms", wall_ms()},
                 {"mode", name_of(m.w.mode)}, {"req", "p"}}))
      ++counts.positions;
  }

  void complete(const Member& m, size_t i) {
    ++counts.completed;
    json areas = json::array({"emergency", any(kMoreAreas)});
    json report = {{"areas", areas}, {"notes", any(kNotes)}};
    if (rng.chance(0.1)) report["hazards"] = any(kHazards);
    send(i, {{"type", "complete"}, {"assignment_id", m.assignment}, {"outcome", any(kOutcomes)}, {"report", report},
             {"req", "c"}});
  }
};

Crew::Crew(CrewOptions options, const std::vector<Worker>& workers)
    : impl_(std::make_unique<Impl>(std::move(options), workers)) {}
Crew::~Crew() { stop(); }
void Crew::start() {
  impl_->running = true;
  impl_->group.start();
}
void Crew::step() { impl_->step(); }
void Crew::stop() {
  if (impl_->running.exchange(false)) impl_->group.stop();
}
CrewCounts Crew::counts() const { return impl_->counts; }

}  // namespace anxin::sim
