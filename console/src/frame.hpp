// One frame of the console, shared by the normal loop and the benchmark: pump the
// link, let the autotest act, build the ImGui frame from the views, and render
// it (everything but the buffer swap). The CPU time it took is measured on this
// thread's clock, so waiting for vsync or the X server is not counted.
#pragma once

#include <optional>

#include "app.hpp"
#include "autotest.hpp"

struct GLFWwindow;

namespace anxin::console {

struct FrameResult {
  Commands commands;             // to execute after the swap
  std::optional<int> exit_code;  // the autotest has finished
  double build_ms = 0;           // pump, views and ImGui::Render: the console's own work
  double render_ms = 0;          // the GL draw calls for the frame
};

FrameResult run_frame(GLFWwindow* window, App& app, Autotest& autotest);

}  // namespace anxin::console
