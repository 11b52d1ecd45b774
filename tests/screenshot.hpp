// Checks a console screenshot: the window's size (1440x900 unless given) and more
// than 20 colours, so text, panels and the severity colours, not a blank frame.
#pragma once

#include <string>

namespace anxin::test {
void check_screenshot(const std::string& png_path, int width = 1440, int height = 900);
}
