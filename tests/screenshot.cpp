#include "screenshot.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <stb_image.h>

namespace anxin::test {

void check_screenshot(const std::string& path, int width, int height) {
  INFO(path);
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &n, 3);
  REQUIRE(pixels);
  CHECK(w == width);
  CHECK(h == height);
  std::set<unsigned> colours;
  for (int i = 0; i < w * h; i += 7) colours.insert(pixels[3 * i] << 16 | pixels[3 * i + 1] << 8 | pixels[3 * i + 2]);
  stbi_image_free(pixels);
  CHECK(colours.size() > 20);
}

}  // namespace anxin::test
