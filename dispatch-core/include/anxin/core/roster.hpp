// The roster (名单库): elders, their contacts and devices, imported from the CSV files
// civil-affairs offices keep in spreadsheets, with the fields of the tables in
// seeds/003_758a06f672c37a86.txt, annexes 2 and 3 (摸底汇总表). A file is read whole and
// checked whole: it is taken only if every row is good, so nothing is half-imported.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

enum class TextEncoding { utf8, gbk };
std::optional<TextEncoding> parse_encoding(std::string_view name);  // "utf-8", "utf8", "gbk", "gb18030"

// One thing wrong with the file: the 1-based line of the CSV file (the header is
// line 1), the column as the header names it (empty for the row as a whole), and
// what is wrong in words a supervisor can act on.
struct RosterError {
  int line = 0;
  std::string field;
  std::string message;
};

struct RosterImport {
  std::vector<Elder> elders;    // ids as in the file's 编号 column, or 0 for new elders
  std::vector<Device> devices;  // Device::elder refers to elders[i].id, or to -(i+1) for new elder i
  std::vector<RosterError> errors;  // empty: the import may be applied
  std::vector<int> lines;       // the line each of `elders` starts on
};

// Parses a roster CSV. `today` (YYYY-MM-DD) judges ages; `workers` are the visitor
// names a 结对帮扶人 column may name. Decodes GBK to UTF-8 first when asked to.
RosterImport parse_roster(std::string_view bytes, TextEncoding encoding, std::string_view today,
                          const std::vector<Worker>& workers);

// GBK (CP936/GB18030 subset) to UTF-8; nullopt with the byte offset of the first bad
// sequence in `bad_at` when the text is not GBK.
std::optional<std::string> gbk_to_utf8(std::string_view bytes, size_t* bad_at = nullptr);
std::string utf8_to_gbk(std::string_view text);  // for tests and exports to old Excel

}  // namespace anxin
