// The SIP seat adapter: its pure decoders (netstrings, ctrl_tcp event JSON),
// then real baresip agents on loopback calling each other: answered calls with
// recordings, the ring timeout, refused dials, and an agent killed with -9.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <regex>
#include <thread>

#include "anxin/gateway/baresip.hpp"
#include "prng.hpp"
#include "process.hpp"
#include "sip_support.hpp"

using namespace anxin;
using Kind = SeatEvent::Kind;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

namespace {

// Payloads copied from Debian 12's baresip 1.0.0 (ctrl_tcp), one per kind it
// reports, plus two it does not pass on.
const char* const incoming_json =
    R"({"event":true,"type":"CALL_INCOMING","class":"call","accountaor":"sip:b@127.0.0.1:15161",)"
    R"("direction":"incoming","peeruri":"sip:a@127.0.0.1:15061","peerdisplayname":"Anxin Centre",)"
    R"("id":"516667c49f2e51ae","param":"sip:a@127.0.0.1:15061"})";
const char* const ringing_json =
    R"({"event":true,"type":"CALL_RINGING","class":"call","accountaor":"sip:a@127.0.0.1:15061",)"
    R"("direction":"outgoing","peeruri":"sip:b@127.0.0.1:15161","id":"d547872229bcaa56",)"
    R"("param":"sip:b@127.0.0.1:15161"})";
const char* const established_json =
    R"({"event":true,"type":"CALL_ESTABLISHED","class":"call","accountaor":"sip:b@127.0.0.1:15161",)"
    R"("direction":"incoming","peeruri":"sip:a@127.0.0.1:15061","id":"4b6cf53f2122f740",)"
    R"("param":"sip:a@127.0.0.1:15061"})";
const char* const closed_json =
    R"({"event":true,"type":"CALL_CLOSED","class":"call","accountaor":"sip:a@127.0.0.1:15061",)"
    R"("direction":"outgoing","peeruri":"sip:nobody@127.0.0.1:15161","id":"b3bfead05c0bed51",)"
    R"("param":"404 Not Found"})";
const char* const local_sdp_json =
    R"({"event":true,"type":"CALL_LOCAL_SDP","class":"other","accountaor":"sip:a@127.0.0.1:15061",)"
    R"("direction":"outgoing","peeruri":"sip:b@127.0.0.1:15161","param":"offer"})";
const char* const dial_response_json = R"({"response":true,"ok":false,"data":"Invalid argument","token":"dial"})";

}  // namespace

TEST_CASE("netstrings frame and unframe ctrl_tcp payloads", "[sip]") {
  CHECK(netstring("") == "0:,");
  CHECK(netstring(R"({"command":"accept"})") == R"(20:{"command":"accept"},)");

  SECTION("round trip, whole and byte by byte") {
    const std::string stream = netstring("hello") + netstring("") + netstring(incoming_json);
    for (size_t step : {stream.size(), size_t{1}, size_t{7}}) {
      NetstringReader r;
      std::vector<std::string> got;
      for (size_t i = 0; i < stream.size(); i += step) {
        r.feed(std::string_view(stream).substr(i, step));
        while (auto p = r.next()) got.push_back(*p);
      }
      CHECK(got == std::vector<std::string>{"hello", "", incoming_json});
      CHECK_FALSE(r.broken());
    }
  }
  SECTION("an incomplete frame waits for more") {
    NetstringReader r;
    r.feed("5:hel");
    CHECK_FALSE(r.next());
    r.feed("lo");
    CHECK_FALSE(r.next());  // still no ','
    r.feed(",");
    CHECK(r.next() == "hello");
    CHECK_FALSE(r.broken());
  }
  SECTION("bad framing is reported and sticky") {
    const std::string large = std::to_string(NetstringReader::max_payload + 1) + ":";
    for (std::string bad : {"x:abc,", ":abc,", "3:abc;", "3;abc,", "123456:", large.c_str(), "-1:a,"}) {
      NetstringReader r;
      r.feed(bad);
      CHECK_FALSE(r.next());
      CHECK(r.broken());
      r.feed("2:ok,");
      CHECK_FALSE(r.next());
    }
  }
  SECTION("the largest payload passes") {
    NetstringReader r;
    r.feed(netstring(std::string(NetstringReader::max_payload, 'a')));
    auto p = r.next();
    REQUIRE(p);
    CHECK(p->size() == NetstringReader::max_payload);
  }
}

TEST_CASE("ctrl_tcp event payloads become seat events", "[sip]") {
  auto in = parse_seat_event(incoming_json, "seat2");
  REQUIRE(in);
  CHECK(in->kind == Kind::incoming);
  CHECK(in->seat == "seat2");
  CHECK(in->call_id == "516667c49f2e51ae");
  CHECK(in->number == "a");
  CHECK(in->peer_name == "Anxin Centre");
  CHECK_FALSE(in->outgoing);
  CHECK(in->reason.empty());

  auto ringing = parse_seat_event(ringing_json, "seat1");
  REQUIRE(ringing);
  CHECK(ringing->kind == Kind::ringing);
  CHECK(ringing->outgoing);
  CHECK(ringing->number == "b");
  CHECK(ringing->peer_name.empty());

  auto established = parse_seat_event(established_json, "seat2");
  REQUIRE(established);
  CHECK(established->kind == Kind::established);
  CHECK(established->call_id == "4b6cf53f2122f740");

  auto closed = parse_seat_event(closed_json, "seat1");
  REQUIRE(closed);
  CHECK(closed->kind == Kind::closed);
  CHECK(closed->reason == "404 Not Found");
  CHECK(closed->number == "nobody");

  CHECK_FALSE(parse_seat_event(local_sdp_json, "seat1"));
  CHECK_FALSE(parse_seat_event(dial_response_json, "seat1"));
  CHECK_FALSE(parse_seat_event("", "seat1"));
  CHECK_FALSE(parse_seat_event("[]", "seat1"));
  CHECK_FALSE(parse_seat_event(R"({"event":"yes","type":"CALL_CLOSED"})", "seat1"));

  SECTION("the peer's number is the user part of its URI") {
    auto number = [](const std::string& uri) {
      const std::string j = R"({"event":true,"type":"CALL_INCOMING","id":"x","peeruri":")" + uri + R"("})";
      return parse_seat_event(j, "s")->number;
    };
    CHECK(number("sip:+8613900000001@pbx.example;user=phone") == "+8613900000001");
    CHECK(number("sips:1001:secret@pbx.example") == "1001");
    CHECK(number("<sip:110@10.0.0.1:5060>") == "110");
    CHECK(number("tel:+8610110;phone-context=x") == "+8610110");
    CHECK(number("sip:10.0.0.1") == "");
  }
  SECTION("wrong types and garbage never throw") {
    CHECK_NOTHROW(parse_seat_event(R"({"event":true,"type":"CALL_CLOSED","id":7,"peeruri":[],"param":{}})", "s"));
    const std::string sample = std::string(closed_json) + incoming_json;
    test::Prng rng{9};
    for (int i = 0; i < 3000; ++i) {
      std::string s = sample.substr(0, rng.below(sample.size()));
      for (int k = 0; k < 3 && !s.empty(); ++k) s[rng.below(s.size())] = static_cast<char>(rng.below(256));
      CHECK_NOTHROW(parse_seat_event(s, "s"));
      NetstringReader r;
      r.feed(s);
      CHECK_NOTHROW(r.next());
    }
  }
}

TEST_CASE("a seat whose agent cannot start stays down and refuses dials", "[sip]") {
  test::TempDir dir;
  SeatConfig c = test::seat_config(dir, "seat9", test::free_port_block(), 0);
  c.baresip = dir.file("no-such-baresip");
  test::SeatEvents events;
  Seat seat(c, events.sink());
  seat.dial("sip:x@127.0.0.1:5060", "task-1");
  auto closed = events.next(Kind::closed);
  REQUIRE(closed);
  CHECK(closed->reason == "seat down");
  CHECK(closed->token == "task-1");
  CHECK_FALSE(seat.up());
  CHECK_FALSE(events.next(Kind::up, milliseconds(300)));
}

TEST_CASE("two seats call each other and the callee records what the caller plays", "[sip]") {
  if (!test::have_baresip()) {
    WARN("skipped: /usr/bin/baresip is missing (apt-get install baresip-core)");
    return;
  }
  test::TempDir dir;
  const int base = test::free_port_block();
  // The caller "says" 4 s of 1000 Hz, then silence; the callee sends a 440 Hz tone.
  const std::string tone = dir.file("tone.wav");
  REQUIRE(std::system(("sox -n -r 8000 -c 1 -b 16 " + tone + " synth 4 sine 1000 pad 0 4").c_str()) == 0);
  SeatConfig a = test::seat_config(dir, "seatA", base, 0);
  a.audio_source = tone;
  a.account = "\"Anxin Centre\" <sip:seatA@127.0.0.1:" + std::to_string(a.sip_port) +
              ">;regint=0;answermode=manual";
  SeatConfig b = test::seat_config(dir, "seatB", base, 1);
  test::SeatEvents ea, eb;
  Seat caller(a, ea.sink());
  Seat callee(b, eb.sink());
  REQUIRE(ea.next(Kind::up));
  REQUIRE(eb.next(Kind::up));
  std::set<std::string> threads;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm = test::read_file(task.path() / "comm");
    threads.insert(comm.substr(0, comm.find('\n')));
  }
  CHECK(threads.count("seat:seatA"));
  CHECK(threads.count("seat:seatB"));

  caller.dial(test::uri_of(b), "task-42");
  auto incoming = eb.next(Kind::incoming);
  REQUIRE(incoming);
  CHECK(incoming->number == "seatA");
  CHECK(incoming->peer_name == "Anxin Centre");
  CHECK_FALSE(incoming->call_id.empty());
  auto ringing = ea.next(Kind::ringing);
  REQUIRE(ringing);
  CHECK(ringing->token == "task-42");
  CHECK(ringing->call_id == incoming->call_id);
  CHECK(ringing->number == "seatB");
  CHECK(caller.busy());
  CHECK(callee.busy());

  callee.accept();
  auto answered = eb.next(Kind::established);
  REQUIRE(answered);
  const auto talk_start = Steady::now();
  auto established = ea.next(Kind::established);
  REQUIRE(established);
  CHECK(established->token == "task-42");
  CHECK(established->outgoing);

  std::this_thread::sleep_for(seconds(3));
  caller.hangup();
  auto a_closed = ea.next(Kind::closed);
  auto b_closed = eb.next(Kind::closed);
  const double talk_s = std::chrono::duration<double>(Steady::now() - talk_start).count();
  REQUIRE(a_closed);
  REQUIRE(b_closed);
  CHECK(a_closed->reason == "Connection reset by user");
  CHECK(a_closed->token == "task-42");
  CHECK(b_closed->reason == "Connection reset by peer");
  CHECK(b_closed->call_id == incoming->call_id);
  CHECK_FALSE(caller.busy());
  CHECK_FALSE(callee.busy());

  // Recordings: <record_dir>/<seat>-<call id>-heard.wav and -sent.wav, on both sides.
  const std::string rec = b.record_dir + "/seatB-" + incoming->call_id;
  CHECK(b_closed->heard_wav == rec + "-heard.wav");
  CHECK(b_closed->sent_wav == rec + "-sent.wav");
  CHECK(a_closed->heard_wav == a.record_dir + "/seatA-" + incoming->call_id + "-heard.wav");
  for (const auto& f : {a_closed->heard_wav, a_closed->sent_wav, b_closed->heard_wav, b_closed->sent_wav}) {
    CHECK(std::filesystem::exists(f));
  }
  CHECK(std::filesystem::is_empty(a.dir + "/rec-tmp"));

  const std::string heard = test::run("sox " + b_closed->heard_wav + " -n stat 2>&1");
  INFO(heard);
  CHECK(test::sox_stat(heard, "RMS     amplitude") > 0.1);  // silence is ~0
  CHECK(test::sox_stat(heard, "Length \\(seconds\\)") == Approx(talk_s).margin(1.0));
  CHECK(test::band_share(b_closed->heard_wav, 900, 1100) > 0.8);  // the caller's 1000 Hz...
  CHECK(test::band_share(b_closed->heard_wav, 390, 490) < 0.2);  // ...not the callee's own 440 Hz
  CHECK(test::band_share(a_closed->heard_wav, 390, 490) > 0.8);  // and the caller heard the callee
  CHECK(test::band_share(b_closed->sent_wav, 390, 490) > 0.8);
}

TEST_CASE("an outbound call nobody answers is hung up at the ring timeout", "[sip]") {
  if (!test::have_baresip()) {
    WARN("skipped: /usr/bin/baresip is missing (apt-get install baresip-core)");
    return;
  }
  test::TempDir dir;
  const int base = test::free_port_block();
  SeatConfig a = test::seat_config(dir, "seatA", base, 0);
  a.ring_timeout_ms = 2000;
  SeatConfig b = test::seat_config(dir, "seatB", base, 1);
  test::SeatEvents ea, eb;
  Seat caller(a, ea.sink());
  Seat callee(b, eb.sink());
  REQUIRE(ea.next(Kind::up));
  REQUIRE(eb.next(Kind::up));

  const auto dialled = Steady::now();
  caller.dial(test::uri_of(b), "task-7");
  REQUIRE(eb.next(Kind::incoming));
  REQUIRE(ea.next(Kind::ringing));
  auto closed = ea.next(Kind::closed, seconds(4));
  const auto after = Steady::now() - dialled;
  REQUIRE(closed);
  CHECK(closed->reason == "no answer");
  CHECK(closed->token == "task-7");
  CHECK(closed->heard_wav.empty());  // never answered: nothing recorded
  CHECK(after >= milliseconds(1900));
  CHECK(after <= milliseconds(3000));
  auto callee_closed = eb.next(Kind::closed);  // the caller cancelled
  REQUIRE(callee_closed);
  CHECK(callee_closed->reason == "Connection reset by peer");
  CHECK_FALSE(callee.busy());
}

TEST_CASE("dials that cannot go through come back closed with a reason", "[sip]") {
  if (!test::have_baresip()) {
    WARN("skipped: /usr/bin/baresip is missing (apt-get install baresip-core)");
    return;
  }
  test::TempDir dir;
  const int base = test::free_port_block();
  SeatConfig a = test::seat_config(dir, "seatA", base, 0);
  SeatConfig b = test::seat_config(dir, "seatB", base, 1);
  test::SeatEvents ea, eb;
  auto caller = std::make_unique<Seat>(a, ea.sink());
  auto callee = std::make_unique<Seat>(b, eb.sink());
  REQUIRE(ea.next(Kind::up));
  REQUIRE(eb.next(Kind::up));

  // A user the far agent does not have: it answers 404 at once.
  const auto t0 = Steady::now();
  caller->dial("sip:nobody@127.0.0.1:" + std::to_string(b.sip_port), "t-404");
  auto not_found = ea.next(Kind::closed);
  REQUIRE(not_found);
  CHECK(not_found->reason == "404 Not Found");
  CHECK(not_found->token == "t-404");
  CHECK(Steady::now() - t0 < milliseconds(1000));

  // Nothing listens there. Over TCP that is known at once (over UDP the agent
  // would retransmit for ~32 s, then say "Connection timed out").
  caller->dial("sip:x@127.0.0.1:" + std::to_string(base + 90) + ";transport=tcp", "t-tcp");
  auto refused = ea.next(Kind::closed);
  REQUIRE(refused);
  CHECK(refused->reason == "Connection refused");
  CHECK(refused->token == "t-tcp");

  caller->dial("not a uri", "t-bad");
  auto bad = ea.next(Kind::closed);
  REQUIRE(bad);
  CHECK(bad->reason == "invalid uri");
  CHECK(bad->token == "t-bad");

  // One call per seat: a second dial while the first rings is refused.
  caller->dial(test::uri_of(b), "t-first");
  REQUIRE(eb.next(Kind::incoming));
  caller->dial(test::uri_of(b), "t-second");
  auto busy = ea.next(Kind::closed);
  REQUIRE(busy);
  CHECK(busy->reason == "busy");
  CHECK(busy->token == "t-second");

  // The callee turns it down.
  callee->hangup();
  auto rejected = ea.next(Kind::closed);
  REQUIRE(rejected);
  CHECK(rejected->reason == "486 Rejected");
  CHECK(rejected->token == "t-first");
  auto b_closed = eb.next(Kind::closed);
  REQUIRE(b_closed);
  CHECK(b_closed->reason == "Connection reset by user");

  // Seats destroyed with a call ringing stop promptly and say nothing more.
  caller->dial(test::uri_of(b), "t-last");
  REQUIRE(eb.next(Kind::incoming));
  const auto t1 = Steady::now();
  caller.reset();
  callee.reset();
  CHECK(Steady::now() - t1 < milliseconds(2000));
  const size_t seen = ea.all().size() + eb.all().size();
  std::this_thread::sleep_for(milliseconds(200));
  CHECK(ea.all().size() + eb.all().size() == seen);
}

TEST_CASE("a killed agent is restarted and its seat dials again", "[sip]") {
  if (!test::have_baresip()) {
    WARN("skipped: /usr/bin/baresip is missing (apt-get install baresip-core)");
    return;
  }
  test::TempDir dir;
  const int base = test::free_port_block();
  SeatConfig a = test::seat_config(dir, "seatA", base, 0);
  SeatConfig b = test::seat_config(dir, "seatB", base, 1);
  test::SeatEvents ea, eb;
  Seat seat(a, ea.sink());
  Seat phone(b, eb.sink());
  REQUIRE(ea.next(Kind::up));
  REQUIRE(eb.next(Kind::up));

  seat.dial(test::uri_of(b), "task-1");
  REQUIRE(eb.next(Kind::incoming));
  REQUIRE(ea.next(Kind::ringing));
  const pid_t first = seat.pid();
  REQUIRE(first > 0);
  REQUIRE(kill(first, SIGKILL) == 0);

  auto down = ea.next(Kind::down);
  REQUIRE(down);
  CHECK_FALSE(down->reason.empty());
  auto lost = ea.next(Kind::closed);
  REQUIRE(lost);
  CHECK(lost->reason == "seat down");
  CHECK(lost->token == "task-1");
  REQUIRE(ea.next(Kind::up, seconds(5)));
  CHECK(seat.up());
  CHECK(seat.pid() > 0);
  CHECK(seat.pid() != first);
  // The dead agent never said goodbye: the phone rejects the orphaned call.
  phone.hangup();
  REQUIRE(eb.next(Kind::closed));

  seat.dial(test::uri_of(b), "task-2");
  auto again = eb.next(Kind::incoming);
  REQUIRE(again);
  CHECK(again->number == "seatA");
  phone.accept();
  REQUIRE(eb.next(Kind::established));
  auto established = ea.next(Kind::established);
  REQUIRE(established);
  CHECK(established->token == "task-2");
  seat.hangup();
  auto closed = ea.next(Kind::closed);
  REQUIRE(closed);
  CHECK(closed->reason == "Connection reset by user");
  REQUIRE(eb.next(Kind::closed));
}
