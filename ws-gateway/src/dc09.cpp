// The SIA DC-09 codec (dc09.hpp): pure functions, no exceptions from bad bytes.
#include "dc09.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>

namespace anxin::gateway::dc09 {

namespace {

// The longest frame: <LF>, CRC, 0LLL with LLL at most 0xFFF, the body, <CR>.
constexpr size_t kMaxBody = 0xFFF;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return c - 'a' + 10;
}
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::optional<unsigned> hex4(std::string_view s) {
  if (s.size() != 4) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (!is_hex(c)) return std::nullopt;
    v = v * 16 + static_cast<unsigned>(hex_value(c));
  }
  return v;
}

std::string hex_upper(std::string_view bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads `n` digits at `pos` of `s` into `out`.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!is_digit(s[pos + i])) return false;
    out = out * 10 + (s[pos + i] - '0');
  }
  return true;
}

// Pad characters for an encrypted reply: printable, never '[', ']' or '|'.
std::string pad_of(size_t n) {
  static const char* alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string random(n, '\0');
  if (n && RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(n)) != 1)
    return std::string(n, '0');  // no randomness to be had: a constant pad is still valid DC-09
  for (auto& c : random) c = alphabet[static_cast<unsigned char>(c) % 62];
  return random;
}

// Reads the content after the data's '[': "data]" then "[x-data]"... then an optional
// "_timestamp", and nothing else.
Error read_content(std::string_view content, Message& m) {
  const size_t close = content.find(']');
  if (close == std::string_view::npos) return Error::bad_data;
  m.data = std::string(content.substr(0, close));
  if (m.data.find('[') != std::string::npos) return Error::bad_data;
  size_t pos = close + 1;
  while (pos < content.size() && content[pos] == '[') {
    const size_t end = content.find(']', pos + 1);
    if (end == std::string_view::npos) return Error::bad_data;
    std::string_view x = content.substr(pos + 1, end - pos - 1);
    if (x.find('[') != std::string_view::npos) return Error::bad_data;
    m.xdata.emplace_back(x);
    pos = end + 1;
  }
  if (pos == content.size()) return Error::none;
  if (content[pos] != '_') return Error::bad_data;
  auto t = parse_timestamp(content.substr(pos));
  if (!t) return Error::bad_data;
  m.time_ms = *t;
  return Error::none;
}

// Reads an optional "#acct|" (or a bare "|") before event data.
std::string_view strip_account(std::string_view data, std::string* account) {
  if (!data.empty() && data[0] == '#') {
    const size_t bar = data.find('|');
    if (bar == std::string_view::npos) return {};
    if (account) {
      account->clear();
      for (char c : data.substr(1, bar - 1)) *account += upper(c);
    }
    return data.substr(bar + 1);
  }
  if (!data.empty() && data[0] == '|') return data.substr(1);
  return data;
}

bool valid_account(std::string_view a) {
  if (a.size() < 3 || a.size() > 16) return false;
  for (char c : a)
    if (!is_hex(c)) return false;
  return true;
}

}  // namespace

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001) : crc >> 1;
  }
  return crc;
}

std::string timestamp(Millis at) {
  const std::time_t secs = static_cast<std::time_t>(at / 1000 - (at % 1000 < 0 ? 1 : 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "_%02d:%02d:%02d,%02d-%02d-%04d", tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_year + 1900);
  return buf;
}

std::optional<Millis> parse_timestamp(std::string_view t) {
  if (!t.empty() && t[0] == '_') t.remove_prefix(1);
  // HH:MM:SS,MM-DD-YYYY
  if (t.size() != 19 || t[2] != ':' || t[5] != ':' || t[8] != ',' || t[11] != '-' || t[14] != '-')
    return std::nullopt;
  int hh, mi, ss, mo, dd, yy;
  if (!digits(t, 0, 2, hh) || !digits(t, 3, 2, mi) || !digits(t, 6, 2, ss) || !digits(t, 9, 2, mo) ||
      !digits(t, 12, 2, dd) || !digits(t, 15, 4, yy))
    return std::nullopt;
  static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (hh > 23 || mi > 59 || ss > 59 || mo < 1 || mo > 12 || dd < 1 || yy < 1970) return std::nullopt;
  if (dd > month_days[mo - 1] + (mo == 2 && leap(yy) ? 1 : 0)) return std::nullopt;
  const std::int64_t days = days_from_civil(yy, static_cast<unsigned>(mo), static_cast<unsigned>(dd));
  return ((days * 24 + hh) * 60 + mi) * 60 * 1000 + ss * 1000LL;
}

std::string frame(std::string_view body) {
  char head[16];
  std::snprintf(head, sizeof head, "\n%04X%04X", crc16(body), static_cast<unsigned>(body.size()));
  std::string out(head);
  out += body;
  out += '\r';
  return out;
}

std::string_view name_of(Error e) {
  switch (e) {
    case Error::none: return "none";
    case Error::bad_frame: return "bad_frame";
    case Error::bad_crc: return "bad_crc";
    case Error::bad_length: return "bad_length";
    case Error::bad_header: return "bad_header";
    case Error::unknown_token: return "unknown_token";
    case Error::no_account: return "no_account";
    case Error::no_key: return "no_key";
    case Error::not_encrypted: return "not_encrypted";
    case Error::bad_ciphertext: return "bad_ciphertext";
    case Error::bad_data: return "bad_data";
    case Error::bad_timestamp: return "bad_timestamp";
    case Error::stale_timestamp: return "stale_timestamp";
  }
  return "?";
}

Reply reply_for(Error e) {
  switch (e) {
    case Error::none: return Reply::ack;
    case Error::bad_frame:
    case Error::bad_crc:
    case Error::bad_length: return Reply::none;
    case Error::stale_timestamp: return Reply::nak;
    default: return Reply::duh;
  }
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (!is_hex(hex[i]) || !is_hex(hex[i + 1])) return std::nullopt;
    out += static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1]));
  }
  return out;
}

std::optional<std::string> aes_cbc(std::string_view key, std::string_view in, bool encrypt) {
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_cbc()
                             : key.size() == 24 ? EVP_aes_192_cbc()
                             : key.size() == 32 ? EVP_aes_256_cbc()
                                                : nullptr;
  if (!cipher || in.empty() || in.size() % 16 || in.size() > (1u << 20)) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (!ctx) return std::nullopt;
  const unsigned char iv[16] = {};  // DC-09: the IV is all zeros
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, k, iv, encrypt ? 1 : 0) != 1) return std::nullopt;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  std::string out(in.size() + 16, '\0');
  int n = 0, tail = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) != 1)
    return std::nullopt;
  if (EVP_CipherFinal_ex(ctx.get(), o + n, &tail) != 1) return std::nullopt;
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

Error check_frame(std::string_view wire, std::string_view* body_out) {
  // <LF> crc(4) 0LLL(4) body <CR>; the body opens with the quote of its id.
  if (wire.size() < 11 || wire.size() > kMaxBody + 10 || wire.front() != '\n' || wire.back() != '\r')
    return Error::bad_frame;
  const auto crc = hex4(wire.substr(1, 4));
  const auto length = hex4(wire.substr(5, 4));
  std::string_view body = wire.substr(9, wire.size() - 10);
  if (!crc || !length || body.front() != '"') return Error::bad_frame;
  if (*crc != crc16(body)) return Error::bad_crc;
  if (*length != body.size()) return Error::bad_length;
  if (body_out) *body_out = body;
  return Error::none;
}

Decoded decode(std::string_view wire, KeyOf key_of, const void* key_ctx, Millis now_ms, Window window) {
  Decoded out;
  Message& m = out.message;
  Header& h = m.header;
  std::string_view body;
  if ((out.error = check_frame(wire, &body)) != Error::none) return out;

  // The header: "id" seq [Rrcvr] Lpref [#acct] '['.
  auto fail = [&](Error e) {
    out.error = e;
    return out;
  };
  size_t pos = 1;
  if (pos < body.size() && body[pos] == '*') h.encrypted = true, ++pos;
  const size_t quote = body.find('"', pos);
  if (quote == std::string_view::npos || quote == pos || quote - pos > 8) return fail(Error::bad_header);
  for (size_t i = pos; i < quote; ++i)
    if (!is_upper(body[i]) && !is_digit(body[i]) && body[i] != '-') return fail(Error::bad_header);
  h.id = std::string(body.substr(pos, quote - pos));
  pos = quote + 1;
  int seq = 0;
  if (!digits(body, pos, 4, seq)) return fail(Error::bad_header);
  h.seq = std::string(body.substr(pos, 4));
  pos += 4;
  auto field = [&](char letter, size_t max, std::string& into) {
    if (pos >= body.size() || body[pos] != letter) return false;
    size_t end = pos + 1;
    while (end < body.size() && is_hex(body[end]) && end - pos <= max) ++end;
    if (end == pos + 1 || end - pos - 1 > max) return false;
    into = std::string(body.substr(pos, end - pos));
    pos = end;
    return true;
  };
  if (pos < body.size() && body[pos] == 'R' && !field('R', 6, h.receiver)) return fail(Error::bad_header);
  if (!field('L', 6, h.line)) return fail(Error::bad_header);
  if (pos < body.size() && body[pos] == '#') {
    const size_t end = body.find('[', pos);
    if (end == std::string_view::npos || !valid_account(body.substr(pos + 1, end - pos - 1)))
      return fail(Error::bad_header);
    for (char c : body.substr(pos + 1, end - pos - 1)) h.account += upper(c);
    pos = end;
  }
  if (pos >= body.size() || body[pos] != '[') return fail(Error::bad_header);
  ++pos;
  if (h.id != "ADM-CID" && h.id != "SIA-DCS" && h.id != "NULL") return fail(Error::unknown_token);

  // The content, decrypted first when encrypted (DC-09 encryption: AES-CBC, zero IV,
  // the plain text padded at its front with characters other than '[', ']' and '|' to
  // whole blocks, the pad ended by '|' when data follows).
  std::string plain;
  std::string_view content = body.substr(pos);
  if (h.encrypted) {
    if (h.account.empty()) return fail(Error::no_account);
    const std::string key = key_of ? key_of(key_ctx, h.account) : std::string();
    if (key.empty()) return fail(Error::no_key);
    auto cipher = from_hex(content);
    if (!cipher) return fail(Error::bad_ciphertext);
    auto decrypted = aes_cbc(key, *cipher, false);
    if (!decrypted) return fail(Error::bad_ciphertext);
    plain = std::move(*decrypted);
    for (unsigned char c : plain)
      if (c < 0x20 || c > 0x7e) return fail(Error::bad_ciphertext);
    const size_t end_of_pad = plain.find_first_of("|[]");
    if (end_of_pad == std::string::npos || plain[end_of_pad] == '[') return fail(Error::bad_ciphertext);
    content = std::string_view(plain).substr(end_of_pad + (plain[end_of_pad] == '|' ? 1 : 0));
  }
  if (Error e = read_content(content, m); e != Error::none)
    return fail(h.encrypted ? Error::bad_ciphertext : e);

  std::string data_account;
  if (h.id == "ADM-CID") {
    m.cid = parse_contact_id(m.data, &data_account);
    if (!m.cid) return fail(Error::bad_data);
  } else if (h.id == "SIA-DCS") {
    auto events = parse_sia(m.data, &data_account);
    if (!events) return fail(Error::bad_data);
    m.sia = std::move(*events);
  }
  m.account = !h.account.empty() ? h.account : data_account;
  if (m.account.empty() && h.id != "NULL") return fail(Error::no_account);
  if (!h.encrypted && !m.account.empty() && key_of && !key_of(key_ctx, m.account).empty())
    return fail(Error::not_encrypted);
  // An encrypted message must carry its time (the window is what stops a replay).
  if (h.encrypted && !m.time_ms) return fail(Error::bad_timestamp);
  if (m.time_ms && (*m.time_ms < now_ms - window.before_s * 1000LL || *m.time_ms > now_ms + window.after_s * 1000LL))
    return fail(Error::stale_timestamp);
  return out;
}

std::optional<ContactId> parse_contact_id(std::string_view data, std::string* account) {
  std::string_view s = strip_account(data, account);
  // Qeee gg zzz
  if (s.size() != 11 || s[4] != ' ' || s[7] != ' ') return std::nullopt;
  ContactId c;
  int q = 0;
  if (!digits(s, 0, 1, q) || (q != 1 && q != 3 && q != 6)) return std::nullopt;
  if (!digits(s, 1, 3, c.event)) return std::nullopt;
  for (size_t i : {5, 6, 8, 9, 10})
    if (!is_hex(s[i])) return std::nullopt;
  c.qualifier = q;
  for (size_t i : {5, 6}) c.group += upper(s[i]);
  for (size_t i : {8, 9, 10}) c.zone += upper(s[i]);
  return c;
}

std::optional<std::vector<SiaEvent>> parse_sia(std::string_view data, std::string* account) {
  std::string_view s = strip_account(data, account);
  if (s.empty() || (s[0] != 'N' && s[0] != 'O')) return std::nullopt;
  std::vector<SiaEvent> events;
  std::string area;
  size_t pos = 1;
  while (pos < s.size()) {
    if (s[pos] == '/') {
      ++pos;
      continue;
    }
    if (pos + 1 >= s.size()) return std::nullopt;
    if (is_lower(s[pos]) && is_lower(s[pos + 1])) {  // a modifier: ri1, id12, ti12:30, ...
      const std::string_view key = s.substr(pos, 2);
      pos += 2;
      const size_t start = pos;
      while (pos < s.size() && (is_digit(s[pos]) || s[pos] == ':')) ++pos;
      if (key == "ri") area = std::string(s.substr(start, pos - start));
      continue;
    }
    if (is_upper(s[pos]) && is_upper(s[pos + 1])) {  // an event: FA01, CL0^text^
      SiaEvent e;
      e.code = std::string(s.substr(pos, 2));
      e.area = area;
      pos += 2;
      const size_t start = pos;
      while (pos < s.size() && is_digit(s[pos]) && pos - start < 4) ++pos;
      e.zone = std::string(s.substr(start, pos - start));
      if (pos < s.size() && s[pos] == '^') {
        const size_t end = s.find('^', pos + 1);
        if (end == std::string_view::npos) return std::nullopt;
        pos = end + 1;
      }
      events.push_back(std::move(e));
      continue;
    }
    return std::nullopt;
  }
  if (events.empty()) return std::nullopt;
  return events;
}

std::string ack(const Header& h, std::string_view key, Millis now_ms) {
  const bool encrypt = h.encrypted && !key.empty();
  std::string body = encrypt ? "\"*ACK\"" : "\"ACK\"";
  body += h.seq.empty() ? "0000" : h.seq;
  body += h.receiver;
  body += h.line.empty() ? "L0" : h.line;
  if (!h.account.empty()) body += "#" + h.account;
  body += '[';
  if (!encrypt) {
    body += ']';
    return frame(body);
  }
  std::string plain = "]" + timestamp(now_ms);
  plain = pad_of(16 - plain.size() % 16) + plain;
  auto cipher = aes_cbc(key, plain, true);
  if (!cipher) return frame(body + "]");  // a key of a bad size: the config refuses those
  body += hex_upper(*cipher);
  return frame(body);
}

std::string duh(const Header& h) {
  std::string body = "\"DUH\"";
  body += h.seq.empty() ? "0000" : h.seq;
  body += h.receiver;
  body += h.line.empty() ? "L0" : h.line;
  if (!h.account.empty()) body += "#" + h.account;
  body += "[]";
  return frame(body);
}

std::string nak(Millis now_ms) { return frame("\"NAK\"0000R0L0A0[]" + timestamp(now_ms)); }

std::string normal_zone(std::string_view zone) {
  bool all_digits = !zone.empty();
  for (char c : zone) all_digits = all_digits && is_digit(c);
  std::string z(zone);
  if (all_digits && z.size() < 3) z.insert(0, 3 - z.size(), '0');
  return z;
}

// The table of docs/dc09.md. Contact ID event codes are SIA DC-05's; the SIA codes
// DC-03's (names as pysiaalarm's code list gives them).
Action action_of(const ContactId& cid) {
  struct Row {
    int event;
    Action::What what;
    AlertKind kind;
    std::string_view label;
  };
  static constexpr Row rows[] = {
      {100, Action::alarm, AlertKind::sos, "medical"},
      {101, Action::alarm, AlertKind::sos, "personal emergency"},
      {102, Action::alarm, AlertKind::inactivity, "fail to report in"},
      {110, Action::alarm, AlertKind::smoke, "fire"},
      {111, Action::alarm, AlertKind::smoke, "smoke"},
      {112, Action::alarm, AlertKind::smoke, "combustion"},
      {114, Action::alarm, AlertKind::smoke, "heat"},
      {120, Action::alarm, AlertKind::sos, "panic"},
      {121, Action::alarm, AlertKind::sos, "duress"},
      {122, Action::alarm, AlertKind::sos, "silent panic"},
      {123, Action::alarm, AlertKind::sos, "audible panic"},
      {151, Action::alarm, AlertKind::gas, "gas detected"},
      {154, Action::alarm, AlertKind::water_leak, "water leakage"},
      {162, Action::alarm, AlertKind::gas, "carbon monoxide"},
      {302, Action::alarm, AlertKind::low_battery, "low system battery"},
      {384, Action::alarm, AlertKind::low_battery, "RF low battery"},
      {601, Action::heartbeat, AlertKind::sos, "manual test"},
      {602, Action::heartbeat, AlertKind::sos, "periodic test"},
      {603, Action::heartbeat, AlertKind::sos, "periodic RF transmission"},
  };
  for (const auto& r : rows) {
    if (r.event != cid.event) continue;
    // A restore (3) or a condition already reported (6) opens nothing: it says the
    // device is alive.
    if (cid.qualifier != 1) return {Action::heartbeat, r.kind, cid.qualifier == 3 ? "restore" : "status"};
    return {r.what, r.kind, r.label};
  }
  return {Action::unsupported, AlertKind::sos, "unsupported"};
}

Action action_of(const SiaEvent& event) {
  struct Row {
    std::string_view code;
    Action::What what;
    AlertKind kind;
    std::string_view label;
  };
  static constexpr Row rows[] = {
      {"MA", Action::alarm, AlertKind::sos, "medical alarm"},
      {"QA", Action::alarm, AlertKind::sos, "emergency alarm"},
      {"PA", Action::alarm, AlertKind::sos, "panic alarm"},
      {"HA", Action::alarm, AlertKind::sos, "holdup alarm"},
      {"FA", Action::alarm, AlertKind::smoke, "fire alarm"},
      {"KA", Action::alarm, AlertKind::smoke, "heat alarm"},
      {"GA", Action::alarm, AlertKind::gas, "gas alarm"},
      {"WA", Action::alarm, AlertKind::water_leak, "water alarm"},
      {"YT", Action::alarm, AlertKind::low_battery, "system battery trouble"},
      {"XT", Action::alarm, AlertKind::low_battery, "transmitter battery trouble"},
      {"RP", Action::heartbeat, AlertKind::sos, "automatic test"},
      {"RX", Action::heartbeat, AlertKind::sos, "manual test"},
      // Restores: the alarm's letter with H (alarm restore) or R (restoral).
      {"MH", Action::heartbeat, AlertKind::sos, "restore"}, {"MR", Action::heartbeat, AlertKind::sos, "restore"},
      {"QH", Action::heartbeat, AlertKind::sos, "restore"}, {"QR", Action::heartbeat, AlertKind::sos, "restore"},
      {"PH", Action::heartbeat, AlertKind::sos, "restore"}, {"PR", Action::heartbeat, AlertKind::sos, "restore"},
      {"HH", Action::heartbeat, AlertKind::sos, "restore"}, {"HR", Action::heartbeat, AlertKind::sos, "restore"},
      {"FH", Action::heartbeat, AlertKind::sos, "restore"}, {"FR", Action::heartbeat, AlertKind::sos, "restore"},
      {"KH", Action::heartbeat, AlertKind::sos, "restore"}, {"KR", Action::heartbeat, AlertKind::sos, "restore"},
      {"GH", Action::heartbeat, AlertKind::sos, "restore"}, {"GR", Action::heartbeat, AlertKind::sos, "restore"},
      {"WH", Action::heartbeat, AlertKind::sos, "restore"}, {"WR", Action::heartbeat, AlertKind::sos, "restore"},
      {"YR", Action::heartbeat, AlertKind::sos, "restore"}, {"XR", Action::heartbeat, AlertKind::sos, "restore"},
  };
  for (const auto& r : rows)
    if (r.code == event.code) return {r.what, r.kind, r.label};
  return {Action::unsupported, AlertKind::sos, "unsupported"};
}

}  // namespace anxin::gateway::dc09
