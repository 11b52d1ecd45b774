// The care-tier rule table of seeds/000_22e5d44906de9250.txt, 二.(一), row by row.
#include <catch2/catch.hpp>

#include "anxin/core/care_tier.hpp"
#include "anxin/core/clock.hpp"

using namespace anxin;

namespace {

struct Row {
  const char* why;
  int age;
  std::optional<Ability> ability;
  bool bedridden, limited_mobility;
  int disability_grade;
  bool dementia;
  CareTier expected;
};

}  // namespace

TEST_CASE("care tier follows the three-group rule of 000", "[core][tier]") {
  using A = Ability;
  using T = CareTier;
  auto row = GENERATE(values<Row>({
      // age >= 80 is key whatever else holds
      {"80, healthy", 80, A::intact, false, false, 0, false, T::key},
      {"95, mild", 95, A::mild, false, false, 0, false, T::key},
      {"80, not assessed", 80, std::nullopt, false, false, 0, false, T::key},
      // the 80-year boundary
      {"79, healthy", 79, A::intact, false, false, 0, false, T::general},
      {"79, moderate", 79, A::moderate, false, false, 0, false, T::sub_key},
      // under 80, key
      {"disability grade 1", 70, A::intact, false, false, 1, false, T::key},
      {"disability grade 2", 70, A::mild, false, false, 2, false, T::key},
      {"severe loss", 65, A::severe, false, false, 0, false, T::key},
      {"complete loss", 65, A::complete, false, false, 0, false, T::key},
      {"not assessed, bedridden", 72, std::nullopt, true, false, 0, false, T::key},
      {"dementia, otherwise healthy", 68, A::intact, false, false, 0, true, T::key},
      // under 80, sub-key
      {"moderate loss", 75, A::moderate, false, false, 0, false, T::sub_key},
      {"not assessed, limited mobility", 75, std::nullopt, false, true, 0, false, T::sub_key},
      {"grade 3 disability, moderate", 66, A::moderate, false, false, 3, false, T::sub_key},
      // under 80, general
      {"mild loss", 61, A::mild, false, false, 0, false, T::general},
      {"healthy", 60, A::intact, false, false, 0, false, T::general},
      {"not assessed, no limits noted", 70, std::nullopt, false, false, 0, false, T::general},
      {"grade 3 disability, mild", 66, A::mild, false, false, 3, false, T::general},
      {"grade 4 disability", 66, A::intact, false, false, 4, false, T::general},
      // an assessment outranks the unassessed flags
      {"assessed mild, flagged bedridden", 70, A::mild, true, false, 0, false, T::general},
      {"assessed intact, flagged limited", 70, A::intact, false, true, 0, false, T::general},
  }));
  Elder e;
  e.ability = row.ability;
  e.bedridden = row.bedridden;
  e.limited_mobility = row.limited_mobility;
  e.disability_grade = row.disability_grade;
  e.dementia = row.dementia;
  INFO(row.why);
  CHECK(care_tier(e, row.age) == row.expected);
}

TEST_CASE("age is whole years on the day", "[core][tier]") {
  CHECK(age_on("1946-11-26", "2026-11-26") == 80);
  CHECK(age_on("1946-11-27", "2026-11-26") == 79);
  CHECK(age_on("1944-02-29", "2024-02-28") == 79);
  CHECK(age_on("1944-02-29", "2024-02-29") == 80);
  CHECK(age_on("not a date", "2026-11-26") == -1);
}

TEST_CASE("national ID numbers are masked for display", "[core]") {
  CHECK(mask_id_number("372922194403021234") == "3729**********1234");
  CHECK(mask_id_number("37172119560715123X") == "3717**********123X");
  CHECK(mask_id_number("1234") == "****");
}

TEST_CASE("local date is China time", "[core]") {
  // 2026-11-25T16:00:00Z is midnight of the 26th in Beijing.
  CHECK(local_date(1795622400000LL) == "2026-11-26");
  CHECK(local_date(1795622399999LL) == "2026-11-25");
}
