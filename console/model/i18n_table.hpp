// Internal to the i18n files: one text in both languages.
#pragma once

#include <functional>

#include "i18n.hpp"

namespace anxin::console {

struct Text {
  const char* zh;
  const char* en;
};

inline const char* pick(Lang lang, Text t) { return lang == Lang::zh ? t.zh : t.en; }

void for_each_message(const std::function<void(const char*)>& each);  // i18n.cpp

}  // namespace anxin::console
