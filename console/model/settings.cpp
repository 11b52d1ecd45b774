#include "settings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace anxin::console {

std::string settings_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path dir;
  if (xdg && *xdg) dir = xdg;
  else if (home && *home) dir = std::filesystem::path(home) / ".config";
  else return "";
  return (dir / "anxin" / "console.conf").string();
}

Settings load_settings(const std::string& path) {
  Settings s;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "lang") {
      if (auto l = parse_lang(value)) s.lang = *l;
    } else if (key == "host" && !value.empty()) {
      s.host = value;
    } else if (key == "port") {
      const int port = std::atoi(value.c_str());
      if (port > 0 && port < 65536) s.port = port;
    } else if (key == "username") {
      s.username = value;
    } else if (key == "seat") {
      s.seat = value;
    }
  }
  return s;
}

namespace {
// One value per line: a newline in a user name must not start a new key.
std::string one_line(std::string v) {
  for (char& c : v)
    if (c == '\n' || c == '\r') c = ' ';
  return v;
}
}  // namespace

bool save_settings(const std::string& path, const Settings& s) {
  if (path.empty()) return false;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << "# anxin-console settings; safe to delete\n"
      << "lang=" << (s.lang == Lang::zh ? "zh" : "en") << "\n"
      << "host=" << one_line(s.host) << "\n"
      << "port=" << s.port << "\n"
      << "username=" << one_line(s.username) << "\n"
      << "seat=" << one_line(s.seat) << "\n";
    if (!f) return false;
  }
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace anxin::console
