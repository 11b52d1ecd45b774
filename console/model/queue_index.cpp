#include "queue_index.hpp"

#include <algorithm>
#include <set>

namespace anxin::console {
namespace {

// ASCII case folding only: Chinese has no case, and serials and pinyin are ASCII.
bool contains(const std::string& haystack, const std::string& needle_lower) {
  if (needle_lower.size() > haystack.size()) return false;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto it = std::search(haystack.begin(), haystack.end(), needle_lower.begin(), needle_lower.end(),
                        [&](char h, char n) { return lower(h) == n; });
  return it != haystack.end();
}

std::string lowered(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

bool matches_search(const Incident& i, const protocol::ElderCard* e, const std::string& text) {
  const std::string needle = lowered(text);
  if (needle.empty()) return true;
  if (e && (contains(e->name, needle) || contains(e->address, needle) || contains(e->phone, needle) ||
            contains(e->community, needle)))
    return true;
  if (e)
    for (const auto& c : e->contacts)
      if (contains(c.phone, needle)) return true;
  // Alerts name their device (the serial printed on it) as the actor.
  for (const auto& t : i.timeline)
    if (t.kind == TimelineKind::alert && contains(t.actor, needle)) return true;
  return needle[0] == '#' && "#" + std::to_string(i.id) == needle;
}

void QueueIndex::rebuild_all(const Replica& r, Millis now) {
  all_.clear();
  all_.reserve(r.incidents().size());
  for (const auto& [id, i] : r.incidents()) all_.push_back({&i, r.elder(i.elder), queue_score(i, now)});
  std::sort(all_.begin(), all_.end(), [](const QueueRow& a, const QueueRow& b) {
    return queue_before(*a.incident, a.score, *b.incident, b.score);
  });
  built_version_ = r.version();
  built_second_ = now / 1000;
}

const std::vector<QueueRow>& QueueIndex::all(const Replica& r, Millis now) {
  if (built_version_ != r.version() || built_second_ != now / 1000) rebuild_all(r, now);
  return all_;
}

const std::vector<QueueRow>& QueueIndex::rows(const Replica& r, const QueueFilter& f, Millis now) {
  const auto& everything = all(r, now);
  if (!f.active()) return everything;
  if (filtered_version_ == built_version_ && filtered_second_ == built_second_ && filtered_by_ == f) return filtered_;
  filtered_.clear();
  for (const QueueRow& row : everything) {
    if (!f.town.empty() && (!row.elder || row.elder->town != f.town)) continue;
    if (f.kind && row.incident->lead_kind() != *f.kind) continue;
    if (!f.search.empty() && !matches_search(*row.incident, row.elder, f.search)) continue;
    filtered_.push_back(row);
  }
  filtered_version_ = built_version_;
  filtered_second_ = built_second_;
  filtered_by_ = f;
  return filtered_;
}

const std::vector<std::string>& QueueIndex::towns(const Replica& r) {
  if (towns_version_ == r.version()) return towns_;
  std::set<std::string> names;
  for (const auto& [id, i] : r.incidents())
    if (const auto* e = r.elder(i.elder); e && !e->town.empty()) names.insert(e->town);
  towns_.assign(names.begin(), names.end());
  towns_version_ = r.version();
  return towns_;
}

}  // namespace anxin::console
