#include "alarm_scan.hpp"

#include <charconv>
#include <cstdint>
#include <utility>

namespace anxin::protocol {

namespace {

// A frame read left to right. Every reader returns nothing at the first thing that is
// not plain, and the frame then goes to the tree.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  bool at_end() { return skip_space(), i_ == s_.size(); }
  bool eat(char c) {
    skip_space();
    if (i_ == s_.size() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool at(char c) { return skip_space(), i_ < s_.size() && s_[i_] == c; }

  // A string of printable ASCII without escapes: the bytes between its quotes. Such a
  // string reads and writes back as it stands.
  std::optional<std::string_view> string() {
    if (!eat('"')) return std::nullopt;
    const size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return s_.substr(start, i_++ - start);
      if (c < 0x20 || c > 0x7e || c == '\\') return std::nullopt;
    }
    return std::nullopt;
  }

  // An integer of at most 18 digits (so it fits 64 bits) written as the tree writes
  // it back: no leading zero, no minus zero, no fraction or exponent.
  std::optional<std::int64_t> integer() {
    skip_space();
    const bool minus = i_ < s_.size() && s_[i_] == '-';
    if (minus) ++i_;
    const size_t digits = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    const size_t n = i_ - digits;
    if (n == 0 || n > 18 || (s_[digits] == '0' && (n > 1 || minus))) return std::nullopt;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return std::nullopt;
    std::int64_t v = 0;
    std::from_chars(s_.data() + digits, s_.data() + i_, v);
    return minus ? -v : v;
  }

  // A string or an integer, as it stands in the frame (a string with its quotes),
  // which is also how the tree writes it back.
  std::optional<std::string_view> value() {
    skip_space();
    const size_t start = i_;
    if (at('"') ? !string() : !integer()) return std::nullopt;
    return s_.substr(start, i_ - start);
  }

  // An object's members, each handed to `member(key)`, which reads its value. False
  // when the object, or a member, is not plain.
  template <class F> bool members(F&& member) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    do {
      auto key = string();
      if (!key || !eat(':') || !member(*key)) return false;
    } while (eat(','));
    return eat('}');
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// A detail of strings and integers, written as the tree writes it: compact, its keys
// in the tree's (byte) order, which must also be the frame's, each key once.
std::optional<std::string> plain_detail(Scanner& in) {
  std::string out = "{";
  std::string_view last;
  bool first = true;
  const bool plain = in.members([&](std::string_view key) {
    if (!first && !(last < key)) return false;
    if (!first) out += ',';
    first = false;
    last = key;
    out += '"';
    out += key;
    out += "\":";
    auto v = in.value();
    if (v) out += *v;
    return v.has_value();
  });
  if (!plain) return std::nullopt;
  return out + '}';
}

}  // namespace

bool plain_object(std::string_view text) {
  Scanner in(text);
  return in.members([&](std::string_view) { return in.value().has_value(); }) && in.at_end();
}

std::optional<ClientMessage> scan_alarm(std::string_view text) {
  if (text.size() > kMaxFrameBytes) return std::nullopt;
  enum Field : unsigned { type = 1, req = 2, device = 4, seq = 8, kind = 16, device_time_ms = 32, battery = 64,
                          boot = 128, detail_field = 256 };
  Scanner in(text);
  ClientMessage m;
  AlarmIn a;
  std::string_view type_text, kind_text;
  std::int64_t battery_pct = 0;
  unsigned seen = 0;  // a known field twice is not plain
  auto once = [&](Field f) { return !(std::exchange(seen, seen | f) & f); };
  auto read_string = [&](Field f, auto& into) {
    auto s = in.string();
    if (!s || !once(f)) return false;
    into = *s;
    return true;
  };
  auto read_integer = [&](Field f, std::int64_t& into) {
    auto n = in.integer();
    if (!n || !once(f)) return false;
    into = *n;
    return true;
  };
  const bool plain = in.members([&](std::string_view key) {
    // Another type stops here, before its frame is read twice.
    if (key == "type") return read_string(type, type_text) && type_text == "alarm";
    if (key == "req") return read_string(req, m.req);
    if (key == "device") return read_string(device, a.device);
    if (key == "seq") return read_integer(seq, a.seq);
    if (key == "kind") return read_string(kind, kind_text);
    if (key == "device_time_ms") return read_integer(device_time_ms, a.device_time_ms);
    if (key == "battery_pct") return read_integer(battery, battery_pct);
    if (key == "boot") return read_string(boot, a.boot);
    if (key == "detail") {
      auto d = plain_detail(in);
      if (!d || !once(detail_field)) return false;
      a.detail = std::move(*d);
      return true;
    }
    // A field alarms do not have, which the tree passes over too.
    return in.value().has_value();
  });
  constexpr unsigned required = type | device | seq | kind | device_time_ms;
  if (!plain || !in.at_end() || (seen & required) != required) return std::nullopt;
  // What the tree would refuse, it refuses itself, in its own words.
  const auto k = parse_enum<AlertKind>(kind_text);
  if (!k || m.req.size() > kMaxReqIdBytes || boot_fault(a.boot) || battery_pct < 0 || battery_pct > 100)
    return std::nullopt;
  a.kind = *k;
  if (seen & battery) a.battery_pct = static_cast<int>(battery_pct);
  m.body = std::move(a);
  return m;
}

}  // namespace anxin::protocol
