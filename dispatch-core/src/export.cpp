// Spreadsheet exports (export.hpp): CSV by hand, XLSX through libxlsxwriter, which
// writes only to a file, so the workbook goes through a temporary file that is removed
// before returning.
#include "anxin/core/export.hpp"

#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace anxin {

namespace {

std::string number_text(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
  return std::string(buf, r.ptr);
}

// Excel runs a CSV cell that starts with = + - @ as a formula, and names and notes
// come from the field; a leading apostrophe keeps such text text (OWASP "CSV injection").
std::string defuse_formula(const std::string& s) {
  if (s.size() > 1 && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) return "'" + s;
  return s;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_cell(const Cell& cell) {
  if (auto s = std::get_if<std::string>(&cell)) return csv_field(defuse_formula(*s));
  if (auto i = std::get_if<long long>(&cell)) return std::to_string(*i);
  return number_text(std::get<double>(cell));
}

template <class Cells, class Text>
void csv_line(std::string& out, const Cells& cells, Text text) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    out += text(cells[i]);
  }
  out += "\r\n";
}

// --- XLSX ----------------------------------------------------------------------

// Width in Excel's units (one Latin digit): a CJK character takes two.
double display_width(const std::string& s) {
  double w = 0;
  for (unsigned char c : s) {
    if (c < 0x80) w += 1;
    else if (c >= 0xE0) w += 2;  // lead byte of a 3- or 4-byte character: CJK, mostly
    else if (c >= 0xC0) w += 1;
  }
  return w;
}

double cell_width(const Cell& cell) {
  if (auto s = std::get_if<std::string>(&cell)) return display_width(*s);
  if (auto i = std::get_if<long long>(&cell)) return static_cast<double>(std::to_string(*i).size());
  char shown[64];  // as the 0.00 format shows it, not every digit stored
  return std::snprintf(shown, sizeof shown, "%.2f", std::get<double>(cell));
}

// Excel refuses sheet names over 31 characters or with []:*?/\ in them.
std::string sheet_name(const std::string& title) {
  std::string out;
  int chars = 0;
  for (size_t i = 0; i < title.size() && chars < 31;) {
    size_t len = 1;
    auto c = static_cast<unsigned char>(title[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    auto ch = title.substr(i, len);
    out += std::string("[]:*?/\\").find(ch[0]) != std::string::npos ? "_" : ch;
    i += len;
    ++chars;
  }
  return out.empty() ? "Sheet1" : out;
}

// A temporary file that is gone when this goes out of scope, whatever happened.
struct TempFile {
  std::string path;
  TempFile() {
    path = (std::filesystem::temp_directory_path() / "anxin-export-XXXXXX.xlsx").string();
    int fd = mkstemps(path.data(), 5);
    if (fd < 0) throw std::runtime_error("to_xlsx: cannot create a temporary file");
    close(fd);
  }
  ~TempFile() { std::remove(path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
};

void check(lxw_error err, const char* what) {
  if (err != LXW_NO_ERROR) throw std::runtime_error(std::string("to_xlsx: ") + what + ": " + lxw_strerror(err));
}

struct Formats {
  lxw_format *bold, *integer, *decimal;
};

void write_cell(lxw_worksheet* ws, lxw_row_t r, lxw_col_t c, const Cell& cell, const Formats& f) {
  if (auto s = std::get_if<std::string>(&cell)) {
    check(worksheet_write_string(ws, r, c, s->c_str(), nullptr), "write_string");
  } else if (auto i = std::get_if<long long>(&cell)) {
    check(worksheet_write_number(ws, r, c, static_cast<double>(*i), f.integer), "write_number");
  } else {
    check(worksheet_write_number(ws, r, c, std::get<double>(cell), f.decimal), "write_number");
  }
}

void fill_sheet(lxw_worksheet* ws, const Table& t, const Formats& f) {
  auto ncols = static_cast<lxw_col_t>(t.columns.size());
  if (ncols > 1)
    check(worksheet_merge_range(ws, 0, 0, 0, ncols - 1, t.title.c_str(), f.bold), "merge_range");
  else
    check(worksheet_write_string(ws, 0, 0, t.title.c_str(), f.bold), "write_string");
  std::vector<double> width(ncols, 0);
  for (lxw_col_t c = 0; c < ncols; ++c) {
    check(worksheet_write_string(ws, 1, c, t.columns[c].c_str(), f.bold), "write_string");
    width[c] = display_width(t.columns[c]);
  }
  for (size_t r = 0; r < t.rows.size(); ++r)
    for (lxw_col_t c = 0; c < t.rows[r].size() && c < ncols; ++c) {
      write_cell(ws, static_cast<lxw_row_t>(r + 2), c, t.rows[r][c], f);
      width[c] = std::max(width[c], cell_width(t.rows[r][c]));
    }
  for (lxw_col_t c = 0; c < ncols; ++c)  // a little air; long notes wrap at 60
    check(worksheet_set_column(ws, c, c, std::clamp(width[c] + 2, 8.0, 60.0), nullptr), "set_column");
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string to_csv(const Table& table) {
  std::string out = "\xEF\xBB\xBF";
  csv_line(out, table.columns, [](const std::string& s) { return csv_field(defuse_formula(s)); });
  for (const auto& row : table.rows) csv_line(out, row, csv_cell);
  return out;
}

std::string to_xlsx(const Table& table) {
  TempFile file;
  lxw_workbook* wb = workbook_new(file.path.c_str());
  if (!wb) throw std::runtime_error("to_xlsx: cannot start a workbook");
  Formats f{workbook_add_format(wb), workbook_add_format(wb), workbook_add_format(wb)};
  format_set_bold(f.bold);
  format_set_num_format(f.integer, "0");
  format_set_num_format(f.decimal, "0.00");
  lxw_worksheet* ws = workbook_add_worksheet(wb, sheet_name(table.title).c_str());
  try {
    if (!ws) throw std::runtime_error("to_xlsx: cannot add the worksheet");
    fill_sheet(ws, table, f);
  } catch (...) {
    workbook_close(wb);  // frees it; the half-written file goes with TempFile
    throw;
  }
  check(workbook_close(wb), "close");
  return read_all(file.path);
}

}  // namespace anxin
