// Autotest: drives the real console like an operator would, for a test under
// xvfb-run. Once synced with enough incidents it selects the top one and, if
// asked, presses Acknowledge, both as Commands through App::execute (the path
// the views' widgets take); when the acknowledgement has come back as a delta
// it renders a few frames, saves a screenshot and a JSON dump of the state, and
// tells main to exit (0). On timeout (3) it saves both too, to show what it saw.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "app.hpp"

namespace anxin::console {

struct AutotestOptions {
  int incidents = -1;  // -1: autotest off
  bool acknowledge = false;
  int timeout_ms = 20000;
  std::string screenshot;  // PNG path, optional
  std::string dump_state;  // JSON path, optional
};

class Autotest {
 public:
  explicit Autotest(AutotestOptions options);
  bool enabled() const { return options_.incidents >= 0; }

  // Before drawing: what the "operator" does this frame.
  Commands act(const App& app);
  // After rendering, before the buffer swap: an exit code once finished.
  std::optional<int> after_render(const App& app, int framebuffer_w, int framebuffer_h);
  // True while it needs the next frame at once rather than on the next event.
  bool busy() const { return enabled() && (stage_ == Stage::selected || stage_ == Stage::settle); }

 private:
  enum class Stage { wait_sync, selected, wait_ack, settle };
  bool write_artifacts(const App& app, int w, int h) const;
  bool write_screenshot(int w, int h) const;
  bool write_dump(const App& app) const;

  AutotestOptions options_;
  Stage stage_ = Stage::wait_sync;
  IncidentId target_ = 0;
  int settle_frames_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace anxin::console
