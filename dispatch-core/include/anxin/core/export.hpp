// Reports leave the centre as spreadsheets (the civil-affairs offices work in them):
// one table, written as CSV (UTF-8 with a BOM, so Excel opens Chinese correctly) or
// as an XLSX workbook (libxlsxwriter).
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace anxin {

using Cell = std::variant<std::string, double, long long>;

struct Table {
  std::string title;                 // the sheet's name and the first row of the XLSX
  std::vector<std::string> columns;  // header row
  std::vector<std::vector<Cell>> rows;
};

// RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF
// line ends; a UTF-8 BOM first. Text starting with = + - @ gets a leading ' so Excel
// does not run it as a formula. The title is not written (CSV has no place for it).
std::string to_csv(const Table& table);
// The bytes of an .xlsx file holding the table on one sheet (numbers as numbers).
// Throws std::runtime_error if libxlsxwriter fails.
std::string to_xlsx(const Table& table);

}  // namespace anxin
