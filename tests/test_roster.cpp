// Roster CSV import (roster.hpp): the columns of the 摸底汇总表 in
// seeds/003_758a06f672c37a86.txt 附件2/附件3, in UTF-8 and GBK, and a file where every
// row is wrong in its own way and every fault must be reported with line and column.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <tuple>

#include "anxin/core/care_tier.hpp"
#include "anxin/core/roster.hpp"

using namespace anxin;

namespace {

constexpr const char* kToday = "2024-06-01";

std::vector<Worker> workers() {
  Worker a;
  a.id = 7;
  a.name = "李娟";
  Worker b;
  b.id = 8;
  b.name = "王强";
  return {a, b};
}

// Annex spellings on purpose: the long 老人身份类别 header, 镇, 家庭地址 and the
// "监护人    联系电话" of 附件3.
const std::string kHeader =
    "序号,编号,老人姓名,性别,出生日期,年龄,本人联系电话,身份证号,"
    "老人身份类别（分散特困/经济困难/高龄/低保家庭/计划生育特殊困难家庭/残疾人/独居/空巢/留守/有特殊贡献）,"
    "能力评估结果,残疾等级,卧床,行动不便,监护人姓名,监护人    联系电话,紧急联系人,镇,村（居）,家庭地址,"
    "纬度,经度,是否同意入户探访,结对帮扶人,家庭医生,家庭医生电话,设备";

std::string good_file() {
  return kHeader + "\r\n" +
         "1,,张桂英,女,,84,13912345678,620724194005120021,独居、低保家庭,重度失能、失智,2,否,否,"
         "张小红,13900000001,王明:邻居:0936-5551234,巷道镇,东联村,\"东联村三社12号, \"\"老院子\"\"\","
         "39.38,99.82,是,李娟,赵医生,13800000002,一键通:SOS-0001;smoke:SM-0001\r\n"
         "\r\n"
         "2,42,李德福,男,1950-03-07,74,,,\"分散特困，空巢\",中重度失能,,否,否,,,,南华镇,南华村,南华村五组3号,"
         ",,否,,,,定位手环:GF-9\r\n"
         "3,,王秀兰,女,1952/9/16,,0936-5550000,62072419520916088x,空巢;计划生育特殊困难家庭,未评估,3,是,否,"
         "王小军,13700000003,,骆驼城镇,前进村,\"前进村\r\n二社8号\",,,是,王强,,,\r\n";
}

// Everything the import decides about an elder, as one comparable string.
std::string describe(const Elder& e) {
  std::ostringstream o;
  o << e.id << '|' << e.name << '|' << name_of(e.sex) << '|' << e.birth_date << '|' << e.phone << '|'
    << e.id_number << '|' << e.town << '|' << e.community << '|' << e.address << '|' << e.lat << ','
    << e.lon << '|' << name_of(e.living) << '|' << (e.ability ? name_of(*e.ability) : "unassessed") << '|'
    << e.bedridden << e.limited_mobility << e.dementia << e.special_family << '|' << e.disability_grade << '|'
    << name_of(e.economic) << '|' << e.family_doctor << ':' << e.family_doctor_phone << '|'
    << e.paired_worker.value_or(0) << '|' << e.visit_consent;
  for (const auto& c : e.contacts) o << '|' << c.name << ':' << c.relation << ':' << c.phone;
  return o.str();
}

std::string describe(const Device& d) { return d.id + '|' + std::string(name_of(d.kind)) + '|' + std::to_string(d.elder); }

template <class T> std::vector<std::string> describe_all(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(describe(i));
  return out;
}

std::string errors_text(const RosterImport& r) {
  std::string out;
  for (const auto& e : r.errors) out += std::to_string(e.line) + " [" + e.field + "] " + e.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("roster: a good UTF-8 file gives each elder its fields", "[roster]") {
  auto r = parse_roster("\xEF\xBB\xBF" + good_file(), TextEncoding::utf8, kToday, workers());
  INFO(errors_text(r));
  REQUIRE(r.errors.empty());
  REQUIRE(r.elders.size() == 3);

  const Elder& zhang = r.elders[0];
  CHECK(zhang.id == 0);
  CHECK(zhang.name == "张桂英");
  CHECK(zhang.sex == Sex::female);
  CHECK(zhang.birth_date == "1940-05-12");  // from the ID number
  CHECK(zhang.phone == "13912345678");
  CHECK(zhang.living == LivingSituation::alone);
  CHECK(zhang.economic == EconomicStatus::subsistence);
  CHECK(zhang.ability == Ability::severe);
  CHECK(zhang.dementia);
  CHECK(zhang.disability_grade == 2);
  REQUIRE(zhang.contacts.size() == 2);
  CHECK(zhang.contacts[0].name == "张小红");
  CHECK(zhang.contacts[0].relation == "监护人");
  CHECK(zhang.contacts[0].phone == "13900000001");
  CHECK(zhang.contacts[1].relation == "邻居");
  CHECK(zhang.contacts[1].phone == "0936-5551234");
  CHECK(zhang.town == "巷道镇");
  CHECK(zhang.community == "东联村");
  CHECK(zhang.address == "东联村三社12号, \"老院子\"");
  CHECK(zhang.lat == Approx(39.38));
  CHECK(zhang.lon == Approx(99.82));
  CHECK(zhang.visit_consent);
  CHECK(zhang.paired_worker == 7);
  CHECK(zhang.family_doctor == "赵医生");
  CHECK(zhang.family_doctor_phone == "13800000002");

  const Elder& li = r.elders[1];
  CHECK(li.id == 42);  // updates elder 42
  CHECK(li.birth_date == "1950-03-07");
  CHECK(li.economic == EconomicStatus::extreme_poverty);
  CHECK(li.living == LivingSituation::empty_nest);
  CHECK(li.ability == Ability::severe);  // 中重度失能 counts with 重度 (000)
  CHECK(care_tier(li, 74) == CareTier::key);
  CHECK(li.contacts.empty());
  CHECK_FALSE(li.paired_worker);
  CHECK(li.lat == 0);

  const Elder& wang = r.elders[2];
  CHECK(wang.birth_date == "1952-09-16");  // Excel's 1952/9/16
  CHECK(wang.id_number == "62072419520916088X");
  CHECK_FALSE(wang.ability);
  CHECK(wang.bedridden);
  CHECK(wang.special_family);
  CHECK(wang.disability_grade == 3);
  CHECK(wang.address == "前进村\r\n二社8号");
  CHECK(wang.paired_worker == 8);
  CHECK(care_tier(wang, 71) == CareTier::key);  // bedridden, not assessed

  CHECK(describe_all(r.devices) ==
        std::vector<std::string>{"SOS-0001|sos_button|-1", "SM-0001|smoke|-1", "GF-9|geofence|42"});
}

TEST_CASE("roster: the same file in GBK parses identically", "[roster]") {
  auto utf8 = parse_roster(good_file(), TextEncoding::utf8, kToday, workers());
  auto gbk_bytes = utf8_to_gbk(good_file());
  REQUIRE(gbk_bytes != good_file());
  REQUIRE(gbk_to_utf8(gbk_bytes) == good_file());
  auto gbk = parse_roster(gbk_bytes, *parse_encoding("GBK"), kToday, workers());
  INFO(errors_text(gbk));
  REQUIRE(gbk.errors.empty());
  CHECK(describe_all(gbk.elders) == describe_all(utf8.elders));
  CHECK(describe_all(gbk.devices) == describe_all(utf8.devices));
}

TEST_CASE("roster: every bad field is reported with its line and column", "[roster]") {
  const std::string header = "老人姓名,性别,出生日期,身份证号,残疾等级,乡镇,村（居）,建床地址,纬度,经度,结对帮扶人,设备";
  const std::string bad_name = utf8_to_gbk("王") + "\xFF";
  std::string text = utf8_to_gbk(header + "\n" +
                                 "甲,男,,620724194703010119,0,巷道镇,东联村,一号,,,,一键通:SOS-1\n"  // 2: check digit
                                 "乙,未知,1950-01-01,,0,巷道镇,东联村,二号,,,,\n"                     // 3: sex
                                 "丙,女,1950-01-01,,7,巷道镇,东联村,三号,,,,\n"                       // 4: grade 7
                                 "丁,男,1950-01-01,,0,巷道镇,东联村,四号,,,陈不存在,\n"               // 5: visitor
                                 "戊,女,1950-01-01,,0,巷道镇,东联村,五号,,,,烟感:SOS-1\n"             // 6: serial
                                 "己,男,1950-01-01,,0,巷道镇,东联村,六号,95,99.8,,\n"                 // 7: latitude
                                 "庚,女,1950-01-01,,0,,东联村,七号,,,,\n"                             // 8: no town
                                 "辛,男,1950-01-01,,0,巷道镇\n"                                       // 9: fields
                                 ",,,,,,,,,,,\n"                                                      // 10: blank
                                 "\n") +                                                              // 11: blank
                     bad_name + utf8_to_gbk(",男,1950-01-01,,0,巷道镇,东联村,十二号,,,,\n");     // 12: bytes
  auto r = parse_roster(text, TextEncoding::gbk, kToday, workers());
  INFO(errors_text(r));

  using Want = std::tuple<int, std::string, std::string>;  // line, column, part of the message
  const std::vector<Want> want = {
      {2, "身份证号", "身份证号校验位错误 (ID number check digit wrong)"},
      {3, "性别", "sex must be"},
      {4, "残疾等级", "disability grade must be 0-4"},
      {5, "结对帮扶人", "not a known worker"},
      {6, "设备", "same as line 2"},
      {7, "纬度", "纬度应在3到54之间"},
      {8, "乡镇", "required field is empty"},
      {9, "", "row has 6 fields, header has 12"},
      {12, "老人姓名", "not valid GBK, at byte offset " + std::to_string(text.find('\xFF'))},
  };
  REQUIRE(r.errors.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& [line, field, message] = want[i];
    INFO("error " << i);
    CHECK(r.errors[i].line == line);
    CHECK(r.errors[i].field == field);
    CHECK_THAT(r.errors[i].message, Catch::Contains(message));
  }
}

TEST_CASE("roster: unknown and missing header columns are named", "[roster]") {
  auto r = parse_roster("老人姓名,性别,出生日期,乡镇,家庭地址,房屋建筑面积（㎡）,爱好\n", TextEncoding::utf8, kToday, {});
  INFO(errors_text(r));
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].line == 1);
  CHECK(r.errors[0].field == "房屋建筑面积（㎡）");
  CHECK_THAT(r.errors[0].message, Catch::Contains("unknown column"));
  CHECK(r.errors[1].field == "爱好");
  CHECK(r.errors[2].field == "村（居）");
  CHECK_THAT(r.errors[2].message, Catch::Contains("required column missing"));
}

TEST_CASE("roster: age must agree with the birth date and phones must be phones", "[roster]") {
  const std::string head = "老人姓名,性别,出生日期,年龄,联系电话,乡镇,村（居）,家庭地址\n";
  auto ok = parse_roster(head + "甲,男,1944-06-01,80,0936-5551234,镇,村,址\n", TextEncoding::utf8, kToday, {});
  CHECK(ok.errors.empty());
  auto bad = parse_roster(head + "甲,男,1944-06-02,80,1391234567,镇,村,址\n", TextEncoding::utf8, kToday, {});
  INFO(errors_text(bad));
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].field == "年龄");
  CHECK_THAT(bad.errors[0].message, Catch::Contains("it is 79"));
  CHECK(bad.errors[1].field == "联系电话");
}

TEST_CASE("roster: a UTF-8 file with GBK bytes says where", "[roster]") {
  auto text = "老人姓名,性别,出生日期,乡镇,村（居）,家庭地址\n" + utf8_to_gbk("张三") + ",男,1944-06-01,镇,村,址\n";
  auto r = parse_roster(text, TextEncoding::utf8, kToday, {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].field == "老人姓名");
  CHECK_THAT(r.errors[0].message, Catch::Contains("is the file GBK?"));
  size_t bad_at = 0;
  CHECK_FALSE(gbk_to_utf8("ab\xFF", &bad_at));
  CHECK(bad_at == 2);
  CHECK(parse_encoding("utf-8") == TextEncoding::utf8);
  CHECK(parse_encoding("GB18030") == TextEncoding::gbk);
  CHECK_FALSE(parse_encoding("latin1"));
}

TEST_CASE("roster: Excel's trailing empty columns are ignored unless they hold data", "[roster]") {
  const std::string head = "老人姓名,性别,出生日期,年龄,乡镇,村（居）,家庭地址,,\n";
  auto r = parse_roster(head + "甲,男,1944-06-01,八十,镇,村,址,,\n乙,女,1944-06-01,,镇,村,址,,备注\n",
                        TextEncoding::utf8, kToday, {});
  INFO(errors_text(r));
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].field == "年龄");
  CHECK_THAT(r.errors[0].message, Catch::Contains("whole number"));
  CHECK(r.errors[1].line == 3);
  CHECK(r.errors[1].field == "");
  CHECK_THAT(r.errors[1].message, Catch::Contains("column with no header"));
}
