// What the console remembers between shifts: the language, the last server, the
// last user name and the desk's phone seat (never a password or a session). One small key=value file,
// $XDG_CONFIG_HOME/anxin/console.conf (default ~/.config/anxin/console.conf), so
// an operator can read or delete it. No ImGui.
#pragma once

#include <optional>
#include <string>

#include "i18n.hpp"

namespace anxin::console {

struct Settings {
  Lang lang = Lang::zh;
  std::string host = "127.0.0.1";
  int port = 7600;
  std::string username;
  std::string seat;  // the SIP line's seat this desk claims (--seat); empty: none
};

// The file's path, or empty when neither XDG_CONFIG_HOME nor HOME is set.
std::string settings_path();

// Missing or unreadable file: the defaults. Unknown keys are ignored.
Settings load_settings(const std::string& path);
// Writes atomically (temp file, then rename); false on failure. Creates the directory.
bool save_settings(const std::string& path, const Settings& settings);

}  // namespace anxin::console
