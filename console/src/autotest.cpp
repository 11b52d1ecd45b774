#include "autotest.hpp"

#include <GLFW/glfw3.h>  // brings the system GL header, for glReadPixels
#include <stb/stb_image_write.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace anxin::console {

namespace {
constexpr int kSettleFrames = 3;  // let the last delta's effects reach the screen
}

Autotest::Autotest(AutotestOptions options)
    : options_(std::move(options)),
      deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms)) {}

Commands Autotest::act(const App& app) {
  Commands c;
  if (!enabled()) return c;
  switch (stage_) {
    case Stage::wait_sync: {
      const auto q = app.replica().queue();
      if (app.live() && static_cast<int>(q.size()) >= options_.incidents && !q.empty()) {
        target_ = q.front()->id;
        c.select = target_;
        stage_ = Stage::selected;
        std::fprintf(stderr, "anxin-console: autotest: %zu incidents; selected #%lld\n", q.size(),
                     static_cast<long long>(target_));
      }
      break;
    }
    case Stage::selected:
      // A frame later, with the incident on screen, as a person would.
      if (options_.acknowledge) {
        c.acknowledge = target_;
        stage_ = Stage::wait_ack;
      } else {
        stage_ = Stage::settle;
      }
      break;
    case Stage::wait_ack: {
      const Incident* i = app.replica().incident(target_);
      const AckRequest* req = app.ack_request(target_);
      if (i && i->state == IncidentState::acknowledged && req && req->status == AckRequest::Status::ok) {
        std::fprintf(stderr, "anxin-console: autotest: #%lld acknowledged by %s\n", static_cast<long long>(target_),
                     i->acknowledged_by.c_str());
        stage_ = Stage::settle;
      }
      break;
    }
    case Stage::settle:
      break;
  }
  return c;
}

std::optional<int> Autotest::after_render(const App& app, int w, int h) {
  if (!enabled()) return std::nullopt;
  if (stage_ == Stage::wait_ack) {
    const AckRequest* req = app.ack_request(target_);
    if (req && req->status != AckRequest::Status::sending && req->status != AckRequest::Status::ok) {
      std::fprintf(stderr, "anxin-console: autotest: acknowledge of #%lld failed: %s\n",
                   static_cast<long long>(target_), req->error.empty() ? "no reply" : req->error.c_str());
      write_artifacts(app, w, h);
      return 3;
    }
  }
  if (stage_ == Stage::settle && ++settle_frames_ >= kSettleFrames) return write_artifacts(app, w, h) ? 0 : 1;
  if (std::chrono::steady_clock::now() > deadline_) {
    std::fprintf(stderr, "anxin-console: autotest: timed out after %d ms (connection %s, %zu incidents)\n",
                 options_.timeout_ms, name_of(app.link_state()).data(), app.replica().incidents().size());
    write_artifacts(app, w, h);  // what the screen showed helps explain a failed test
    return 3;
  }
  return std::nullopt;
}

bool Autotest::write_artifacts(const App& app, int w, int h) const {
  bool ok = true;
  if (!options_.screenshot.empty()) ok = write_screenshot(w, h) && ok;
  if (!options_.dump_state.empty()) ok = write_dump(app) && ok;
  return ok;
}

bool Autotest::write_screenshot(int w, int h) const {
  std::vector<unsigned char> pixels(static_cast<size_t>(w) * h * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  // GL's first row is the bottom one; PNG's is the top.
  stbi_flip_vertically_on_write(1);
  if (!stbi_write_png(options_.screenshot.c_str(), w, h, 3, pixels.data(), w * 3)) {
    std::fprintf(stderr, "anxin-console: cannot write %s\n", options_.screenshot.c_str());
    return false;
  }
  std::fprintf(stderr, "anxin-console: screenshot %dx%d in %s\n", w, h, options_.screenshot.c_str());
  return true;
}

bool Autotest::write_dump(const App& app) const {
  using nlohmann::json;
  const Replica& r = app.replica();
  json incidents = json::array();
  for (const Incident* i : r.queue()) {
    const protocol::ElderCard* e = r.elder(i->elder);
    incidents.push_back({{"id", i->id},
                         {"elder_id", i->elder},
                         {"elder_name", e ? e->name : ""},
                         {"state", name_of(i->state)},
                         {"lead_kind", name_of(i->lead_kind())},
                         {"alert_count", i->alert_count()}});
  }
  json dump = {{"connection", name_of(app.link_state())},
               {"seq", r.seq()},
               {"incidents", incidents},
               {"selected", app.selected() ? json(*app.selected()) : json(nullptr)},
               {"acknowledged_by_me", app.acknowledged_by_me()}};
  std::ofstream f(options_.dump_state);
  f << dump.dump(2) << "\n";
  if (!f) {
    std::fprintf(stderr, "anxin-console: cannot write %s\n", options_.dump_state.c_str());
    return false;
  }
  return true;
}

}  // namespace anxin::console
