#include "frame.hpp"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <time.h>

#include "views.hpp"

namespace anxin::console {
namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

FrameResult run_frame(GLFWwindow* window, App& app, Autotest& autotest) {
  FrameResult r;
  const double t0 = thread_cpu_ms();
  app.pump();
  r.commands = autotest.act(app);

  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGuiIO& io = ImGui::GetIO();
  autotest.press_keys(io);
  ImGui::NewFrame();
  r.commands += draw_console(app);
  ImGui::Render();
  const double t1 = thread_cpu_ms();

  int w = 0, h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  glViewport(0, 0, w, h);
  const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  glClearColor(bg.x, bg.y, bg.z, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  r.exit_code = autotest.after_render(app, w, h);
  const double t2 = thread_cpu_ms();
  r.build_ms = t1 - t0;
  r.render_ms = t2 - t1;
  return r;
}

}  // namespace anxin::console
