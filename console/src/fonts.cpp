#include "fonts.hpp"

#include <imgui.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace anxin::console {
namespace {

// Debian's fonts-noto-cjk. The collection holds JP, KR, SC, TC, HK faces in that
// order (fc-query): index 2 is Simplified Chinese, whose glyph shapes are the
// ones mainland readers expect for shared code points.
constexpr const char* kFontPath = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
constexpr int kSimplifiedChineseFace = 2;

// Static: the atlas keeps a pointer to the ranges until it is built.
constexpr ImWchar kRanges[] = {
    0x0020, 0x00FF,  // Basic Latin + Latin-1 (·, ×)
    0x2000, 0x206F,  // General Punctuation (—, …, ‘ ’ “ ”)
    0x2190, 0x21FF,  // Arrows (↑ ↓ →), in the key hints and interval names
    0x2200, 0x22FF,  // Mathematical Operators (≥), in the map legend
    0x25A0, 0x25FF,  // Geometric Shapes (● ■ ▲)
    0x3000, 0x30FF,  // CJK Symbols and Punctuation (、。《》「」), kana
    0x4E00, 0x9FFF,  // CJK Unified Ideographs: all of them, for names
    0xFF00, 0xFFEF,  // Halfwidth and Fullwidth Forms (，：（）)
    0,
};

constexpr ImWchar kFigureRanges[] = {0x0020, 0x007E, 0};

ImFont* g_figures = nullptr;  // owned by the atlas; set once at start-up

}  // namespace

ImFont* figures_font() { return g_figures; }

FontReport load_fonts(float size_px) {
  ImGuiIO& io = ImGui::GetIO();
  FontReport report;
  report.path = kFontPath;
  if (!std::filesystem::exists(kFontPath)) {
    std::fprintf(stderr, "anxin-console: %s is missing (install fonts-noto-cjk); Chinese will not render\n",
                 kFontPath);
    io.Fonts->AddFontDefault();
  } else {
    ImFontConfig cfg;
    cfg.FontNo = kSimplifiedChineseFace;
    // Ideographs are dense and drawn at whole pixels: horizontal oversampling
    // would triple the atlas and its build time for no visible gain.
    cfg.OversampleH = 1;
    cfg.OversampleV = 1;
    cfg.PixelSnapH = true;
    report.cjk = io.Fonts->AddFontFromFileTTF(kFontPath, size_px, &cfg, kRanges) != nullptr;
    if (!report.cjk) io.Fonts->AddFontDefault();
    ImFontConfig big;
    big.FontNo = kSimplifiedChineseFace;
    big.OversampleH = 2;
    g_figures = io.Fonts->AddFontFromFileTTF(kFontPath, size_px * 1.9f, &big, kFigureRanges);
  }
  // Wide texture: ~21 000 glyphs would otherwise make a very tall one.
  io.Fonts->TexDesiredWidth = 4096;

  const auto t0 = std::chrono::steady_clock::now();
  io.Fonts->Build();
  report.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  report.glyphs = io.Fonts->Fonts.empty() ? 0 : io.Fonts->Fonts[0]->Glyphs.Size;
  report.texture_w = io.Fonts->TexWidth;
  report.texture_h = io.Fonts->TexHeight;
  std::fprintf(stderr, "anxin-console: font atlas %d glyphs, %dx%d, built in %.0f ms\n", report.glyphs,
               report.texture_w, report.texture_h, report.build_ms);
  return report;
}

}  // namespace anxin::console
