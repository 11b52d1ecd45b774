// The care-tier rule: which of the three visiting groups an elder belongs to.
// Source: seeds/000_22e5d44906de9250.txt, 二.(一) 分类确定探访关爱服务对象 (002 repeats it).
#pragma once

#include "anxin/core/domain.hpp"

namespace anxin {

// `age` is whole years on the day the tier is asked for; tiers move as elders age.
CareTier care_tier(const Elder& elder, int age);

}  // namespace anxin
