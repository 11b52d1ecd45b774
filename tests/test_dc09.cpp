// SIA DC-09 (docs/dc09.md): the codec against an encoder written here from the
// specification, against frames published by other implementations, and the
// receiver inside a real anxin-server over real TCP and UDP sockets and a real file.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <set>
#include <sstream>
#include <thread>

#include "../ws-gateway/src/dc09.hpp"
#include "dc09_client.hpp"
#include "process.hpp"
#include "support.hpp"

using namespace anxin;
namespace dc09 = anxin::gateway::dc09;

using test::sql_text;

namespace {

// --- an encoder written from the specification, not from the codec ---------------------

// DC-09's CRC: the CRC-16 of SIA DC-07, generator x^16 + x^15 + x^2 + 1, bits taken
// least significant first, so the register shifts right and XORs the reflected
// polynomial 0xA001; it starts at 0. Computed here bit by bit over the message.
unsigned spec_crc(const std::string& s) {
  unsigned reg = 0;
  for (unsigned char byte : s)
    for (int bit = 0; bit < 8; ++bit) {
      const unsigned in = (byte >> bit) & 1u;
      const unsigned out = reg & 1u;
      reg >>= 1;
      if (in ^ out) reg ^= 0xA001u;
    }
  return reg;
}

std::string hex4(unsigned v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04X", v & 0xFFFFu);
  return b;
}

// <LF> crc 0LLL "id"...<CR>: CRC and length (hex) of everything from the quote to the <CR>.
std::string spec_frame(const std::string& body) { return "\n" + hex4(spec_crc(body)) + hex4(body.size()) + body + "\r"; }

// _HH:MM:SS,MM-DD-YYYY in UTC.
std::string spec_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "_%H:%M:%S,%m-%d-%Y", &tm);
  return b;
}

std::time_t now_s() { return std::time(nullptr); }

std::string to_hex(const std::string& bytes) {
  std::string out;
  char b[3];
  for (unsigned char c : bytes) std::snprintf(b, sizeof b, "%02X", c), out += b;
  return out;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// AES-128-CBC, zero IV, no padding of its own.
std::string aes128(const std::string& key, const std::string& in, bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  unsigned char iv[16] = {};
  EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key.data()), iv,
                    encrypt ? 1 : 0);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  std::string out(in.size() + 16, '\0');
  int n = 0, m = 0;
  EVP_CipherUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                   reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  EVP_CipherFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n, &m);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<size_t>(n + m));
  return out;
}

// A plain message: "id"seq[Rrcvr]Lpref#acct[data]_timestamp.
std::string spec_message(const std::string& id, const std::string& seq, const std::string& account,
                         const std::string& data, const std::string& time = spec_time(now_s()),
                         const std::string& receiver = "", const std::string& line = "L0") {
  return spec_frame("\"" + id + "\"" + seq + receiver + line + "#" + account + "[" + data + "]" + time);
}

// An encrypted one: "*id"seq Lpref #acct [ hex(AES(pad | data ] _timestamp)) — the pad
// (characters other than [ ] |) fills the plain text to whole 16-byte blocks.
std::string spec_encrypted(const std::string& key, const std::string& id, const std::string& seq,
                           const std::string& account, const std::string& data,
                           const std::string& time = spec_time(now_s())) {
  std::string plain = "|" + data + "]" + time;
  plain = std::string(16 - plain.size() % 16, 'x') + plain;
  return spec_frame("\"*" + id + "\"" + seq + "L0#" + account + "[" + to_hex(aes128(key, plain, true)));
}

// A reply read with the spec's rules: the CRC and length checked, the body returned.
std::string reply_body(const std::string& wire) {
  REQUIRE(wire.size() >= 11);
  REQUIRE(wire.front() == '\n');
  REQUIRE(wire.back() == '\r');
  const std::string body = wire.substr(9, wire.size() - 10);
  CHECK(wire.substr(1, 4) == hex4(spec_crc(body)));
  CHECK(wire.substr(5, 4) == hex4(body.size()));
  return body;
}

// --- sockets ---------------------------------------------------------------------

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

class TcpPanel {
 public:
  explicit TcpPanel(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    auto a = loopback(port);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~TcpPanel() { close(fd_); }
  void send(const std::string& bytes) { REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == (ssize_t)bytes.size()); }
  // The next reply frame (<LF> ... <CR>), or "" after `wait`.
  std::string reply(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (auto cr = buf_.find('\r'); cr != std::string::npos) {
        std::string f = buf_.substr(0, cr + 1);
        buf_.erase(0, cr + 1);
        return f;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char b[4096];
      const ssize_t n = recv(fd_, b, sizeof b, 0);
      if (n <= 0) return "";
      buf_.append(b, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

std::string udp_exchange(int port, const std::string& frame) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  auto a = loopback(port);
  sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  pollfd p{fd, POLLIN, 0};
  std::string out;
  if (poll(&p, 1, 5000) > 0) {
    char b[4096];
    const ssize_t n = recv(fd, b, sizeof b, 0);
    if (n > 0) out.assign(b, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

const std::string kKey = std::string("0123456789ABCDEF");  // AES-128, as raw bytes
const std::string kKeyHex = "30313233343536373839414243444546";

gateway::ServerOptions dc09_options() {
  gateway::ServerOptions o;
  o.dc09_port = 0;
  gateway::Dc09Account plain;
  plain.device = "D1";                 // the elder's SOS button (tests/support.cpp)
  plain.zones = {{"002", "D2"}};       // and her smoke alarm on zone 2
  o.dc09.accounts["1234"] = plain;
  gateway::Dc09Account secret;
  secret.device = "D3";
  secret.key_hex = kKeyHex;
  o.dc09.accounts["5678"] = secret;
  return o;
}

std::string key_of_test(const void*, std::string_view account) { return account == "5678" ? kKey : std::string(); }

}  // namespace

// --- the codec ---------------------------------------------------------------------------

TEST_CASE("dc09 crc is the CRC-16 the specification describes", "[dc09]") {
  CHECK(dc09::crc16("123456789") == 0xBB3D);  // the catalogue check value of CRC-16/ARC
  for (std::string s : {"", "\"NULL\"0000L0#1234[]", "\"ADM-CID\"0001R1L1#ABCDEF[#ABCDEF|1101 01 001]"})
    CHECK(dc09::crc16(s) == spec_crc(s));
}

TEST_CASE("dc09 timestamps are UTC in the specification's format", "[dc09]") {
  const std::time_t t = 1764720000 + 3661;  // 2025-12-03 01:01:01 UTC
  CHECK(dc09::timestamp(t * 1000LL) == "_01:01:01,12-03-2025");
  CHECK(dc09::parse_timestamp("_01:01:01,12-03-2025") == t * 1000LL);
  CHECK(dc09::parse_timestamp(spec_time(t)) == t * 1000LL);
  CHECK(dc09::parse_timestamp("_24:00:00,12-03-2025") == std::nullopt);
  CHECK(dc09::parse_timestamp("_10:00:00,02-30-2025") == std::nullopt);
  CHECK(dc09::parse_timestamp("_10:00:00,02-29-2024").has_value());
  CHECK(dc09::parse_timestamp("_1:00:00,02-28-2024") == std::nullopt);
}

TEST_CASE("dc09 decodes Contact ID and SIA-DCS frames built from the specification", "[dc09]") {
  const Millis now = now_s() * 1000LL;
  auto d = dc09::decode(spec_message("ADM-CID", "0042", "1234", "#1234|1101 01 007", spec_time(now_s()), "R12", "L3"),
                        key_of_test, nullptr, now, {});
  REQUIRE(d.error == dc09::Error::none);
  CHECK(d.message.header.seq == "0042");
  CHECK(d.message.header.receiver == "R12");
  CHECK(d.message.header.line == "L3");
  CHECK(d.message.account == "1234");
  REQUIRE(d.message.cid);
  CHECK(d.message.cid->qualifier == 1);
  CHECK(d.message.cid->event == 101);
  CHECK(d.message.cid->group == "01");
  CHECK(d.message.cid->zone == "007");
  CHECK(dc09::action_of(*d.message.cid).what == dc09::Action::alarm);
  CHECK(dc09::action_of(*d.message.cid).kind == AlertKind::sos);

  d = dc09::decode(spec_message("SIA-DCS", "0007", "1234", "#1234|Nri1/WA02"), key_of_test, nullptr, now, {});
  REQUIRE(d.error == dc09::Error::none);
  REQUIRE(d.message.sia.size() == 1);
  CHECK(d.message.sia[0].code == "WA");
  CHECK(d.message.sia[0].zone == "02");
  CHECK(d.message.sia[0].area == "1");
  CHECK(dc09::normal_zone(d.message.sia[0].zone) == "002");
  CHECK(dc09::action_of(d.message.sia[0]).kind == AlertKind::water_leak);

  // An encrypted message with the account's key; the ACK to it is encrypted too.
  d = dc09::decode(spec_encrypted(kKey, "ADM-CID", "0009", "5678", "#5678|1151 00 001"), key_of_test, nullptr, now, {});
  REQUIRE(d.error == dc09::Error::none);
  CHECK(d.message.header.encrypted);
  REQUIRE(d.message.cid);
  CHECK(d.message.cid->event == 151);
  const std::string body = reply_body(dc09::ack(d.message.header, kKey, now));
  REQUIRE(body.rfind("\"*ACK\"0009L0#5678[", 0) == 0);
  const std::string plain = aes128(kKey, from_hex(body.substr(body.find('[') + 1)), false);
  CHECK(plain.size() % 16 == 0);
  CHECK(plain.substr(plain.size() - 21) == "]" + dc09::timestamp(now));
  CHECK(plain.substr(0, plain.size() - 21).find_first_of("[]|") == std::string::npos);  // only pad before it
}

TEST_CASE("dc09 refuses what it cannot trust or handle with the right reply", "[dc09]") {
  const Millis now = now_s() * 1000LL;
  auto error_of = [&](const std::string& wire) { return dc09::decode(wire, key_of_test, nullptr, now, {}).error; };
  std::string good = spec_message("ADM-CID", "0001", "1234", "#1234|1101 00 001");
  CHECK(error_of(good) == dc09::Error::none);

  std::string bad_crc = good;
  bad_crc[1] = bad_crc[1] == '0' ? '1' : '0';
  CHECK(error_of(bad_crc) == dc09::Error::bad_crc);
  CHECK(dc09::reply_for(dc09::Error::bad_crc) == dc09::Reply::none);
  std::string bad_length = good;
  bad_length.replace(5, 4, hex4(good.size() - 9));  // one more than the body
  bad_length.replace(1, 4, hex4(spec_crc(good.substr(9, good.size() - 10))));
  CHECK(error_of(bad_length) == dc09::Error::bad_length);
  CHECK(error_of("\n0000") == dc09::Error::bad_frame);
  CHECK(error_of(good.substr(0, good.size() - 1)) == dc09::Error::bad_frame);

  // Outside the window: 41 s behind or 21 s ahead (DC-09's +20/-40 s).
  CHECK(error_of(spec_message("ADM-CID", "0001", "1234", "#1234|1101 00 001", spec_time(now_s() - 41))) ==
        dc09::Error::stale_timestamp);
  CHECK(error_of(spec_message("ADM-CID", "0001", "1234", "#1234|1101 00 001", spec_time(now_s() + 21))) ==
        dc09::Error::stale_timestamp);
  CHECK(error_of(spec_message("ADM-CID", "0001", "1234", "#1234|1101 00 001", spec_time(now_s() - 39))) ==
        dc09::Error::none);
  CHECK(dc09::reply_for(dc09::Error::stale_timestamp) == dc09::Reply::nak);

  CHECK(error_of(spec_message("ACR-SF", "0001", "1234", "#1234|1101 00 001")) == dc09::Error::unknown_token);
  CHECK(error_of(spec_message("ADM-CID", "0001", "1234", "#1234|1101 00")) == dc09::Error::bad_data);
  CHECK(error_of(spec_message("ADM-CID", "0001", "1234", "#1234|9101 00 001")) == dc09::Error::bad_data);
  CHECK(error_of(spec_message("SIA-DCS", "0001", "1234", "#1234|X")) == dc09::Error::bad_data);
  // A keyed account must encrypt; an encrypted message needs a key, and the right one.
  CHECK(error_of(spec_message("ADM-CID", "0001", "5678", "#5678|1101 00 001")) == dc09::Error::not_encrypted);
  CHECK(error_of(spec_encrypted(kKey, "ADM-CID", "0001", "1234", "#1234|1101 00 001")) == dc09::Error::no_key);
  CHECK(error_of(spec_encrypted("FEDCBA9876543210", "ADM-CID", "0001", "5678", "#5678|1101 00 001")) ==
        dc09::Error::bad_ciphertext);
  CHECK(dc09::reply_for(dc09::Error::bad_ciphertext) == dc09::Reply::duh);

  // The NAK is never encrypted and carries the receiver's time.
  const std::string nak = reply_body(dc09::nak(now));
  CHECK(nak == "\"NAK\"0000R0L0A0[]" + dc09::timestamp(now));
  dc09::Header h;
  h.seq = "0031", h.receiver = "R2", h.line = "L1", h.account = "ABC";
  CHECK(reply_body(dc09::duh(h)) == "\"DUH\"0031R2L1#ABC[]");
  CHECK(reply_body(dc09::ack(h, "", now)) == "\"ACK\"0031R2L1#ABC[]");
}

// Frames published by pysiaalarm (github.com/eavanvalkenburg/pysiaalarm, MIT),
// tests/test_sia_package_cases.py, quoted verbatim (their lines lack <LF> and <CR>).
TEST_CASE("dc09 reads frames published by pysiaalarm", "[dc09]") {
  auto wire = [](const std::string& line) { return "\n" + line + "\r"; };
  // case_null: an encrypted NULL of account AAAB. pysiaalarm's test key KEY =
  // "AAAAAAAAAAAAAAAA" (tests/test_utils.py) is used as its 16 ASCII bytes.
  const std::string null_line =
      R"(76D80055"*NULL"0000R0L0#AAAB[B4BC8B40D0E6D959D6BEA78E88CC0B2155741A3C44FBB96D476A3E557CAD64D9)";
  CHECK(dc09::check_frame(wire(null_line)) == dc09::Error::none);
  auto pysia_key = [](const void*, std::string_view account) {
    return account == "AAAB" ? std::string(16, 'A') : std::string();
  };
  // It decrypts to "ppppppppppp]_18:24:52,07-05-2020": read at that time, it is taken.
  const Millis sent = *dc09::parse_timestamp("_18:24:52,07-05-2020");
  auto d = dc09::decode(wire(null_line), pysia_key, nullptr, sent + 5000, {});
  REQUIRE(d.error == dc09::Error::none);
  CHECK(d.message.header.id == "NULL");
  CHECK(d.message.header.encrypted);
  CHECK(d.message.time_ms == sent);
  // Today it is years old: NAK.
  CHECK(dc09::decode(wire(null_line), pysia_key, nullptr, now_s() * 1000LL, {}).error == dc09::Error::stale_timestamp);

  // case_encrypted_adm: its key is not published; the frame's CRC and length hold.
  const std::string adm_line =
      R"(D0850078"*ADM-CID"6879R0L0#123F[64F7ADD9BA9377DBF2C014BC709329BEEE345B5F20C60B7EB9D2C6B8C222666B13D0B4A114B448B0AC555FCC658DB6EE)";
  CHECK(dc09::check_frame(wire(adm_line)) == dc09::Error::none);
  CHECK(dc09::decode(wire(adm_line), pysia_key, nullptr, 0, {}).error == dc09::Error::no_key);

  // case_adm_cid2: "3401 01 057" is a closing (qualifier 3, event 401) of user 57.
  // Its CRC holds, but its length field "0047" is the body's 47 bytes in decimal;
  // DC-09's length is hex (0x002F), so this receiver gives it no answer.
  const std::string cid_line = R"(57150047"ADM-CID"0247R4F39L4F39#4F39[#4F39|3401 01 057])";
  CHECK(dc09::check_frame(wire(cid_line)) == dc09::Error::bad_length);
  std::string fixed = cid_line;
  fixed.replace(4, 4, "002F");
  d = dc09::decode(wire(fixed), pysia_key, nullptr, 0, {});
  REQUIRE(d.error == dc09::Error::none);
  CHECK(d.message.header.receiver == "R4F39");
  CHECK(d.message.header.line == "L4F39");
  CHECK(d.message.account == "4F39");
  REQUIRE(d.message.cid);
  CHECK(d.message.cid->qualifier == 3);
  CHECK(d.message.cid->event == 401);
  CHECK(d.message.cid->group == "01");
  CHECK(d.message.cid->zone == "057");
  CHECK(dc09::action_of(*d.message.cid).what == dc09::Action::unsupported);  // opening/closing: DUH

  // case_code_jc / case_bug: SIA-DCS data as panels send it (their lengths are not
  // the bodies'; the data parser reads them).
  auto events = dc09::parse_sia("|Nri2/JC12");
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  CHECK((*events)[0].code == "JC");
  CHECK((*events)[0].zone == "12");
  CHECK((*events)[0].area == "2");
  std::string account;
  events = dc09::parse_sia("#123456|Nri1CL0^VX FRONTE ^", &account);
  REQUIRE(events);
  CHECK(account == "123456");
  CHECK((*events)[0].code == "CL");
  CHECK((*events)[0].zone == "0");
  events = dc09::parse_sia("Nri1/WA000");  // case_wa
  REQUIRE(events);
  CHECK(dc09::action_of((*events)[0]).kind == AlertKind::water_leak);
}

TEST_CASE("dc09 maps the event codes of docs/dc09.md", "[dc09]") {
  struct Row {
    int event;
    dc09::Action::What what;
    AlertKind kind;
  };
  auto row = GENERATE(Row{100, dc09::Action::alarm, AlertKind::sos}, Row{101, dc09::Action::alarm, AlertKind::sos},
                      Row{110, dc09::Action::alarm, AlertKind::smoke}, Row{111, dc09::Action::alarm, AlertKind::smoke},
                      Row{151, dc09::Action::alarm, AlertKind::gas}, Row{154, dc09::Action::alarm, AlertKind::water_leak},
                      Row{302, dc09::Action::alarm, AlertKind::low_battery},
                      Row{602, dc09::Action::heartbeat, AlertKind::sos},
                      Row{130, dc09::Action::unsupported, AlertKind::sos});
  dc09::ContactId cid;
  cid.event = row.event;
  const auto a = dc09::action_of(cid);
  CHECK(a.what == row.what);
  if (a.what == dc09::Action::alarm) CHECK(a.kind == row.kind);
  cid.qualifier = 3;  // every restore of a code we take is only a sign of life
  CHECK(dc09::action_of(cid).what == (row.what == dc09::Action::unsupported ? dc09::Action::unsupported
                                                                              : dc09::Action::heartbeat));
}

// --- the receiver in a real server ----------------------------------------------------

TEST_CASE("dc09 acks an alarm only once it is in the file and a resend adds nothing", "[dc09]") {
  test::Centre centre(true, dc09_options());
  const int port = centre.server().dc09_port();
  REQUIRE(port > 0);
  TcpPanel panel(port);
  const std::string frame = spec_message("ADM-CID", "0001", "1234", "#1234|1101 00 001");
  panel.send(frame);
  const std::string ack = panel.reply();
  CHECK(reply_body(ack) == "\"ACK\"0001L0#1234[]");
  // Acked means committed: the row is in the file already.
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
  CHECK(sql_text(centre.db(), "SELECT device_id || ' ' || kind || ' ' || device_seq FROM alerts") == "D1 sos 1");
  const std::string detail = sql_text(centre.db(), "SELECT detail FROM alerts");
  CHECK(detail.find("\"via\":\"dc09\"") != std::string::npos);
  CHECK(detail.find("\"code\":\"1101\"") != std::string::npos);

  panel.send(frame);  // the panel did not hear the ACK and sends it again
  CHECK(reply_body(panel.reply()) == "\"ACK\"0001L0#1234[]");
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
  // Again, stamped afresh (a panel may stamp each transmission): still the same alarm.
  panel.send(spec_message("ADM-CID", "0001", "1234", "#1234|1101 00 001", spec_time(now_s() + 2)));
  CHECK(reply_body(panel.reply()) == "\"ACK\"0001L0#1234[]");
  CHECK(test::count_rows(centre.db(), "alerts") == 1);

  // A zone of its own: zone 2 is the smoke alarm D2, in a SIA-DCS message.
  panel.send(spec_message("SIA-DCS", "0002", "1234", "#1234|Nri1/FA02"));
  CHECK(reply_body(panel.reply()) == "\"ACK\"0002L0#1234[]");
  CHECK(sql_text(centre.db(), "SELECT device_id || ' ' || kind FROM alerts WHERE device_seq = 2") == "D2 smoke");
}

TEST_CASE("dc09 naks a stale timestamp with the receiver's time and stores nothing", "[dc09]") {
  test::Centre centre(true, dc09_options());
  TcpPanel panel(centre.server().dc09_port());
  panel.send(spec_message("ADM-CID", "0005", "1234", "#1234|1101 00 001", spec_time(now_s() - 300)));
  const std::string body = reply_body(panel.reply());
  REQUIRE(body.rfind("\"NAK\"0000R0L0A0[]_", 0) == 0);
  const auto receiver_time = dc09::parse_timestamp(body.substr(body.find('_')));
  REQUIRE(receiver_time);
  CHECK(std::abs(*receiver_time / 1000 - now_s()) <= 5);
  CHECK(test::count_rows(centre.db(), "alerts") == 0);
}

TEST_CASE("dc09 answers DUH to what it cannot handle and nothing to a bad CRC", "[dc09]") {
  test::Centre centre(true, dc09_options());
  TcpPanel panel(centre.server().dc09_port());
  // An event Anxin does not take (130 burglary), an account nobody knows (no device
  // 9999), an alarm the device cannot raise (fire from the SOS button D1).
  panel.send(spec_message("ADM-CID", "0010", "1234", "#1234|1130 00 001"));
  CHECK(reply_body(panel.reply()) == "\"DUH\"0010L0#1234[]");
  panel.send(spec_message("ADM-CID", "0011", "9999", "#9999|1101 00 001"));
  CHECK(reply_body(panel.reply()) == "\"DUH\"0011L0#9999[]");
  panel.send(spec_message("ADM-CID", "0012", "1234", "#1234|1110 00 001"));
  CHECK(reply_body(panel.reply()) == "\"DUH\"0012L0#1234[]");

  // A bad CRC: no answer at all, and the connection still takes the next frame.
  std::string bad = spec_message("ADM-CID", "0013", "1234", "#1234|1101 00 001");
  bad[1] = bad[1] == '0' ? '1' : '0';
  panel.send(bad);
  CHECK(panel.reply(std::chrono::milliseconds(300)).empty());
  panel.send(spec_message("ADM-CID", "0014", "1234", "#1234|1101 00 001"));
  CHECK(reply_body(panel.reply()) == "\"ACK\"0014L0#1234[]");
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
}

TEST_CASE("dc09 takes frames split across reads and several in one and NULL at once", "[dc09]") {
  test::Centre centre(true, dc09_options());
  TcpPanel panel(centre.server().dc09_port());
  const std::string null = spec_frame("\"NULL\"0000L0#1234[]" + spec_time(now_s()));
  panel.send(null);
  CHECK(reply_body(panel.reply()) == "\"ACK\"0000L0#1234[]");

  const std::string a = spec_message("ADM-CID", "0021", "1234", "#1234|1101 00 001");
  panel.send(a.substr(0, 7));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  panel.send(a.substr(7));
  CHECK(reply_body(panel.reply()) == "\"ACK\"0021L0#1234[]");
  // A periodic test (602) and a restore are signs of life: ACK, no alert.
  panel.send(spec_message("ADM-CID", "0022", "1234", "#1234|1602 00 000") +
             spec_message("ADM-CID", "0023", "1234", "#1234|3101 00 001"));
  std::set<std::string> replies{reply_body(panel.reply()), reply_body(panel.reply())};
  CHECK(replies == std::set<std::string>{"\"ACK\"0022L0#1234[]", "\"ACK\"0023L0#1234[]"});
  CHECK(test::count_rows(centre.db(), "alerts") == 1);
}

TEST_CASE("dc09 round trips an encrypted account and works over UDP", "[dc09]") {
  test::Centre centre(true, dc09_options());
  const int port = centre.server().dc09_port();
  TcpPanel panel(port);
  panel.send(spec_encrypted(kKey, "ADM-CID", "0031", "5678", "#5678|1100 00 001"));
  const std::string body = reply_body(panel.reply());
  REQUIRE(body.rfind("\"*ACK\"0031L0#5678[", 0) == 0);
  const std::string plain = aes128(kKey, from_hex(body.substr(body.find('[') + 1)), false);
  const auto at = dc09::parse_timestamp(plain.substr(plain.size() - 20));
  REQUIRE(at);
  CHECK(std::abs(*at / 1000 - now_s()) <= 5);
  CHECK(sql_text(centre.db(), "SELECT device_id || ' ' || kind FROM alerts") == "D3 sos");
  // The same account in plain text is refused: its key is what proves it.
  panel.send(spec_message("ADM-CID", "0032", "5678", "#5678|1100 00 001"));
  CHECK(reply_body(panel.reply()) == "\"DUH\"0032L0#5678[]");

  // UDP on the same port.
  const std::string reply = udp_exchange(port, spec_message("ADM-CID", "0041", "1234", "#1234|1101 00 001"));
  CHECK(reply_body(reply) == "\"ACK\"0041L0#1234[]");
  CHECK(test::count_rows(centre.db(), "alerts") == 2);
  CHECK(reply_body(udp_exchange(port, spec_frame("\"NULL\"0000L0#1234[]"))) == "\"ACK\"0000L0#1234[]");
}

TEST_CASE("dc09 drops a connection that sends only garbage", "[dc09]") {
  test::Centre centre(true, dc09_options());
  const int port = centre.server().dc09_port();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(port);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string junk(4096, 'x');
  bool closed = false;
  for (int i = 0; i < 64 && !closed; ++i) {
    if (send(fd, junk.data(), junk.size(), MSG_NOSIGNAL) < 0) closed = true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) > 0) {
      char b[16];
      if (recv(fd, b, sizeof b, 0) <= 0) closed = true;
    }
  }
  close(fd);
  CHECK(closed);
  // The receiver still serves others.
  TcpPanel panel(port);
  panel.send(spec_frame("\"NULL\"0000L0#1234[]"));
  CHECK(reply_body(panel.reply()) == "\"ACK\"0000L0#1234[]");
}

TEST_CASE("anxin-sim play --via dc09 raises the demo's alarms as Contact ID frames", "[dc09][sim]") {
  test::TempDir dir;
  const std::string db = dir.file("demo.db"), acks = dir.file("acks.txt"), ports = dir.file("ports.txt");
  {
    test::Process gen({ANXIN_SIM_BIN, "generate", "--db", db, "--elders", "100", "--workers", "5", "--seed", "7"},
                      dir.file("generate.log"));
    REQUIRE(gen.wait(std::chrono::seconds(60)) == 0);
  }
  // generate played the district's past month: only alerts after it are the sim's.
  const std::string before = sql_text(db, "SELECT COUNT(*) FROM alerts");
  test::Process server({ANXIN_SERVER_BIN, "--db", db, "--port", "0", "--field-port", "-1", "--interface", "127.0.0.1",
                        "--dc09-port", "0", "--port-file", ports},
                       dir.file("server.log"));
  REQUIRE(test::eventually([&] { return !test::read_file(ports).empty(); }, std::chrono::seconds(10)));
  int ws_port = 0, field_port = 0, dc09_port = 0;
  std::istringstream(test::read_file(ports)) >> ws_port >> field_port >> dc09_port;
  REQUIRE(dc09_port > 0);
  test::Process sim({ANXIN_SIM_BIN, "play", "--db", db, "--dc09-port", std::to_string(dc09_port), "--rate", "50",
                     "--count", "20", "--seed", "3", "--heartbeat-s", "0", "--via", "dc09", "--ack-log", acks},
                    dir.file("sim.log"));
  REQUIRE(sim.wait(std::chrono::seconds(30)) == 0);
  const std::string sim_log = test::read_file(dir.file("sim.log"));
  INFO(sim_log << test::read_file(dir.file("server.log")));
  CHECK(sim_log.find("raised 20 alarms, 20 acknowledged") != std::string::npos);
  CHECK(sim_log.find("0 DUH, 0 NAK, 0 unanswered") != std::string::npos);
  // Every acked alarm is in the file, raised through the receiver; a repeat folded
  // into an open alert of its device counts in that alert's repeats.
  const std::string via = " FROM alerts WHERE detail LIKE '%\"via\":\"dc09\"%' AND detail LIKE '%ADM-CID%'";
  CHECK(sql_text(db, "SELECT COUNT(*) + SUM(repeats)" + via) == "20");
  CHECK(std::stoll(sql_text(db, "SELECT COUNT(*) FROM alerts")) - std::stoll(before) ==
        std::stoll(sql_text(db, "SELECT COUNT(*)" + via)));
  std::istringstream in(test::read_file(acks));
  std::string device;
  long long seq = 0, alert = 0, incident = 0;
  int acked = 0;
  while (in >> device >> seq >> alert >> incident) {
    ++acked;
    CHECK(sql_text(db, "SELECT COUNT(*)" + via + " AND device_id='" + device + "' AND detail LIKE '%\"account\":\"" +
                           device + "\"%'") != "0");
  }
  CHECK(acked == 20);
  server.signal(SIGTERM);
  CHECK(server.wait(std::chrono::seconds(10)) == 0);
}

TEST_CASE("anxin-sim's DC-09 frames are what the codec reads", "[dc09][sim]") {
  // The simulator's Contact ID frame for a demo serial (hex digits, so a valid account).
  const std::string wire = anxin::sim::contact_id_frame("D000123", 17, *anxin::sim::contact_id_of(AlertKind::gas));
  const dc09::Decoded d = dc09::decode(wire, nullptr, nullptr, 0, {});
  REQUIRE(d.error == dc09::Error::none);
  CHECK(d.message.account == "D000123");
  CHECK(d.message.header.seq == "0017");
  REQUIRE(d.message.cid);
  const dc09::Action act = dc09::action_of(*d.message.cid);
  CHECK(act.what == dc09::Action::alarm);
  CHECK(act.kind == AlertKind::gas);
  for (AlertKind k : {AlertKind::sos, AlertKind::smoke, AlertKind::water_leak, AlertKind::low_battery,
                      AlertKind::inactivity}) {
    const auto code = anxin::sim::contact_id_of(k);
    REQUIRE(code);
    CHECK(dc09::action_of(dc09::ContactId{1, *code, "00", "001"}).kind == k);
  }
  CHECK_FALSE(anxin::sim::contact_id_of(AlertKind::fall));
  CHECK(anxin::sim::dc09_seq_of(10017) == 17);
}
