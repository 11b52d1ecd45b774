// Private to dispatch-core: the care record on the wire (protocol.cpp). The entry
// code is never written by record_json, whatever the record holds.
#pragma once

#include <nlohmann/json.hpp>

#include "anxin/core/elder_record.hpp"

namespace anxin::elder_record {

nlohmann::json record_json(const ElderRecord& r);
ElderRecord record_from(const nlohmann::json& j, ElderId elder);  // throws json_util::Failure
nlohmann::json patch_json(const ElderRecordPatch& p);
ElderRecordPatch patch_from(const nlohmann::json& j);             // throws json_util::Failure

}  // namespace anxin::elder_record
