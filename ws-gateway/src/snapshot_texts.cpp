#include "snapshot_texts.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

namespace anxin::gateway {

namespace proto = anxin::protocol;

void SnapshotTexts::changed(const proto::DeltaMessage& delta) {
  if (delta.worker) {
    stale_workers_.insert(delta.worker->id);
    workers_.erase(delta.worker->id);
    return;
  }
  stale_incidents_.insert(delta.incident.id);
  if (auto l = live_at(delta.incident.id); l != live_.end() && l->id == delta.incident.id) l->text.reset();
}

std::vector<SnapshotTexts::Live>::iterator SnapshotTexts::live_at(IncidentId id) {
  return std::lower_bound(live_.begin(), live_.end(), id, [](const Live& l, IncidentId v) { return l.id < v; });
}

SnapshotTexts::Text SnapshotTexts::incident(const Incident& i) {
  auto l = live_at(i.id);  // new incidents have the highest ids: at the end
  if (l == live_.end() || l->id != i.id) l = live_.insert(l, Live{i.id, i.elder, nullptr, nullptr});
  if (l->elder != i.elder) l->card.reset();  // a caller found out (link_caller)
  l->elder = i.elder;
  if (!l->text) l->text = std::make_shared<const std::string>(proto::encode_incident(i));
  if (!l->card) l->card = card(i.elder);
  return l->text;
}

SnapshotTexts::Text SnapshotTexts::worker(const Worker& w) {
  auto& t = workers_[w.id];
  if (!t) t = std::make_shared<const std::string>(proto::encode_worker(for_consoles_(w)));
  return t;
}

void SnapshotTexts::forget_cards() {
  cards_.clear();
  for (Live& l : live_) l.card.reset();
}

void SnapshotTexts::check_day() {
  if (std::string today = dispatcher_.today(); today != today_) {
    forget_cards();  // ages count from today
    today_ = std::move(today);
  }
}

SnapshotTexts::Text SnapshotTexts::card(ElderId elder) {
  auto& t = cards_[elder];
  if (!t) t = std::make_shared<const std::string>(proto::encode_card(card_of_(elder)));
  return t;
}

void SnapshotTexts::refresh(std::chrono::microseconds budget) {
  const auto until = budget == std::chrono::microseconds::max()
                         ? std::chrono::steady_clock::time_point::max()
                         : std::chrono::steady_clock::now() + budget;
  auto past = [&] { return std::chrono::steady_clock::now() >= until; };
  check_day();
  while (!stale_incidents_.empty() && !past()) {
    const IncidentId id = *stale_incidents_.begin();
    stale_incidents_.erase(stale_incidents_.begin());
    const Incident* i = dispatcher_.incident(id);
    if (i && i->is_open()) {
      incident(*i);  // and its card
    } else if (auto l = live_at(id); l != live_.end() && l->id == id) {
      live_.erase(l);  // resolved: out of the live set
    }
  }
  while (!stale_workers_.empty() && !past()) {
    const WorkerId id = *stale_workers_.begin();
    stale_workers_.erase(stale_workers_.begin());
    if (const Worker* w = dispatcher_.worker(id)) worker(*w);
  }
}

// Every change comes with a delta (changed()), so after a refresh the texts are the
// open incidents'; at the start, or should that ever not hold, the open incidents are
// the truth.
void SnapshotTexts::rebuild_live() {
  if (!live_.empty())
    std::fprintf(stderr, "anxin-server: snapshot texts for %zu incidents, %zu open: rebuilt\n", live_.size(),
                 dispatcher_.open_count());
  std::vector<Live> kept = std::exchange(live_, {});
  for (const Incident* i : dispatcher_.open_incidents()) {
    auto was = std::lower_bound(kept.begin(), kept.end(), i->id, [](const Live& l, IncidentId v) { return l.id < v; });
    const bool kept_one = was != kept.end() && was->id == i->id && was->elder == i->elder;
    live_.push_back({i->id, i->elder, kept_one ? was->text : nullptr, kept_one ? was->card : nullptr});
    incident(*i);  // encodes what it has no text of
  }
}

proto::SnapshotText SnapshotTexts::take(std::uint64_t seq, const std::string& epoch, Millis now_ms) {
  proto::SnapshotText parts{seq, epoch, now_ms, {}, {}, {}};
  // On the service thread, so as little as it can be a text: no day read, nothing
  // allocated per incident, no lookups (anxin-bench stall: 14,000 incidents took
  // 16-23 ms here before).
  refresh();  // everything stale: encoded, or out if resolved
  const bool whole = live_.size() == dispatcher_.open_count() &&
                     std::all_of(live_.begin(), live_.end(), [](const Live& l) { return l.text != nullptr; });
  if (!whole) rebuild_live();
  parts.incidents.reserve(live_.size());
  parts.elders.reserve(live_.size());
  for (Live& l : live_) {
    if (!l.card) l.card = card(l.elder);  // the roster changed, or the day
    parts.incidents.push_back(l.text);
    parts.elders.push_back(l.card);
  }
  for (const Worker* w : dispatcher_.workers()) parts.workers.push_back(worker(*w));
  return parts;
}

SnapshotStream::SnapshotStream(std::shared_ptr<const proto::SnapshotText> parts, const std::string& req)
    : parts_(std::move(parts)) {
  // The fixed pieces from the same encoder, on the parts without their lists: a key
  // such as "incidents":[] cannot occur inside a string there, whose quotes are escaped.
  const proto::SnapshotText bare{parts_->seq, parts_->epoch, parts_->server_time_ms, {}, {}, {}};
  const std::string whole = proto::assemble_snapshot(bare, req);
  size_t at = 0;
  int i = 0;
  for (const std::string_view key : {"\"incidents\":[", "\"elders\":[", "\"workers\":["}) {
    const size_t end = whole.find(key, at) + key.size();
    fixed_[i++] = whole.substr(at, end - at);
    at = end;
  }
  fixed_[3] = whole.substr(at);
  for (const std::string& f : fixed_) size_ += f.size();
  for (int l = 0; l < 3; ++l) {
    for (const auto& t : list(l)) size_ += t->size();
    if (!list(l).empty()) size_ += list(l).size() - 1;  // the commas
  }
}

const std::vector<std::shared_ptr<const std::string>>& SnapshotStream::list(int i) const {
  return i == 0 ? parts_->incidents : i == 1 ? parts_->elders : parts_->workers;
}

std::string_view SnapshotStream::piece() const {
  if (part_ % 2 == 0) return fixed_[part_ / 2];
  if (comma_) return ",";
  return *list(part_ / 2)[item_];
}

void SnapshotStream::next() {
  offset_ = 0;
  if (part_ % 2 == 0) {
    ++part_;
    item_ = 0;
    comma_ = false;
  } else if (comma_) {
    comma_ = false;
  } else {
    ++item_;
    comma_ = true;
  }
  if (part_ % 2 == 1 && item_ >= list(part_ / 2).size()) {  // the list's end: the next joint
    ++part_;
    item_ = 0;
    comma_ = false;
  }
}

size_t SnapshotStream::read(char* out, size_t max) {
  size_t n = 0;
  while (n < max && part_ < 7) {
    const std::string_view p = piece();
    const size_t take = std::min(p.size() - offset_, max - n);
    std::memcpy(out + n, p.data() + offset_, take);
    n += take;
    offset_ += take;
    if (offset_ == p.size()) next();
  }
  sent_ += n;
  return n;
}

}  // namespace anxin::gateway
