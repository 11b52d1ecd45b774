// SIA DC-09 (ANSI/SIA DC-09-2013, "Internet Protocol Event Reporting") as a pure
// codec: bytes in, a value or a coded error out, and the receiver's replies as bytes.
// No sockets, no threads, no clock of its own (time is a parameter), so each piece
// can be tested and fuzzed alone (tests/test_dc09.cpp, tests/fuzz/fuzz_dc09.cpp).
// It owns: the CRC, the frame layout, AES-CBC for encrypted accounts (OpenSSL's
// libcrypto), Contact ID (SIA DC-05, "ADM-CID") and SIA-DCS (SIA DC-03) event
// parsing, and the table from event codes to what Anxin does with them
// (docs/dc09.md). It may call libcrypto and nothing of the server.
//
// A frame on the wire (DC-09 message frame; the public receivers read for this are
// named in docs/dc09.md):
//   <LF> crc(4 hex) 0LLL(4 hex) "id" seq(4 digits) [Rrcvr] Lpref [#acct] [ data ] [x-data]... [_timestamp] <CR>
// The CRC and the length cover the bytes from the opening quote of "id" up to, not
// including, the <CR>. An encrypted message has "*" before its id ("*ADM-CID") and
// everything after the '[' of its data, up to the <CR>, is hex of AES-CBC ciphertext.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin::gateway::dc09 {

// CRC-16 as DC-09 specifies it (the CRC of SIA DC-07): polynomial x^16+x^15+x^2+1,
// processed LSB first (0xA001 reflected), initial value 0, no final XOR: the
// "CRC-16/ARC" of CRC catalogues. Check value: crc16("123456789") == 0xBB3D.
std::uint16_t crc16(std::string_view bytes);

// "_HH:MM:SS,MM-DD-YYYY", in UTC as DC-09 requires, of `at`.
std::string timestamp(Millis at);
// The time of such a field (with or without its leading '_'); nullopt if malformed.
std::optional<Millis> parse_timestamp(std::string_view text);

// <LF> crc 0LLL body <CR> around `body` (which starts at the opening quote).
std::string frame(std::string_view body);

enum class Error {
  none,
  bad_frame,        // not <LF>crc 0LLL "...<CR>, or over the size limit
  bad_crc,          // the CRC field does not match the body
  bad_length,       // the 0LLL field does not match the body
  bad_header,       // the id, seq, Rrcvr, Lpref, #acct or '[' cannot be read
  unknown_token,    // an id this receiver does not take ("SIA-DCS", "ADM-CID", "NULL" only)
  no_account,       // neither the header nor the data names an account
  no_key,           // an encrypted message for an account with no key here
  not_encrypted,    // a plain message for an account that has a key (it must encrypt)
  bad_ciphertext,   // not hex, not whole AES blocks, or it decrypts to no valid message
  bad_data,         // the data, x-data or timestamp cannot be read
  bad_timestamp,    // encrypted and without a timestamp
  stale_timestamp,  // the timestamp is outside the receiver's window
};
std::string_view name_of(Error);

// What the receiver answers to a message that failed with `e` (DC-09 responses):
// nothing for a frame that cannot be trusted (bad CRC, length or framing: the
// transmitter will send it again), NAK for a timestamp outside the window (it
// carries the receiver's time, so the transmitter can correct its clock), and DUH
// for every other message the receiver cannot handle.
enum class Reply { none, ack, nak, duh };
Reply reply_for(Error e);

struct Header {
  bool encrypted = false;
  std::string id;        // "ADM-CID", "SIA-DCS", "NULL", ... without quotes or '*'
  std::string seq;       // four digits as sent
  std::string receiver;  // "R..." as sent, or empty
  std::string line;      // "L..." as sent
  std::string account;   // from #acct, upper case, without '#'; may be empty
};

// A Contact ID event: "Qeee gg zzz" (qualifier, event, group or partition, zone or user).
struct ContactId {
  int qualifier = 1;  // 1 new event or opening, 3 restore or closing, 6 previously reported, still present
  int event = 0;      // 100..999
  std::string group;  // two characters, "00" when none
  std::string zone;   // three characters
};

// One event of a SIA-DCS block: "Nri1/FA01" is area 1, code FA, zone 01.
struct SiaEvent {
  std::string code;  // two capital letters
  std::string zone;  // digits as sent; may be empty
  std::string area;  // the last "ri" before it; may be empty
};

struct Message {
  Header header;
  std::string account;            // the header's, else the data's
  std::string data;               // between '[' and ']', decrypted, without the pad
  std::vector<std::string> xdata;  // each [..] after the data, without brackets
  std::optional<Millis> time_ms;  // the timestamp, when present
  std::optional<ContactId> cid;   // for ADM-CID
  std::vector<SiaEvent> sia;      // for SIA-DCS
};

struct Decoded {
  Error error = Error::none;
  Message message;  // on an error, what was read before it (for the reply's header)
};

// The accepted skew of a message's timestamp from the receiver's clock: at most
// `before_s` behind it and `after_s` ahead. DC-09-2013 §5.5.1.9 suggests +20/-40 s.
struct Window {
  int before_s = 40, after_s = 20;
};

// Key lookup: the AES key (16, 24 or 32 raw bytes) for an account, or empty.
using KeyOf = std::string (*)(const void* ctx, std::string_view account);

// Checks one frame's framing, CRC and length. `wire` is everything from <LF> to <CR>
// inclusive. On success `body` is the part the CRC covers.
Error check_frame(std::string_view wire, std::string_view* body = nullptr);

// Reads and checks one whole frame (check_frame, then the header, decryption with
// the account's key, the data and the timestamp against `now_ms` and `window`).
Decoded decode(std::string_view wire, KeyOf key_of, const void* key_ctx, Millis now_ms, Window window);

// The data of a Contact ID message: "[#acct|]Qeee gg zzz". nullopt if malformed.
std::optional<ContactId> parse_contact_id(std::string_view data, std::string* account = nullptr);
// The data of a SIA-DCS message: "[#acct|]N[ri1/]FA01[/...]" (N new, O old event).
// nullopt if malformed; the events in order.
std::optional<std::vector<SiaEvent>> parse_sia(std::string_view data, std::string* account = nullptr);

// The receiver's replies, whole frames. ACK and DUH echo the message's seq, Rrcvr,
// Lpref and #acct. An ACK to an encrypted message is encrypted with `key` and carries
// the receiver's time; a plain ACK carries none. NAK ("NAK"0000R0L0A0[]_time) and
// DUH are never encrypted.
std::string ack(const Header& h, std::string_view key, Millis now_ms);
std::string duh(const Header& h);
std::string nak(Millis now_ms);

// AES-CBC with a zero IV and no padding of its own (DC-09 pads at the front itself).
// `key` is 16, 24 or 32 bytes; `in` a whole number of blocks. nullopt on failure.
std::optional<std::string> aes_cbc(std::string_view key, std::string_view in, bool encrypt);

// What Anxin does with an event (docs/dc09.md has the table).
struct Action {
  enum What { alarm, heartbeat, unsupported } what = unsupported;
  AlertKind kind = AlertKind::sos;  // for an alarm
  std::string_view label;           // what the code means, for logs and the alert's detail
};
Action action_of(const ContactId& cid);
Action action_of(const SiaEvent& event);

// Zone numbers compared as the configuration writes them: digits, at least three
// ("1" and "01" are "001"); other text unchanged.
std::string normal_zone(std::string_view zone);

// Hex text to bytes (either case); nullopt if not an even number of hex digits.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace anxin::gateway::dc09
