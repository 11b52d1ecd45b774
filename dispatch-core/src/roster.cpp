// Roster CSV import (roster.hpp). Owns the CSV reader, text decoding (glibc iconv) and
// the column rules; calls nothing but domain.hpp. The columns are those of the 摸底汇总表
// in seeds/003_758a06f672c37a86.txt 附件2 and 附件3, plus what dispatch needs (devices,
// coordinates, visitor). docs/roster.md describes the format for the offices.
#include "anxin/core/roster.hpp"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>

namespace anxin {

namespace {

std::string say(std::string_view zh, std::string_view en) {
  return std::string(zh) + " (" + std::string(en) + ")";
}

// --- text decoding -------------------------------------------------------------

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};

// Converts with glibc iconv. A bad input sequence either stops the conversion (its offset
// goes to `bad_at`) or, with `replace`, becomes '?' one byte at a time.
std::optional<std::string> convert(std::string_view in, const char* to, const char* from,
                                   size_t* bad_at, bool replace) {
  iconv_t raw = iconv_open(to, from);
  if (raw == reinterpret_cast<iconv_t>(-1))
    throw std::runtime_error(std::string("iconv cannot convert ") + from + " to " + to);
  std::unique_ptr<void, IconvCloser> cd(raw);
  std::string out;
  char* inp = const_cast<char*>(in.data());
  size_t left = in.size();
  while (left > 0) {
    char buf[4096];
    char* o = buf;
    size_t room = sizeof buf;
    size_t r = iconv(raw, &inp, &left, &o, &room);
    out.append(buf, static_cast<size_t>(o - buf));
    if (r != static_cast<size_t>(-1) || errno == E2BIG) continue;
    if (!replace) {
      if (bad_at) *bad_at = in.size() - left;
      return std::nullopt;
    }
    out += '?';
    ++inp;
    --left;
  }
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// One field's bytes to UTF-8; the UTF-8 "conversion" only validates (glibc refuses
// overlong forms and surrogates), so bad bytes never reach the store or JSON.
std::optional<std::string> decode(std::string_view bytes, TextEncoding enc, size_t* bad_at) {
  if (is_ascii(bytes)) return std::string(bytes);
  if (enc == TextEncoding::gbk) return gbk_to_utf8(bytes, bad_at);
  return convert(bytes, "UTF-8", "UTF-8", bad_at, false);
}

// --- CSV (RFC 4180) on raw bytes -------------------------------------------------
// Split before decoding: in GBK and GB18030 no trail byte is below 0x30, so a comma,
// quote, CR or LF byte is always that character, and a bad byte can be reported with
// the exact field it sits in.

struct Field {
  std::string bytes;
  size_t offset = 0;  // of the first content byte in the file
  bool quoted = false;
};

struct Record {
  int line = 0;  // where the record starts; a quoted field may span lines
  std::vector<Field> fields;
};

struct Reader {
  std::string_view s;
  size_t i = 0;
  int line = 1;
  std::vector<RosterError>& errors;

  bool line_end() const { return s[i] == '\n' || s[i] == '\r'; }
  void skip_line_end() {  // CRLF, LF, or a lone CR (old Mac Excel)
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    ++i;
    ++line;
  }

  void read_quoted(Field& f, int record_line) {
    f.quoted = true;
    f.offset = ++i;
    for (;;) {
      if (i >= s.size()) {
        errors.push_back({record_line, "", say("引号未闭合", "a quoted field is not closed")});
        return;
      }
      char c = s[i++];
      if (c == '"') {
        if (i >= s.size() || s[i] != '"') return;
        ++i;  // a doubled quote is one quote
      } else if (c == '\n') {
        ++line;
      }
      f.bytes += c;
    }
  }

  Record next() {
    Record rec{line, {}};
    for (;;) {
      Field f{{}, i, false};
      if (s[i] == '"') read_quoted(f, rec.line);
      // Text after a closing quote, or a quote inside an unquoted field, is kept as is:
      // lenient where Excel is, and no row silently loses characters.
      while (i < s.size() && s[i] != ',' && !line_end()) f.bytes += s[i++];
      rec.fields.push_back(std::move(f));
      if (i >= s.size()) return rec;
      if (s[i] != ',') {
        skip_line_end();
        return rec;
      }
      if (++i >= s.size()) {  // a trailing comma ends with one empty field
        rec.fields.push_back({{}, i, false});
        return rec;
      }
    }
  }
};

// Reads from `start` (past a BOM) so that field offsets are offsets in the file.
std::vector<Record> read_csv(std::string_view bytes, size_t start, std::vector<RosterError>& errors) {
  Reader r{bytes, start, 1, errors};
  std::vector<Record> out;
  while (r.i < bytes.size()) out.push_back(r.next());
  return out;
}

// --- small parsers ---------------------------------------------------------------

bool is_space_at(std::string_view s, size_t at, size_t& len) {
  if (s[at] == ' ' || s[at] == '\t') return (len = 1), true;
  if (s.substr(at, 3) == "\u3000") return (len = 3), true;  // full-width space
  if (s.substr(at, 2) == "\u00a0") return (len = 2), true;
  return false;
}

std::string_view trim(std::string_view s) {
  size_t len = 0;
  while (!s.empty() && is_space_at(s, 0, len)) s.remove_prefix(len);
  for (;;) {
    bool cut = false;
    for (size_t n : {1, 2, 3})
      if (s.size() >= n && is_space_at(s, s.size() - n, len) && len == n) {
        s.remove_suffix(n);
        cut = true;
        break;
      }
    if (!cut) return s;
  }
}

// Splits at any of `seps` (UTF-8 strings); pieces are trimmed, empty ones dropped.
std::vector<std::string_view> split(std::string_view s, std::initializer_list<std::string_view> seps) {
  std::vector<std::string_view> out;
  size_t start = 0, i = 0;
  auto push = [&](size_t end) {
    auto piece = trim(s.substr(start, end - start));
    if (!piece.empty()) out.push_back(piece);
  };
  while (i < s.size()) {
    auto sep = std::find_if(seps.begin(), seps.end(), [&](auto p) { return s.substr(i, p.size()) == p; });
    if (sep == seps.end()) {
      ++i;
      continue;
    }
    push(i);
    i += sep->size();
    start = i;
  }
  push(s.size());
  return out;
}

// Keeps empty pieces: "name::phone" has an empty relation.
std::vector<std::string_view> split_keep(std::string_view s, std::string_view a, std::string_view b) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size();) {
    size_t n = s.substr(i, a.size()) == a ? a.size() : s.substr(i, b.size()) == b ? b.size() : 0;
    if (n == 0) {
      ++i;
      continue;
    }
    out.push_back(trim(s.substr(start, i - start)));
    i += n;
    start = i;
  }
  out.push_back(trim(s.substr(start)));
  return out;
}

// Raw bytes with nothing but ASCII blanks (safe before decoding: no GBK byte is one).
bool raw_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool blank(const Record& r) {
  return std::all_of(r.fields.begin(), r.fields.end(), [](const Field& f) { return raw_blank(f.bytes); });
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <class T> std::optional<T> parse_number(std::string_view s) {
  T v{};
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool valid_ymd(int y, int m, int d) {
  static constexpr int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days[m - 1]) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m != 2 || d <= 28 || leap;
}

std::string ymd(int y, int m, int d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

// YYYY-MM-DD, and the 1945/3/7 or 1945.3.7 that Excel writes when it re-saves a CSV.
std::optional<std::string> parse_date(std::string_view s) {
  auto parts = split_keep(s, "-", "/");
  if (parts.size() == 1) parts = split_keep(s, ".", ".");
  if (parts.size() != 3 || parts[0].size() != 4 || parts[1].size() > 2 || parts[2].size() > 2) return std::nullopt;
  auto y = parse_number<int>(parts[0]), m = parse_number<int>(parts[1]), d = parse_number<int>(parts[2]);
  if (!y || !m || !d || !valid_ymd(*y, *m, *d)) return std::nullopt;
  return ymd(*y, *m, *d);
}

// GB 11643-1999: the 18th character checks the first 17 digits (ISO 7064 MOD 11-2).
char id_check_char(std::string_view first17) {
  static constexpr int weight[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (first17[i] - '0') * weight[i];
  return "10X98765432"[sum % 11];
}

// A mobile number (11 digits from 1) or a landline: 7-8 digits, or an area code from 0
// with an optional dash.
bool valid_phone(std::string_view p) {
  if (all_digits(p)) return p[0] == '1' ? p.size() == 11 : p.size() >= 7 && p.size() <= 12;
  auto dash = p.find('-');
  if (dash == std::string_view::npos) return false;
  auto area = p.substr(0, dash), local = p.substr(dash + 1);
  return all_digits(area) && area[0] == '0' && area.size() >= 3 && area.size() <= 4 &&
         all_digits(local) && local.size() >= 7 && local.size() <= 8;
}

std::optional<bool> parse_yes_no(std::string_view s) {
  if (s.empty() || s == "否") return false;
  if (s == "是") return true;
  return std::nullopt;
}

// --- columns -------------------------------------------------------------------

enum class Col {
  seq, id, name, sex, birth, age, phone, id_number, categories, ability, disability,
  bedridden, limited_mobility, guardian, guardian_phone, contacts, town, community, address,
  lat, lon, consent, visitor, doctor, doctor_phone, devices, count_
};
constexpr size_t kCols = static_cast<size_t>(Col::count_);

struct ColumnSpec {
  Col col;
  bool required;
  std::vector<std::string_view> names;  // the first is the name docs/roster.md uses
};

// Spellings from seeds/003_758a06f672c37a86.txt 附件2 (本人联系电话, 乡镇, 建床地址) and
// 附件3 (联系电话, 镇, 家庭地址, "监护人    联系电话"); headers are compared without spaces
// and with full-width brackets made ASCII.
const std::vector<ColumnSpec>& column_specs() {
  static const std::vector<ColumnSpec> specs = {
      {Col::seq, false, {"序号"}},
      {Col::id, false, {"编号"}},
      {Col::name, true, {"老人姓名", "姓名"}},
      {Col::sex, true, {"性别"}},
      {Col::birth, false, {"出生日期"}},
      {Col::age, false, {"年龄"}},
      {Col::phone, false, {"本人联系电话", "联系电话"}},
      {Col::id_number, false, {"身份证号", "身份证号码"}},
      {Col::categories, false, {"老人身份类别"}},
      {Col::ability, false, {"能力评估结果"}},
      {Col::disability, false, {"残疾等级"}},
      {Col::bedridden, false, {"卧床"}},
      {Col::limited_mobility, false, {"行动不便"}},
      {Col::guardian, false, {"监护人姓名"}},
      {Col::guardian_phone, false, {"监护人联系电话"}},
      {Col::contacts, false, {"紧急联系人"}},
      {Col::town, true, {"乡镇", "镇", "街道", "乡镇（街道）"}},
      {Col::community, true, {"村（居）", "村居", "村/居"}},
      {Col::address, true, {"家庭地址", "建床地址"}},
      {Col::lat, false, {"纬度"}},
      {Col::lon, false, {"经度"}},
      {Col::consent, false, {"是否同意入户探访"}},
      {Col::visitor, false, {"结对帮扶人"}},
      {Col::doctor, false, {"家庭医生"}},
      {Col::doctor_phone, false, {"家庭医生电话"}},
      {Col::devices, false, {"设备"}},
  };
  return specs;
}

const ColumnSpec& spec_of(Col c) { return column_specs()[static_cast<size_t>(c)]; }

std::string normalize_header(std::string_view h) {
  std::string out;
  for (size_t i = 0, len = 0; i < h.size();) {
    if (is_space_at(h, i, len)) {
      i += len;
    } else if (h.substr(i, 3) == "（" || h.substr(i, 3) == "）") {
      out += h.substr(i, 3) == "（" ? '(' : ')';
      i += 3;
    } else {
      out += h[i++];
    }
  }
  return out;
}

std::optional<Col> find_column(std::string_view header) {
  auto name = normalize_header(header);
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& spec : column_specs())
      for (auto alias : spec.names)
        if (normalize_header(alias) == name) return spec.col;
    // The annexes print the accepted values in the header: 老人身份类别（分散特困/...）.
    auto paren = name.find('(');
    if (paren == std::string::npos || name.back() != ')') return std::nullopt;
    name.resize(paren);
  }
  return std::nullopt;
}

struct Columns {
  std::vector<std::optional<Col>> at;  // by position in the file
  std::vector<std::string> header;     // as written, trimmed; names columns in errors
  std::array<int, kCols> position;     // -1: the file has no such column
};

Columns read_header(const Record& rec, TextEncoding enc, std::vector<RosterError>& errors) {
  Columns cols;
  cols.position.fill(-1);
  for (const auto& f : rec.fields) {
    size_t bad = 0;
    auto text = decode(f.bytes, enc, &bad);
    cols.header.emplace_back(text ? trim(*text) : std::string_view("?"));
    auto col = text ? find_column(*text) : std::nullopt;
    cols.at.push_back(col);
    int pos = static_cast<int>(cols.at.size()) - 1;
    if (!text) {
      errors.push_back({rec.line, "", say("表头含有无法解码的字节", "header has bytes that do not decode")});
    } else if (cols.header.back().empty()) {
      continue;  // Excel saves trailing empty columns; data under them is reported per row
    } else if (!col) {
      errors.push_back({rec.line, cols.header.back(), say("未知的列", "unknown column")});
    } else if (cols.position[static_cast<size_t>(*col)] >= 0) {
      errors.push_back({rec.line, cols.header.back(), say("列重复", "column appears twice")});
    } else {
      cols.position[static_cast<size_t>(*col)] = pos;
    }
  }
  for (const auto& spec : column_specs())
    if (spec.required && cols.position[static_cast<size_t>(spec.col)] < 0)
      errors.push_back({rec.line, std::string(spec.names[0]), say("缺少必需的列", "required column missing")});
  if (cols.position[static_cast<size_t>(Col::birth)] < 0 && cols.position[static_cast<size_t>(Col::id_number)] < 0)
    errors.push_back({rec.line, "出生日期", say("需要出生日期或身份证号列", "need a birth date or ID number column")});
  return cols;
}

// --- one row -------------------------------------------------------------------

// A row's decoded cells and the errors found in it; at most one error per column, so a
// field that failed to decode is not also reported as missing.
class Row {
 public:
  Row(int line, const Columns& cols, std::vector<RosterError>& errors)
      : line(line), cols_(cols), errors_(errors) {}

  int line;

  void set(size_t pos, std::string text) {
    if (auto c = cols_.at[pos]) cells_[static_cast<size_t>(*c)] = std::move(text);
    else if (cols_.header[pos].empty() && !trim(text).empty())
      fail_at(pos, say("无表头的列中有数据", "data in a column with no header"));
  }
  std::string_view get(Col c) const { return trim(cells_[static_cast<size_t>(c)]); }
  bool has_column(Col c) const { return cols_.position[static_cast<size_t>(c)] >= 0; }

  void fail_at(size_t pos, std::string message) {
    if (auto c = cols_.at[pos]) failed_[static_cast<size_t>(*c)] = true;
    errors_.push_back({line, cols_.header[pos], std::move(message)});
  }
  void fail(Col c, std::string message) {
    auto i = static_cast<size_t>(c);
    if (failed_[i]) return;
    failed_[i] = true;
    int pos = cols_.position[i];
    errors_.push_back({line, pos >= 0 ? cols_.header[pos] : std::string(spec_of(c).names[0]), std::move(message)});
  }
  void require(Col c) {
    if (has_column(c) && get(c).empty()) fail(c, say("必填项为空", "required field is empty"));
  }

 private:
  const Columns& cols_;
  std::vector<RosterError>& errors_;
  std::array<std::string, kCols> cells_;
  std::array<bool, kCols> failed_{};
};

// The file-wide state rows are checked against.
struct Context {
  TextEncoding encoding;
  std::string_view today;
  const std::vector<Worker>& workers;
  std::map<std::string, int, std::less<>> serial_line, id_number_line, elder_id_line;
  RosterImport out;
};

std::optional<std::string> check_phone(Row& row, Col c) {
  auto p = row.get(c);
  if (p.empty()) return std::string();
  if (!valid_phone(p)) {
    row.fail(c, say("电话号码格式错误", "phone must be an 11-digit mobile or a landline"));
    return std::nullopt;
  }
  return std::string(p);
}

// Remembers `key` for the column; a second row with it is an error naming the first.
void check_unique(Row& row, Col c, std::map<std::string, int, std::less<>>& seen, std::string_view key,
                  std::string_view zh) {
  auto [it, fresh] = seen.emplace(std::string(key), row.line);
  if (!fresh)
    row.fail(c, say(std::string(zh) + "与第" + std::to_string(it->second) + "行重复",
                    "same as line " + std::to_string(it->second)));
}

void parse_id(Row& row, Context& ctx, Elder& e) {
  auto s = row.get(Col::id);
  if (s.empty()) return;
  auto id = parse_number<ElderId>(s);
  if (!id || *id <= 0) return row.fail(Col::id, say("编号应为正整数", "id must be a positive whole number"));
  e.id = *id;
  check_unique(row, Col::id, ctx.elder_id_line, s, "编号");
}

// The ID number carries birth date and sex (GB 11643); when the row also gives them
// they must agree, a cheap catch for a row pasted next to someone else's ID.
void parse_id_number(Row& row, Context& ctx, Elder& e, std::optional<std::string>& id_birth) {
  std::string id(row.get(Col::id_number));
  if (id.empty()) return;
  if (id.back() == 'x') id.back() = 'X';
  auto first17 = std::string_view(id).substr(0, 17);
  if (id.size() != 18 || !all_digits(first17) || !(all_digits(id.substr(17)) || id[17] == 'X'))
    return row.fail(Col::id_number, say("身份证号应为18位", "ID number must be 18 characters"));
  if (id_check_char(first17) != id[17])
    return row.fail(Col::id_number, say("身份证号校验位错误", "ID number check digit wrong"));
  auto y = parse_number<int>(first17.substr(6, 4)), m = parse_number<int>(first17.substr(10, 2)),
       d = parse_number<int>(first17.substr(12, 2));
  if (!valid_ymd(*y, *m, *d))
    return row.fail(Col::id_number, say("身份证号中的出生日期无效", "ID number holds no valid birth date"));
  e.id_number = id;
  id_birth = ymd(*y, *m, *d);
  check_unique(row, Col::id_number, ctx.id_number_line, id, "身份证号");
  Sex id_sex = (first17[16] - '0') % 2 == 1 ? Sex::male : Sex::female;
  if (row.get(Col::sex).size() && id_sex != e.sex)
    row.fail(Col::sex, say("性别与身份证号不符", "sex does not match the ID number"));
}

void parse_birth(Row& row, Context& ctx, Elder& e, const std::optional<std::string>& id_birth) {
  auto s = row.get(Col::birth);
  if (!s.empty()) {
    auto birth = parse_date(s);
    if (!birth) return row.fail(Col::birth, say("出生日期格式应为YYYY-MM-DD", "birth date must be YYYY-MM-DD"));
    if (id_birth && *id_birth != *birth)
      return row.fail(Col::birth, say("出生日期与身份证号不符", "birth date does not match the ID number"));
    e.birth_date = *birth;
  } else if (id_birth) {
    e.birth_date = *id_birth;
  } else if (row.get(Col::id_number).empty()) {
    return row.fail(row.has_column(Col::birth) ? Col::birth : Col::id_number,
                    say("出生日期和身份证号至少填一项", "give a birth date or an ID number"));
  }
  if (!e.birth_date.empty() && age_on(e.birth_date, ctx.today) < 0)
    row.fail(Col::birth, say("出生日期晚于今天", "birth date is after today"));
}

// 年龄 (附件2/附件3) is redundant with the birth date; a disagreement means one is wrong.
void check_age(Row& row, Context& ctx, const Elder& e) {
  auto text = row.get(Col::age);
  if (text.empty()) return;
  if (text.size() > 3 && text.substr(text.size() - 3) == "岁") text.remove_suffix(3);
  auto age = parse_number<int>(text);
  if (!age) return row.fail(Col::age, say("年龄应为整数", "age must be a whole number"));
  int age_now = e.birth_date.empty() ? -1 : age_on(e.birth_date, ctx.today);
  if (age_now >= 0 && *age != age_now)
    row.fail(Col::age, say("年龄与出生日期不符，应为" + std::to_string(age_now) + "岁",
                           "age does not match the birth date; it is " + std::to_string(age_now)));
}

void parse_identity(Row& row, Context& ctx, Elder& e) {
  parse_id(row, ctx, e);
  row.require(Col::name);
  e.name = row.get(Col::name);
  auto sex = row.get(Col::sex);
  if (sex == "男" || sex == "女") e.sex = sex == "男" ? Sex::male : Sex::female;
  else if (sex.empty()) row.require(Col::sex);
  else row.fail(Col::sex, say("性别应为男或女", "sex must be 男 or 女"));
  std::optional<std::string> id_birth;
  parse_id_number(row, ctx, e, id_birth);
  parse_birth(row, ctx, e, id_birth);
  check_age(row, ctx, e);
}

// 老人身份类别: the values of seeds/003_758a06f672c37a86.txt 附件2/附件3, plus 低保边缘 and
// 纯老家庭 (DOMAIN.md). One living situation and one economic status are kept: the
// lower LivingSituation / the stronger EconomicStatus, since a 独居 elder is also 空巢.
void parse_categories(Row& row, Elder& e) {
  static const std::map<std::string_view, LivingSituation> living = {
      {"独居", LivingSituation::alone}, {"空巢", LivingSituation::empty_nest},
      {"留守", LivingSituation::left_behind}, {"纯老家庭", LivingSituation::elderly_only}};
  static const std::map<std::string_view, EconomicStatus> economic = {
      {"分散特困", EconomicStatus::extreme_poverty}, {"特困", EconomicStatus::extreme_poverty},
      {"经济困难", EconomicStatus::subsistence}, {"低保家庭", EconomicStatus::subsistence},
      {"低保", EconomicStatus::subsistence}, {"低保边缘", EconomicStatus::near_poverty}};
  auto economic_rank = [](EconomicStatus s) {
    return s == EconomicStatus::extreme_poverty ? 3 : s == EconomicStatus::subsistence ? 2
         : s == EconomicStatus::near_poverty ? 1 : 0;
  };
  e.living = LivingSituation::with_family;  // the file claims nothing it does not say
  for (auto item : split(row.get(Col::categories), {"、", "，", ",", ";", "；", "/"})) {
    if (auto l = living.find(item); l != living.end()) {
      e.living = std::min(e.living, l->second);
    } else if (auto s = economic.find(item); s != economic.end()) {
      if (economic_rank(s->second) > economic_rank(e.economic)) e.economic = s->second;
    } else if (item == "计划生育特殊困难家庭" || item == "计划生育特殊家庭") {
      e.special_family = true;
    } else if (item != "高龄" && item != "残疾人" && item != "有特殊贡献") {
      // 高龄 follows from the birth date, 残疾人 from 残疾等级; 有特殊贡献 is kept by the office.
      return row.fail(Col::categories, say("未知的老人身份类别：" + std::string(item),
                                           "unknown category: " + std::string(item)));
    }
  }
}

// 能力评估结果 (seeds/003_758a06f672c37a86.txt 附件2/附件3). 失智 is a flag, not a level,
// so "重度失能、失智" is one level plus dementia.
void parse_ability(Row& row, Elder& e) {
  static const std::map<std::string_view, Ability> levels = {
      {"能力完好", Ability::intact}, {"轻度失能", Ability::mild}, {"轻度", Ability::mild},
      {"中度失能", Ability::moderate}, {"中度", Ability::moderate},
      // 中重度失能 (附件2/附件3) has no row of its own in the tier rule of
      // seeds/000_22e5d44906de9250.txt 二.(一); it is past moderate, so it is counted with
      // 重度失能 and puts the elder in the key group.
      {"中重度失能", Ability::severe}, {"重度失能", Ability::severe}, {"重度", Ability::severe},
      {"完全失能", Ability::complete}, {"完全", Ability::complete}};
  e.ability.reset();
  for (auto item : split(row.get(Col::ability), {"、", "，", ",", ";", "；", "/"})) {
    if (item == "失智") {
      e.dementia = true;
    } else if (item == "未评估") {
      continue;
    } else if (auto l = levels.find(item); l == levels.end()) {
      return row.fail(Col::ability, say("未知的能力评估结果：" + std::string(item),
                                        "unknown assessment: " + std::string(item)));
    } else if (e.ability && *e.ability != l->second) {
      return row.fail(Col::ability, say("能力评估结果只能有一个等级", "give one level of ability"));
    } else {
      e.ability = l->second;
    }
  }
}

void parse_condition(Row& row, Elder& e) {
  parse_categories(row, e);
  parse_ability(row, e);
  auto grade = row.get(Col::disability);
  if (grade.size() > 3 && grade.substr(grade.size() - 3) == "级") grade.remove_suffix(3);
  if (grade == "无") grade = "0";
  auto g = grade.empty() ? std::optional<int>(0) : parse_number<int>(grade);
  if (!g || *g < 0 || *g > 4) row.fail(Col::disability, say("残疾等级应为0-4", "disability grade must be 0-4"));
  else e.disability_grade = *g;
  // 000 二.(一): these count only for an elder not yet assessed; care_tier() applies that.
  for (auto [col, flag] : {std::pair{Col::bedridden, &e.bedridden}, std::pair{Col::limited_mobility, &e.limited_mobility}}) {
    auto yes = parse_yes_no(row.get(col));
    if (!yes) row.fail(col, say("应为是或否", "must be 是 or 否"));
    else *flag = *yes;
  }
}

// "name:relation:phone;..." in the 紧急联系人 column, after the guardian.
void parse_extra_contacts(Row& row, Elder& e) {
  for (auto item : split(row.get(Col::contacts), {";", "；"})) {
    auto parts = split_keep(item, ":", "：");
    if (parts.size() != 3 || parts[0].empty() || !valid_phone(parts[2]))
      return row.fail(Col::contacts, say("紧急联系人应为 姓名:关系:电话，多人用;分隔",
                                         "contacts must be name:relation:phone separated by ;"));
    e.contacts.push_back({std::string(parts[0]), std::string(parts[1]), std::string(parts[2])});
  }
}

void parse_contacts(Row& row, Elder& e) {
  if (auto p = check_phone(row, Col::phone)) e.phone = *p;
  auto guardian = row.get(Col::guardian);
  auto guardian_phone = check_phone(row, Col::guardian_phone);
  if (!guardian.empty() && guardian_phone && guardian_phone->empty())
    row.fail(Col::guardian_phone, say("缺少监护人联系电话", "guardian has no phone"));
  else if (guardian.empty() && guardian_phone && !guardian_phone->empty())
    row.fail(Col::guardian, say("缺少监护人姓名", "guardian phone without a name"));
  else if (!guardian.empty() && guardian_phone)
    e.contacts.push_back({std::string(guardian), "监护人", *guardian_phone});
  parse_extra_contacts(row, e);
  e.family_doctor = row.get(Col::doctor);
  if (auto p = check_phone(row, Col::doctor_phone)) e.family_doctor_phone = *p;
}

std::optional<double> parse_coordinate(Row& row, Col c, double lo, double hi, std::string_view zh) {
  auto v = parse_number<double>(row.get(c));
  if (!v || !std::isfinite(*v) || *v < lo || *v > hi) {
    row.fail(c, say(std::string(zh) + "应在" + std::to_string(int(lo)) + "到" + std::to_string(int(hi)) + "之间",
                    "must be a decimal in China's range " + std::to_string(int(lo)) + ".." + std::to_string(int(hi))));
    return std::nullopt;
  }
  return v;
}

void parse_place(Row& row, Elder& e) {
  for (Col c : {Col::town, Col::community, Col::address}) row.require(c);
  e.town = row.get(Col::town);
  e.community = row.get(Col::community);
  e.address = row.get(Col::address);
  bool has_lat = !row.get(Col::lat).empty(), has_lon = !row.get(Col::lon).empty();
  if (has_lat != has_lon)
    return row.fail(has_lat ? Col::lon : Col::lat, say("纬度和经度须同时填写", "give both latitude and longitude"));
  if (!has_lat) return;
  // China lies within these; a swapped pair or a typo lands outside.
  auto lat = parse_coordinate(row, Col::lat, 3, 54, "纬度");
  auto lon = parse_coordinate(row, Col::lon, 73, 136, "经度");
  if (lat && lon) e.lat = *lat, e.lon = *lon;
}

void parse_visiting(Row& row, Context& ctx, Elder& e) {
  // 000: 入户探访要征得老年人或其监护人同意.
  auto consent = parse_yes_no(row.get(Col::consent));
  if (!consent) row.fail(Col::consent, say("应为是或否", "must be 是 or 否"));
  else e.visit_consent = *consent;
  auto name = row.get(Col::visitor);
  if (name.empty()) return;
  auto n = std::count_if(ctx.workers.begin(), ctx.workers.end(), [&](const Worker& w) { return w.name == name; });
  if (n == 0) return row.fail(Col::visitor, say("结对帮扶人不在工作人员名单中", "visitor is not a known worker"));
  if (n > 1) return row.fail(Col::visitor, say("结对帮扶人重名，无法确定", "several workers have this name"));
  e.paired_worker = std::find_if(ctx.workers.begin(), ctx.workers.end(), [&](const Worker& w) {
                      return w.name == name;
                    })->id;
}

std::optional<DeviceKind> parse_device_kind(std::string_view s) {
  static const std::map<std::string_view, DeviceKind> chinese = {
      {"一键通", DeviceKind::sos_button}, {"烟感", DeviceKind::smoke}, {"燃气", DeviceKind::gas},
      {"水浸", DeviceKind::water_leak}, {"红外", DeviceKind::infrared}, {"门磁", DeviceKind::door},
      {"床垫", DeviceKind::bed}, {"体征", DeviceKind::vital_signs}, {"定位手环", DeviceKind::geofence},
      {"水表", DeviceKind::water_meter}};
  if (auto k = chinese.find(s); k != chinese.end()) return k->second;
  return parse_enum<DeviceKind>(s);
}

void parse_devices(Row& row, Context& ctx, ElderId owner) {
  for (auto item : split(row.get(Col::devices), {";", "；"})) {
    auto parts = split_keep(item, ":", "：");
    auto kind = parts.size() == 2 ? parse_device_kind(parts[0]) : std::nullopt;
    if (!kind || parts[1].empty())
      return row.fail(Col::devices, say("设备应为 类型:序列号，多个用;分隔，类型如一键通、烟感",
                                        "devices must be kind:serial separated by ;"));
    check_unique(row, Col::devices, ctx.serial_line, parts[1], "设备序列号" + std::string(parts[1]));
    Device d;
    d.id = parts[1];
    d.kind = *kind;
    d.elder = owner;
    ctx.out.devices.push_back(std::move(d));
  }
}

// Decodes the record's fields into the row; a bad byte is reported with its offset.
void load_row(Row& row, const Record& rec, TextEncoding enc) {
  for (size_t pos = 0; pos < rec.fields.size(); ++pos) {
    const auto& f = rec.fields[pos];
    size_t bad = 0;
    auto text = decode(f.bytes, enc, &bad);
    if (text) {
      row.set(pos, std::move(*text));
      continue;
    }
    // A doubled quote in a quoted field is two bytes in the file.
    size_t at = f.offset + bad + (f.quoted ? std::count(f.bytes.begin(), f.bytes.begin() + bad, '"') : 0);
    row.fail_at(pos, say(std::string(enc == TextEncoding::gbk ? "不是有效的GBK编码" : "不是有效的UTF-8编码，是否为GBK文件？") +
                             "，位于文件第" + std::to_string(at) + "字节",
                         std::string(enc == TextEncoding::gbk ? "not valid GBK" : "not valid UTF-8; is the file GBK?") +
                             ", at byte offset " + std::to_string(at)));
  }
}

void parse_row(const Record& rec, const Columns& cols, Context& ctx, std::vector<RosterError>& errors) {
  if (blank(rec)) return;  // an empty line, or a spreadsheet's ",,,," row
  if (rec.fields.size() != cols.at.size()) {  // one error for the line, not one per column
    errors.push_back({rec.line, "", say("字段数为" + std::to_string(rec.fields.size()) + "，表头为" +
                                            std::to_string(cols.at.size()),
                                        "row has " + std::to_string(rec.fields.size()) + " fields, header has " +
                                            std::to_string(cols.at.size()))});
    return;
  }
  Row row(rec.line, cols, errors);
  load_row(row, rec, ctx.encoding);
  Elder e;
  parse_identity(row, ctx, e);
  parse_condition(row, e);
  parse_contacts(row, e);
  parse_place(row, e);
  parse_visiting(row, ctx, e);
  auto index = static_cast<ElderId>(ctx.out.elders.size());
  parse_devices(row, ctx, e.id != 0 ? e.id : -(index + 1));
  ctx.out.elders.push_back(std::move(e));
  ctx.out.lines.push_back(rec.line);
}

}  // namespace

std::optional<TextEncoding> parse_encoding(std::string_view name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "utf-8" || n == "utf8") return TextEncoding::utf8;
  if (n == "gbk" || n == "gb18030" || n == "cp936" || n == "gb2312") return TextEncoding::gbk;
  return std::nullopt;
}

// GB18030 is a superset of GBK that also holds the rare characters some names need;
// for every GBK byte sequence it gives the same character.
std::optional<std::string> gbk_to_utf8(std::string_view bytes, size_t* bad_at) {
  return convert(bytes, "UTF-8", "GB18030", bad_at, false);
}

std::string utf8_to_gbk(std::string_view text) {
  return *convert(text, "GB18030", "UTF-8", nullptr, true);
}

RosterImport parse_roster(std::string_view bytes, TextEncoding encoding, std::string_view today,
                          const std::vector<Worker>& workers) {
  if (age_on(today, today) != 0) throw std::invalid_argument("parse_roster: today must be YYYY-MM-DD");
  Context ctx{encoding, today, workers, {}, {}, {}, {}};
  auto& errors = ctx.out.errors;
  bool bom = bytes.substr(0, 3) == "\xEF\xBB\xBF";
  if (bom && encoding == TextEncoding::gbk)
    errors.push_back({1, "", say("文件是带BOM的UTF-8，不是GBK", "the file is UTF-8 with a BOM, not GBK")});
  auto records = read_csv(bytes, bom ? 3 : 0, errors);
  auto header = std::find_if(records.begin(), records.end(), [](const Record& r) { return !blank(r); });
  if (header == records.end()) {
    errors.push_back({1, "", say("文件没有表头", "the file has no header row")});
    return std::move(ctx.out);
  }
  auto cols = read_header(*header, encoding, errors);
  for (auto it = header + 1; it != records.end(); ++it) parse_row(*it, cols, ctx, errors);
  // The CSV reader's errors come first; a supervisor fixes the file top to bottom.
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
  return std::move(ctx.out);
}

}  // namespace anxin
