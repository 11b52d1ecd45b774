// The alarm read without a JSON tree (alarm_scan.cpp) is the alarm the tree reads,
// and every frame it does not take goes to the tree, which reads it or gives its
// error. Frames written by hand, then thousands made by changing one byte at a time.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "alarm_scan.hpp"
#include "prng.hpp"

using namespace anxin;
namespace proto = anxin::protocol;

namespace {

// What the two readers agree on, or why not.
std::string same_alarm(const proto::ClientMessage& scanned, const Result<proto::ClientMessage>& tree) {
  if (!tree) return "the tree refuses it: " + tree.error().message;
  const auto* t = std::get_if<AlarmIn>(&tree.value().body);
  const auto& s = std::get<AlarmIn>(scanned.body);
  if (!t) return "the tree reads another message";
  if (scanned.req != tree.value().req) return "req " + scanned.req + " against " + tree.value().req;
  if (s.device != t->device) return "device " + s.device + " against " + t->device;
  if (s.seq != t->seq || s.device_time_ms != t->device_time_ms) return "seq or device_time_ms";
  if (s.kind != t->kind) return "kind";
  if (s.detail != t->detail) return "detail " + s.detail + " against " + t->detail;
  if (s.battery_pct != t->battery_pct) return "battery_pct";
  if (s.boot != t->boot) return "boot " + s.boot + " against " + t->boot;
  return "";
}

const std::string kDeviceFrame =
    R"({"type":"alarm","req":"17","device":"PB-0001","seq":42,"kind":"sos","device_time_ms":1795658400000,)"
    R"("detail":{"bseq":17,"room":"kitchen"},"battery_pct":80,"boot":"b-7"})";

}  // namespace

TEST_CASE("plain alarms are read without the tree as the tree reads them", "[protocol][alarm_scan]") {
  const std::vector<std::string> plain = {
      kDeviceFrame,
      R"({"type":"alarm","device":"PB-0001","seq":1,"kind":"fall","device_time_ms":0})",
      " {\n\t\"device_time_ms\" : -5 , \"kind\":\"smoke\",\"seq\":9,\"device\":\"\",\"type\":\"alarm\"}\r\n",
      R"({"type":"alarm","device":"D","seq":-3,"kind":"gas","device_time_ms":7,"detail":{}})",
      R"({"type":"alarm","device":"D","seq":3,"kind":"gas","device_time_ms":7,"detail":{ "a" : "x y" , "b" : -12 }})",
      R"({"type":"alarm","device":"D","seq":3,"kind":"gas","device_time_ms":7,"battery_pct":0,"boot":""})",
      R"({"type":"alarm","device":"D","seq":3,"kind":"gas","device_time_ms":7,"battery_pct":100,"v":1,"x":"y"})",
      R"({"type":"alarm","device":"D","seq":999999999999999999,"kind":"gas","device_time_ms":7})",
  };
  for (const auto& frame : plain) {
    INFO(frame);
    auto scanned = proto::scan_alarm(frame);
    REQUIRE(scanned);
    CHECK(same_alarm(*scanned, proto::parse_client_tree(frame)).empty());
  }
  auto scanned = proto::scan_alarm(kDeviceFrame);
  const auto& a = std::get<AlarmIn>(scanned->body);
  CHECK(a.detail == R"({"bseq":17,"room":"kitchen"})");
  CHECK(a.battery_pct == 80);
  CHECK(a.seq == 42);
}

TEST_CASE("frames that are not plain alarms are left to the tree", "[protocol][alarm_scan]") {
  const std::vector<std::string> others = {
      R"({"type":"heartbeat","device":"PB-0001"})",
      R"({"type":"alarm","device":"PB-0001","seq":1,"kind":"fall"})",                       // no device_time_ms
      R"({"type":"alarm","device":"PB-0001","seq":1,"kind":"flood","device_time_ms":0})",   // no such kind
      R"({"type":"alarm","device":"PB-0001","seq":1.0,"kind":"fall","device_time_ms":0})",  // not an integer
      R"({"type":"alarm","device":"PB-0001","seq":1e3,"kind":"fall","device_time_ms":0})",
      R"({"type":"alarm","device":"PB-0001","seq":01,"kind":"fall","device_time_ms":0})",
      R"({"type":"alarm","device":"PB-0001","seq":-0,"kind":"fall","device_time_ms":0})",
      R"({"type":"alarm","device":"PB-0001","seq":9223372036854775807,"kind":"fall","device_time_ms":0})",
      R"({"type":"alarm","device":"PB\u0030","seq":1,"kind":"fall","device_time_ms":0})",  // an escape
      R"({"type":"alarm","device":"床头","seq":1,"kind":"fall","device_time_ms":0})",     // not ASCII
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"seq":2})",  // twice
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"detail":{"b":1,"a":2}})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"detail":{"a":{"b":1}}})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"detail":"x"})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"battery_pct":101})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"battery_pct":null})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"boot":"a b"})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"ok":true})",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,"req":")" + std::string(65, 'r') +
          "\"}",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0} x)",
      R"({"type":"alarm","device":"D","seq":1,"kind":"fall","device_time_ms":0,})",
      R"([{"type":"alarm"}])",
      "",
  };
  for (const auto& frame : others) {
    INFO(frame);
    CHECK_FALSE(proto::scan_alarm(frame));
    // parse_client gives what the tree gives: the same message, or the same error.
    auto parsed = proto::parse_client(frame);
    auto tree = proto::parse_client_tree(frame);
    REQUIRE(parsed.ok() == tree.ok());
    if (!tree) CHECK(parsed.error().message == tree.error().message);
  }
}

TEST_CASE("an alarm changed a byte at a time is read as the tree reads it or left to the tree",
          "[protocol][alarm_scan]") {
  // Bytes that matter to the scanner: structure, digits, quotes, escapes, space, and
  // one byte of a multi-byte character.
  const std::string alphabet = "{}[]:,\"\\ -0123456789.eEabkdnrstuy\t\n\x01\xe5";
  test::Prng rng{15};
  int read_here = 0, left = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string frame = kDeviceFrame;
    for (int edits = 1 + static_cast<int>(rng.below(3)); edits > 0; --edits) {
      const size_t at = rng.below(frame.size() + 1);
      const char c = alphabet[rng.below(alphabet.size())];
      switch (rng.below(3)) {
        case 0: frame.insert(at, 1, c); break;
        case 1: if (at < frame.size()) frame.erase(at, 1); break;
        default: if (at < frame.size()) frame[at] = c;
      }
    }
    auto scanned = proto::scan_alarm(frame);
    if (!scanned) {
      ++left;
      continue;
    }
    ++read_here;
    INFO(frame);
    REQUIRE(same_alarm(*scanned, proto::parse_client_tree(frame)) == "");
  }
  // Both ways were taken often.
  CHECK(read_here > 2000);
  CHECK(left > 2000);
}

TEST_CASE("a plain object is known to parse and anything else is left to the parser", "[protocol][alarm_scan]") {
  for (const char* text : {R"({"bseq":1})", "{}", R"( { "a" : "b" , "c":-5 } )", "{\"n\":0}\n"}) {
    INFO(text);
    CHECK(proto::plain_object(text));
    CHECK(nlohmann::json::accept(text));
  }
  // Valid JSON that is not plain goes to the parser, and so does what is not JSON.
  for (const char* text : {R"({"a":1.5})", R"({"a":[1]})", R"({"a":"\n"})", R"({"a":null})", "[]", "7", ""})
    CHECK_FALSE(proto::plain_object(text));
  for (const char* text : {R"({"a":1} x)", R"({"a":01})", R"({"a":1,})", R"({"a")", "{"})
    CHECK_FALSE(proto::plain_object(text));
}
