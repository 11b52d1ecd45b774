#include "anxin/core/care_tier.hpp"

namespace anxin {

// 000 二.(一):
//  1. 重点人群: 年龄 ≥ 80 岁; 年龄 < 80 岁的重残 (残疾等级 1—2 级)、重度失能或完全失能、
//     未开展能力评估但因身体原因长期卧床 (按重度失能或完全失能归类), 包含失智老年人.
//  2. 次重点人群: 年龄 < 80 岁的中度失能, 或未开展能力评估但因身体原因行动不便 (按中度失能归类).
//  3. 一般人群: 年龄 < 80 岁的轻度失能或身体健康.
CareTier care_tier(const Elder& elder, int age) {
  if (age >= 80) return CareTier::key;

  const bool assessed = elder.ability.has_value();
  const bool severe_loss =
      assessed ? (*elder.ability == Ability::severe || *elder.ability == Ability::complete)
               : elder.bedridden;
  const bool heavy_disability = elder.disability_grade == 1 || elder.disability_grade == 2;
  if (heavy_disability || severe_loss || elder.dementia) return CareTier::key;

  const bool moderate_loss =
      assessed ? *elder.ability == Ability::moderate : elder.limited_mobility;
  if (moderate_loss) return CareTier::sub_key;

  return CareTier::general;
}

}  // namespace anxin
