// Private: JSON written straight to text, for the frames sent most (deltas and
// snapshots: issue 15). The tree of nlohmann::json cost an allocation per value and
// 17 % of the network thread at 5,000 alarms/s; this appends to one string. It writes
// what the tree would parse to: the same keys and values (in the order given, where
// the tree sorts them), strings escaped, invalid UTF-8 replaced by U+FFFD (where the
// tree would throw), doubles in the shortest form that reads back the same, always
// with a point or an exponent so they stay floats, and NaN or infinity as null.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace anxin::json_text {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& open() { return sep(), out_ += '{', first_ = true, *this; }
  Writer& close() { return out_ += '}', first_ = false, *this; }
  Writer& open_array() { return sep(), out_ += '[', first_ = true, *this; }
  Writer& close_array() { return out_ += ']', first_ = false, *this; }
  // The key of the next value, or of an object or array opened next. Keys are the
  // protocol's own names, plain ASCII with nothing to escape: written as they are,
  // with the comma before them, in one append.
  Writer& key(std::string_view k) {
    char buf[64];
    if (k.size() + 4 > sizeof buf) {
      sep();
      out_ += '"';
      out_ += k;
      out_ += "\":";
    } else {
      char* p = buf;
      if (!first_) *p++ = ',';
      *p++ = '"';
      p = std::copy(k.begin(), k.end(), p);
      *p++ = '"';
      *p++ = ':';
      out_.append(buf, p);
    }
    first_ = true;  // the value that follows takes no comma
    return *this;
  }

  Writer& value(std::string_view s) { return sep(), string_body(s), *this; }
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(bool b) { return sep(), out_ += b ? "true" : "false", *this; }
  Writer& value(std::nullptr_t) { return sep(), out_ += "null", *this; }
  Writer& value(double d);
  template <class Int, class = std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>>>
  Writer& value(Int n) {
    char buf[24];  // a comma, then 20 digits and a sign at most
    char* p = buf;
    if (!first_) *p++ = ',';
    first_ = false;
    out_.append(buf, std::to_chars(p, buf + sizeof buf, n).ptr);
    return *this;
  }
  // Text that is JSON already (a device's detail, checked by the caller).
  Writer& raw(std::string_view json) { return sep(), out_ += json, *this; }

  template <class V> Writer& field(std::string_view k, const V& v) { return key(k).value(v); }

 private:
  void sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  void string_body(std::string_view s);

  std::string& out_;
  bool first_ = true;
};

inline Writer& Writer::value(double d) {
  sep();
  if (!std::isfinite(d)) return out_ += "null", *this;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, r.ptr - buf);
  out_ += text;
  if (text.find_first_of(".e") == std::string_view::npos) out_ += ".0";
  return *this;
}

// The length of the valid UTF-8 sequence at s[i], or 0.
inline size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))) return 0;  // overlong, surrogate
  if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) return 0;  // overlong, > U+10FFFF
  return n;
}

inline void Writer::string_body(std::string_view s) {
  out_ += '"';
  size_t plain = 0;  // start of the run not yet copied
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t n = utf8_length(s, i)) {
        i += n;
        continue;
      }
    }
    out_.append(s.data() + plain, i - plain);
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      case '\b': out_ += "\\b"; break;
      case '\f': out_ += "\\f"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out_ += "\\u00";
          out_ += hex[c >> 4];
          out_ += hex[c & 15];
        } else {
          out_ += "\xEF\xBF\xBD";  // an invalid byte
        }
    }
    plain = ++i;
  }
  out_.append(s.data() + plain, s.size() - plain);
  out_ += '"';
}

}  // namespace anxin::json_text
