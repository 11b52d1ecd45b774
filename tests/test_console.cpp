// The real console in a real window under Xvfb, against a real server: it receives
// an alarm, acknowledges it with the same path as the button, and writes a
// screenshot. The test checks the replicated state and that the frame is not blank.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "process.hpp"
#include "screenshot.hpp"
#include "support.hpp"


using namespace anxin;
using test::json;

TEST_CASE("the console shows a live alarm and acknowledges it", "[console]") {
  test::Centre centre;
  std::filesystem::create_directories(ANXIN_ARTIFACTS);
  const std::string png = std::string(ANXIN_ARTIFACTS) + "/console-alarm.png";
  test::TempDir dir;
  const std::string state = dir.file("state.json");
  std::filesystem::remove(png);

  test::Process console({"/usr/bin/xvfb-run", "-a", "-s", "-screen 0 1440x900x24", ANXIN_CONSOLE_BIN,
                         "--port", std::to_string(centre.port()), "--token", "tok-console",
                         "--autotest-incidents", "1", "--autotest-ack", "--screenshot", png,
                         "--dump-state", state, "--autotest-timeout-ms", "40000"},
                        dir.file("console.log"));
  auto device = centre.client("device", "tok-acme");
  device->send(test::alarm_frame("D2", 1, "smoke"));
  REQUIRE(test::next_json(*device)["type"] == "ack");

  auto status = console.wait(std::chrono::seconds(60));
  INFO(test::read_file(dir.file("console.log")));
  REQUIRE(status == 0);

  json s = json::parse(test::read_file(state));
  INFO(s.dump(2));
  CHECK(s["connection"] == "synced");
  REQUIRE(s["incidents"].size() == 1);
  CHECK(s["incidents"][0]["elder_name"] == "张桂英");
  CHECK(s["incidents"][0]["lead_kind"] == "smoke");
  CHECK(s["incidents"][0]["state"] == "acknowledged");
  CHECK(s["selected"] == s["incidents"][0]["id"]);

  // The server agrees, and the acknowledgement is on disk under the operator's name.
  auto console_client = centre.client("console", "tok-console");
  console_client->send(R"({"type":"subscribe"})");
  json snap = test::next_json(*console_client);
  REQUIRE(snap["incidents"].size() == 1);
  CHECK(snap["incidents"][0]["acknowledged_by"] == "王芳");

  test::check_screenshot(png);
}
