#include "anxin/core/notifier.hpp"

#include <nlohmann/json.hpp>

namespace anxin {

std::string notice_json(const Notice& n) {
  nlohmann::json j{{"kind", name_of(n.kind)}, {"task_id", n.task_id}, {"incident_id", n.incident},
                   {"elder_id", n.elder}, {"to_name", n.to_name}, {"to_phone", n.to_phone},
                   {"text", n.text}, {"at_ms", n.at_ms}, {"notice_id", n.id}};
  return j.dump();
}

std::string masked_phone(std::string_view phone) {
  if (phone.size() < 8) return std::string(phone.size(), '*');
  return std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') +
         std::string(phone.substr(phone.size() - 4));
}

}  // namespace anxin
