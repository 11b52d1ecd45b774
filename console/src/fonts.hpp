// The console's one font: Noto Sans CJK SC, with every CJK Unified Ideograph,
// because an elder's name can hold any character and a '?' box in a name is a
// dispatch error waiting to happen.
#pragma once

#include <string>

struct ImFont;

namespace anxin::console {

struct FontReport {
  bool cjk = false;  // false: the CJK font was missing and ImGui's default is used
  int glyphs = 0;
  int texture_w = 0, texture_h = 0;
  double build_ms = 0;  // time to rasterise and pack the atlas
  std::string path;
};

// Loads the font into ImGui's atlas and builds it, before the renderer uploads it.
// Besides the text face it adds a large face holding only digits and Latin
// punctuation, for the dashboard's figures (all of CJK at a second size would
// double the atlas).
FontReport load_fonts(float size_px);

// The large figures' face, or null before load_fonts (then use the default).
ImFont* figures_font();

}  // namespace anxin::console
