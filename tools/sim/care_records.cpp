#include "care_records.hpp"

#include <sqlite3.h>

#include "anxin/core/domain.hpp"
#include "anxin/core/store.hpp"

namespace anxin::sim {
namespace {

struct Condition {
  const char* name;
  double share;                   // of elders who have it
  std::vector<const char*> drugs;  // one of these is taken, or both with 30 %
};

// Shares about those of rural Shandong's over-65s in county health checks, rounded:
// hypertension is the commonest by far, then diabetes and heart disease.
const std::vector<Condition>& conditions() {
  static const std::vector<Condition> c = {
      {"高血压", 0.55, {"氨氯地平 5mg 每日一次", "硝苯地平缓释片 20mg 每日两次"}},
      {"糖尿病", 0.22, {"二甲双胍 0.5g 每日三次", "格列美脲 2mg 每日早餐前"}},
      {"冠心病", 0.15, {"阿司匹林肠溶片 100mg 每日一次", "单硝酸异山梨酯 20mg 每日两次"}},
      {"骨质疏松", 0.14, {"碳酸钙D3片 每日一次"}},
      {"关节炎", 0.12, {"塞来昔布 200mg 疼时服"}},
      {"慢阻肺", 0.08, {"噻托溴铵吸入剂 每日一次"}},
      {"脑梗后遗症", 0.07, {"氯吡格雷 75mg 每日一次", "阿托伐他汀 20mg 每晚一次"}},
  };
  return c;
}

int age_of(const Elder& e, const std::string& today) {
  return std::stoi(today.substr(0, 4)) - std::stoi(e.birth_date.substr(0, 4));
}

}  // namespace

std::vector<ElderRecord> care_records(const District& d, std::uint64_t seed, const std::string& today) {
  Rng rng(seed ^ 0x63617265ULL);  // "care"
  std::vector<ElderRecord> out;
  out.reserve(d.elders.size());
  for (const Elder& e : d.elders) {
    ElderRecord r;
    r.elder = e.id;
    for (const auto& c : conditions()) {
      if (!rng.chance(c.share)) continue;
      r.conditions.push_back(c.name);
      r.medications.push_back(c.drugs[rng.uniform(0, static_cast<std::int64_t>(c.drugs.size()) - 1)]);
      if (c.drugs.size() > 1 && rng.chance(0.3)) {
        for (const char* drug : c.drugs)
          if (r.medications.back() != drug) r.medications.push_back(drug);
      }
    }
    if (e.dementia) {
      r.conditions.push_back("阿尔茨海默病");
      r.medications.push_back("多奈哌齐 5mg 每晚一次");
    }
    for (auto [allergen, share] : {std::pair{"青霉素", 0.08}, {"磺胺类", 0.03}, {"头孢类", 0.03}, {"海鲜", 0.02}})
      if (rng.chance(share)) r.allergies.push_back(allergen);
    // The town's own health centre, or the county's hospitals for the town seat.
    const bool seat = e.town == "曹城街道" || e.town == "磐石街道" || e.town == "郑庄街道" ||
                      e.town == "青菏街道";
    r.hospital = seat ? (rng.chance(0.7) ? d.county + "人民医院" : d.county + "中医医院")
                      : (rng.chance(0.6) ? e.town + "卫生院" : d.county + "人民医院");
    if (e.living == LivingSituation::alone || e.living == LivingSituation::elderly_only ||
        e.living == LivingSituation::empty_nest) {
      if (rng.chance(0.7)) {
        static const char* const kPlaces[] = {"钥匙盒在门左侧墙上", "钥匙盒在院门内侧", "密码门锁（院门）",
                                              "钥匙盒挂在东屋窗下"};
        r.entry = kPlaces[rng.uniform(0, 3)];
        r.entry_code = std::to_string(rng.uniform(1000, 9999));
      } else {
        r.entry = "备用钥匙在邻居家（隔壁），先打第一联系人";
      }
    } else {
      r.entry = "家人白天多在家，敲门即可";
    }
    const int age = age_of(e, today);
    if (age >= 85 && rng.chance(0.5)) r.hearing = rng.chance(0.4) ? "右耳戴助听器，说话面对面" : "听力差，需大声慢说";
    else if (age >= 75 && rng.chance(0.15)) r.hearing = "听力稍差，说话慢一点";
    r.dialect = rng.chance(0.35) ? "只讲曹县方言，语速慢" : "";
    out.push_back(std::move(r));
  }
  return out;
}

void write_care_records(const std::string& db_path, const std::vector<ElderRecord>& records) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    throw StoreError("cannot open " + db_path);
  }
  try {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (const auto& r : records) elder_record::save(db, r);
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      throw StoreError(std::string("care records: ") + sqlite3_errmsg(db));
  } catch (...) {
    sqlite3_close(db);
    throw;
  }
  sqlite3_close(db);
}

}  // namespace anxin::sim
