// The registry's compact elder table (issue 15, item 5) against the plain map it
// replaced: every elder found by id with the same fields and strings, through growth,
// edits in place, the store's appended rows, and ids put out of order.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <stdexcept>

#include "anxin/core/elder_table.hpp"

using namespace anxin;

namespace {

// Strings of every length class the arena's lengths take: empty, short, UTF-8, and
// longer than 127 and 16383 bytes (two and three bytes of length).
std::string text_of(std::mt19937& rng, const std::string& stem) {
  switch (rng() % 6) {
    case 0: return "";
    case 1: return stem;
    case 2: return stem + "村委会旁" + std::to_string(rng() % 1000) + "号";
    case 3: return std::string(128 + rng() % 300, 'x') + stem;
    case 4: return std::string(16384 + rng() % 50, 'y');
    default: return "山东省菏泽市曹县" + stem + "路" + std::to_string(rng() % 100000);
  }
}

Elder make(ElderId id, std::mt19937& rng) {
  Elder e;
  e.id = id;
  e.name = text_of(rng, "张" + std::to_string(id));
  e.sex = static_cast<Sex>(rng() % 2);
  e.birth_date = "1940-01-" + std::to_string(10 + rng() % 18);
  e.phone = text_of(rng, "1390000" + std::to_string(rng() % 10000));
  e.id_number = text_of(rng, "3717" + std::to_string(id));
  e.town = text_of(rng, "青堌集镇");
  e.community = text_of(rng, "王庄村");
  e.address = text_of(rng, "幸福路");
  e.lat = 34.8 + static_cast<double>(rng() % 1000) / 1e4;
  e.lon = 115.5 + static_cast<double>(rng() % 1000) / 1e4;
  e.living = static_cast<LivingSituation>(rng() % 5);
  if (rng() % 3) e.ability = static_cast<Ability>(rng() % 5);
  e.bedridden = rng() % 2;
  e.limited_mobility = rng() % 2;
  e.disability_grade = static_cast<int>(rng() % 5);
  e.dementia = rng() % 2;
  e.special_family = rng() % 2;
  e.economic = static_cast<EconomicStatus>(rng() % 4);
  for (unsigned k = rng() % 5; k > 0; --k)
    e.contacts.push_back({text_of(rng, "李" + std::to_string(k)), k % 2 ? "女儿" : "", text_of(rng, "1380000")});
  e.family_doctor = text_of(rng, "王医生");
  e.family_doctor_phone = text_of(rng, "0530-1234");
  if (rng() % 2) e.paired_worker = static_cast<WorkerId>(rng() % 50 + 1);
  e.visit_consent = rng() % 2;
  e.unknown_caller = rng() % 10 == 0;
  return e;
}

bool same(const Elder& a, const Elder& b) {
  auto contacts_equal = [](const Elder& x, const Elder& y) {
    if (x.contacts.size() != y.contacts.size()) return false;
    for (size_t k = 0; k < x.contacts.size(); ++k)
      if (x.contacts[k].name != y.contacts[k].name || x.contacts[k].relation != y.contacts[k].relation ||
          x.contacts[k].phone != y.contacts[k].phone)
        return false;
    return true;
  };
  return a.id == b.id && a.name == b.name && a.sex == b.sex && a.birth_date == b.birth_date && a.phone == b.phone &&
         a.id_number == b.id_number && a.town == b.town && a.community == b.community && a.address == b.address &&
         a.lat == b.lat && a.lon == b.lon && a.living == b.living && a.ability == b.ability &&
         a.bedridden == b.bedridden && a.limited_mobility == b.limited_mobility &&
         a.disability_grade == b.disability_grade && a.dementia == b.dementia && a.special_family == b.special_family &&
         a.economic == b.economic && contacts_equal(a, b) && a.family_doctor == b.family_doctor &&
         a.family_doctor_phone == b.family_doctor_phone && a.paired_worker == b.paired_worker &&
         a.visit_consent == b.visit_consent && a.unknown_caller == b.unknown_caller;
}

// The table holds exactly `model`: by id, through its views, and in id order by each().
void check_holds(const ElderTable& t, const std::map<ElderId, Elder>& model) {
  REQUIRE(t.size() == model.size());
  std::mt19937 rng(5);
  for (const auto& [id, e] : model) {
    const ElderTable::Row r = t.find(id);
    REQUIRE(r != ElderTable::none);
    CHECK(same(t.elder(r), e));
    CHECK(t.id(r) == id);
    CHECK(t.text(r, ElderTable::name) == e.name);
    CHECK(t.text(r, ElderTable::phone) == e.phone);
    CHECK(t.text(r, ElderTable::family_doctor_phone) == e.family_doctor_phone);
    CHECK(t.unknown_caller(r) == e.unknown_caller);
    // What ranking reads, over an elder read before: the rest is left as it was.
    Elder ranked = make(id + 1, rng);
    const Elder before = ranked;
    t.read_for_ranking(r, ranked);
    Elder expected = e;
    expected.name = before.name, expected.phone = before.phone, expected.id_number = before.id_number;
    expected.town = before.town, expected.community = before.community, expected.address = before.address;
    expected.family_doctor = before.family_doctor, expected.family_doctor_phone = before.family_doctor_phone;
    expected.contacts = before.contacts;
    CHECK(same(ranked, expected));
    REQUIRE(t.contacts(r) == e.contacts.size());
    for (size_t k = 0; k < e.contacts.size(); ++k) {
      CHECK(t.contact(r, k).name == e.contacts[k].name);
      CHECK(t.contact(r, k).relation == e.contacts[k].relation);
      CHECK(t.contact(r, k).phone == e.contacts[k].phone);
    }
  }
  auto next = model.begin();
  size_t seen = 0;
  t.each([&](const Elder& e) {
    REQUIRE(next != model.end());
    CHECK(same(e, next->second));  // the reused Elder holds nothing of the one before
    ++next, ++seen;
  });
  CHECK(seen == model.size());
  if (!model.empty()) CHECK(t.max_id() == model.rbegin()->first);
}

}  // namespace

TEST_CASE("the elder table finds what a map of elders finds", "[city]") {
  ElderTable t;
  std::map<ElderId, Elder> model;
  std::mt19937 rng(11);
  // Ids put out of order, enough to grow the index several times.
  for (int n = 0; n < 3000; ++n) {
    const ElderId id = n % 2 ? 100000 - n : n + 1;
    Elder e = make(id, rng);
    CHECK(t.id(t.put(e)) == id);
    model[id] = e;
  }
  check_holds(t, model);
  CHECK(t.find(999999) == ElderTable::none);
  CHECK_THROWS_AS(t.row(999999), std::out_of_range);
  // Absent ids within the rows' span, where a row is looked for by the id's distance
  // from the first, and below it.
  for (ElderId absent : {0, 2, 4, 1000, 2998, -5}) CHECK(t.find(absent) == ElderTable::none);

  // Edited in place: same row, every field anew, the elders around it untouched.
  for (int n = 0; n < 500; ++n) {
    const ElderId id = std::next(model.begin(), static_cast<long>(rng() % model.size()))->first;
    const ElderTable::Row before = t.find(id);
    Elder e = make(id, rng);
    CHECK(t.put(e) == before);
    model[id] = e;
  }
  check_holds(t, model);

  // each() stops when asked.
  int visited = 0;
  t.each([&](const Elder&) { return ++visited < 10; });
  CHECK(visited == 10);
}

TEST_CASE("the elder table takes the store's rows appended then indexed", "[city]") {
  std::mt19937 rng(5);
  std::vector<Elder> rows;
  for (ElderId id = 1; id <= 2000; ++id) rows.push_back(make(id, rng));
  ElderTable t;
  t.reserve(rows.size());
  for (const Elder& e : rows) t.append(e);
  CHECK_THROWS_AS(t.find(1), std::logic_error);  // not yet indexed: refused, never a wrong answer
  t.index_appended();
  std::map<ElderId, Elder> model;
  for (const Elder& e : rows) model[e.id] = e;
  check_holds(t, model);

  // Afterwards, a new elder (the phone line's unknown caller) and an edit.
  Elder caller = make(2001, rng);
  caller.unknown_caller = true;
  t.put(caller);
  model[caller.id] = caller;
  Elder edited = make(7, rng);
  t.put(edited);
  model[7] = edited;
  check_holds(t, model);

  // Built from a list, as tests build a LiveState.
  check_holds(ElderTable(rows), [&] {
    std::map<ElderId, Elder> m;
    for (const Elder& e : rows) m[e.id] = e;
    return m;
  }());
}

TEST_CASE("the elder table takes back the text of edited elders", "[city]") {
  std::mt19937 rng(3);
  std::map<ElderId, Elder> model;
  ElderTable t;
  for (ElderId id = 1; id <= 100; ++id) t.put(model[id] = make(id, rng));
  // One elder edited a thousand times with 20 KB of address each time: 20 MB of text
  // if nothing were reclaimed.
  size_t most = 0;
  for (int n = 0; n < 1000; ++n) {
    Elder e = make(42, rng);
    e.address = std::string(20000, static_cast<char>('a' + n % 26));
    t.put(model[42] = e);
    most = std::max(most, t.text_bytes());
  }
  check_holds(t, model);
  size_t live = 0;
  for (const auto& [id, e] : model) {
    live += e.name.size() + e.birth_date.size() + e.phone.size() + e.id_number.size() + e.town.size() +
            e.community.size() + e.address.size() + e.family_doctor.size() + e.family_doctor_phone.size();
    for (const auto& c : e.contacts) live += c.name.size() + c.relation.size() + c.phone.size();
  }
  // Reclaimed once the unused passes 1 MiB and the used: at most about twice the used.
  CHECK(most < 2 * live + (2u << 20));
}

TEST_CASE("the elder table finds elders by name phone address or ID number tail", "[city]") {
  Elder e;
  e.id = 1;
  e.name = "张桂英";
  e.phone = "13900001234";
  e.address = "青堌集镇王庄村12号";
  e.id_number = "37172119400101123X";
  ElderTable t(std::vector<Elder>{e});
  for (std::string_view q : {"桂英", "0000123", "王庄村", "123X", "0101123X"})
    CHECK(t.matches(0, q));
  CHECK_FALSE(t.matches(0, "李"));
  CHECK_FALSE(t.matches(0, "2119"));  // digits inside the ID number, not at its end
  CHECK_FALSE(t.matches(0, "23X"));   // a tail of fewer than 4
}
