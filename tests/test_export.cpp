// Spreadsheet exports (export.hpp): exact CSV bytes, and an XLSX that unzips to the
// Chinese headers and real number cells.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "anxin/core/export.hpp"

using namespace anxin;

namespace {

Table visits_table() {
  Table t;
  t.title = "探访月报";
  t.columns = {"姓名", "探访次数", "完成率"};
  t.rows = {
      {std::string("张桂英"), 3LL, 0.5},
      {std::string("李,\"老\"\n二"), -2LL, 1.25},
      {std::string("=1+1"), 1234567890123LL, 0.0},
  };
  return t;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

// One member of the zip, by unzip or else python3; nullopt when neither is installed.
std::optional<std::string> unzip_member(const std::string& zip, const std::string& member) {
  if (have("unzip")) return run("unzip -p '" + zip + "' '" + member + "'");
  if (have("python3"))
    return run("python3 -c 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' '" +
               zip + "' '" + member + "'");
  return std::nullopt;
}

}  // namespace

TEST_CASE("export: CSV has a BOM and CRLF and quotes as RFC 4180 says", "[export]") {
  CHECK(to_csv(visits_table()) ==
        "\xEF\xBB\xBF"
        "姓名,探访次数,完成率\r\n"
        "张桂英,3,0.5\r\n"
        "\"李,\"\"老\"\"\n二\",-2,1.25\r\n"
        "'=1+1,1234567890123,0\r\n");  // a formula stays text in Excel
  CHECK(to_csv(Table{"空", {"a"}, {}}) == "\xEF\xBB\xBF" "a\r\n");
}

TEST_CASE("export: XLSX holds the Chinese headers and numbers as numbers", "[export]") {
  auto bytes = to_xlsx(visits_table());
  REQUIRE(bytes.substr(0, 4) == std::string("PK\x03\x04", 4));
  // One file per process: ctest -j and other build trees run this test at the same time.
  auto path = (std::filesystem::temp_directory_path() / ("anxin-test-export-" + std::to_string(getpid()) + ".xlsx")).string();
  std::ofstream(path, std::ios::binary) << bytes;

  auto strings = unzip_member(path, "xl/sharedStrings.xml");
  auto sheet = unzip_member(path, "xl/worksheets/sheet1.xml");
  auto workbook = unzip_member(path, "xl/workbook.xml");
  std::filesystem::remove(path);
  if (!strings) {
    WARN("neither unzip nor python3: only the zip's member names are checked");
    CHECK(bytes.find("xl/worksheets/sheet1.xml") != std::string::npos);
    return;
  }
  for (const char* s : {"探访月报", "姓名", "探访次数", "完成率", "张桂英"}) CHECK_THAT(*strings, Catch::Contains(s));
  CHECK_THAT(*workbook, Catch::Contains("name=\"探访月报\""));
  // Numbers are <v> values of cells without t="s" (shared string).
  for (const char* v : {"<c r=\"B3\" s=\"", "<v>3</v>", "<v>-2</v>", "<v>1234567890123</v>", "<v>0.5</v>", "<v>1.25</v>"})
    CHECK_THAT(*sheet, Catch::Contains(v));
  CHECK_THAT(*sheet, !Catch::Contains("<c r=\"B3\" t=\"s\""));
  CHECK_THAT(*sheet, Catch::Contains("<cols>"));  // widths were set
}

TEST_CASE("export: an XLSX sheet name is cut to what Excel allows", "[export]") {
  Table t{"2024年6月 巷道镇/南华镇 特殊困难老年人探访关爱服务情况统计表（民政局）", {"a"}, {{1LL}}};
  auto bytes = to_xlsx(t);  // libxlsxwriter refuses the raw title as a sheet name: this would throw
  CHECK(bytes.substr(0, 2) == "PK");
}
