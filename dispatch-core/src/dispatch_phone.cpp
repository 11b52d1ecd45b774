// The centre's phone line in the core (issue 9). The line itself (a baresip agent
// per operator seat, ws-gateway) hands over plain facts: a number is ringing, a call
// ended. Here a ringing number becomes a phone_call alert on its elder's incident,
// exactly as an alarm frame would, and an ended call becomes a timeline entry and the
// result of the call task it was placed for.
//
// The one-key phone (一键通) "calls the service centre" (003 附件4 清单2); the centre
// answers, contacts children and other emergency contacts on the elder's behalf and
// calls 120 when needed (003 附件4 清单2; 000 二.(三)7).
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "anxin/core/dispatcher.hpp"
#include "dispatch_internal.hpp"

namespace anxin {

namespace {

// normalise_number into `d`, whose room is reused (an index of a city's millions).
void normalise_into(std::string_view number, std::string& d) {
  d.clear();
  for (char c : number)
    if (c >= '0' && c <= '9') d.push_back(c);
  if (d.rfind("0086", 0) == 0) d.erase(0, 4);
  else if (d.size() == 13 && d.rfind("86", 0) == 0) d.erase(0, 2);  // +86 and an 11-digit mobile
}

}  // namespace

std::string normalise_number(std::string_view number) {
  std::string d;
  normalise_into(number, d);
  return d;
}

namespace {

constexpr const char* kVias[] = {"device_sim", "elder_phone", "contact"};
// More elders and devices than this in one put_roster make the callers' index anew.
constexpr std::size_t kReindexAbove = 1000;

// A number's digits (normalise_number) as one integer, its length in the low 5 bits so
// that leading zeros count; 0 for none or more than 17 digits.
std::uint64_t pack_number(std::string_view digits) {
  if (digits.empty() || digits.size() > 17) return 0;
  std::uint64_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v * 32 + digits.size();
}

// Whether an elder's calls are filed under device `a` rather than `b`: their 一键通 of
// the lowest serial, or else the device of the lowest kind and serial.
bool files_before(const DeviceTable& t, DeviceTable::Row a, DeviceTable::Row b) {
  const DeviceKind ka = t.at(a).kind, kb = t.at(b).kind;
  if ((ka == DeviceKind::sos_button) != (kb == DeviceKind::sos_button)) return ka == DeviceKind::sos_button;
  return std::make_pair(ka, t.serial(a)) < std::make_pair(kb, t.serial(b));
}

// Orders `refs` by their number, those of one number in the order they came: a
// least-significant-digit radix sort, 11 bits a pass, skipping the passes in which
// every number has the same digit. A city's 4 million numbers sorted by comparison
// took about a sixth of a second on each of the two cores at its start
// (docs/benchmarks.md).
template <class Ref>
void sort_by_number(std::vector<Ref>& refs) {
  constexpr int kBits = 11;
  constexpr std::uint64_t kMask = (1u << kBits) - 1;
  std::uint64_t all = 0;  // every bit any number has
  for (const Ref& r : refs) all |= r.number;
  std::vector<Ref> spare;
  for (int shift = 0; shift < 64 && (all >> shift) != 0; shift += kBits) {
    std::array<std::size_t, kMask + 1> at{};
    for (const Ref& r : refs) ++at[(r.number >> shift) & kMask];
    if (std::find(at.begin(), at.end(), refs.size()) != at.end()) continue;
    std::size_t start = 0;
    for (std::size_t& n : at) start += std::exchange(n, start);
    spare.resize(refs.size());
    for (const Ref& r : refs) spare[at[(r.number >> shift) & kMask]++] = r;
    refs.swap(spare);
  }
}

}  // namespace

// A device's SIM first (the call is the device's own), then the elder's phone, then
// an emergency contact's phone (a daughter calling about her father). A number shared
// by several elders (a couple's landline) stays with the first one indexed: of SIMs,
// the device of the lowest elder id; of phones, the lowest elder id.
void Dispatcher::index_numbers() {
  callers_.clear();
  callers_.shrink_to_fit();
  other_callers_.clear();
  using Row = DeviceTable::Row;
  std::string key;
  auto put = [&](std::string_view number, Row device, std::uint8_t via, std::uint16_t contact) {
    normalise_into(number, key);
    if (key.empty()) return;
    if (const std::uint64_t packed = pack_number(key)) {
      callers_.push_back({packed, device, contact, via});
    } else {
      const ElderId elder = devices_.at(device).elder;
      other_callers_.try_emplace(
          key, CallerMatch{elder, kVias[via], std::string(devices_.serial(device)),
                           via == 2 ? std::string(elders_.contact(elders_.row(elder), contact).name) : ""});
    }
  };
  // One pass over the devices (millions, in a city): their SIMs, and the device each
  // elder's calls are filed under, their 一键通 of the lowest id, or else the device of
  // the lowest kind and id. Kept by the elder's row (a hash map of a million nodes was
  // a tenth of a city's start); an elder's devices mostly lie side by side, their
  // serials given together, so the elder of the row before is tried first.
  std::vector<Row> filed_under(elders_.size(), DeviceTable::none);
  ElderId last = 0;
  ElderTable::Row owner = ElderTable::none;
  for (Row r = 0; r < devices_.size(); ++r) {
    const DeviceTable::Fixed& d = devices_.at(r);
    if (d.sim_size) put(devices_.sim(r), r, 0, 0);
    if (d.elder != last || owner == ElderTable::none) owner = elders_.find(last = d.elder);
    if (owner == ElderTable::none) continue;  // restore left it out
    Row& best = filed_under[owner];
    if (best == DeviceTable::none || files_before(devices_, r, best)) best = r;
  }
  size_t numbers = callers_.size() + elders_.size();
  for (ElderTable::Row e = 0; e < elders_.size(); ++e) numbers += elders_.contacts(e);
  callers_.reserve(numbers);
  for (ElderTable::Row e = 0; e < elders_.size(); ++e) {
    const Row device = filed_under[e];
    if (device == DeviceTable::none) continue;  // an alert needs a device to be filed under
    put(elders_.text(e, ElderTable::phone), device, 1, 0);
    for (size_t k = 0; k < elders_.contacts(e); ++k)
      put(elders_.contact(e, k).phone, device, 2, static_cast<std::uint16_t>(k));
  }
  // Long numbers went in the map in the order above. A packed number keeps the one of
  // its refs that `before` puts first: the order is total, so the same one however the
  // rows were read.
  auto before = [&](const CallerRef& a, const CallerRef& b) {
    if (a.via != b.via) return a.via < b.via;
    const ElderId ea = devices_.at(a.device).elder, eb = devices_.at(b.device).elder;
    if (ea != eb) return ea < eb;
    if (a.contact != b.contact) return a.contact < b.contact;
    return devices_.serial(a.device) < devices_.serial(b.device);
  };
  sort_by_number(callers_);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < callers_.size();) {
    CallerRef first = callers_[i];
    for (++i; i < callers_.size() && callers_[i].number == first.number; ++i)
      if (before(callers_[i], first)) first = callers_[i];
    callers_[kept++] = first;
  }
  callers_.resize(kept);
  callers_.shrink_to_fit();
}

std::optional<CallerMatch> Dispatcher::match_caller(std::string_view number) const {
  const std::string key = normalise_number(number);
  // The match through `elder`'s `device` by `via`, if the number is still theirs: an
  // edit since it was indexed may have moved it (put_roster). A contact of -1 is
  // whichever of the elder's has the number.
  auto still = [&](ElderId elder, std::uint8_t via, DeviceTable::Row device,
                   std::int32_t contact) -> std::optional<CallerMatch> {
    const ElderTable::Row e = elders_.find(elder);
    if (e == ElderTable::none || device == DeviceTable::none || devices_.at(device).elder != elder) return {};
    CallerMatch m{elder, kVias[via], std::string(devices_.serial(device)), ""};
    if (via == 0) return normalise_number(devices_.sim(device)) == key ? std::optional(m) : std::nullopt;
    if (via == 1) return normalise_number(elders_.text(e, ElderTable::phone)) == key ? std::optional(m) : std::nullopt;
    for (std::size_t k = 0; k < elders_.contacts(e); ++k)
      if ((contact < 0 || static_cast<std::size_t>(contact) == k) &&
          normalise_number(elders_.contact(e, k).phone) == key) {
        m.contact = elders_.contact(e, k).name;
        return m;
      }
    return {};
  };
  if (auto it = other_callers_.find(key); it != other_callers_.end()) {
    const CallerMatch& m = it->second;
    const auto via = std::find(std::begin(kVias), std::end(kVias), m.via);
    if (via == std::end(kVias)) return m;  // an unknown caller the line recorded
    if (auto now = still(m.elder, static_cast<std::uint8_t>(via - std::begin(kVias)), devices_.find(m.device), -1))
      return now;
  }
  const std::uint64_t packed = pack_number(key);
  auto it = std::lower_bound(callers_.begin(), callers_.end(), packed,
                             [](const CallerRef& r, std::uint64_t n) { return r.number < n; });
  if (packed == 0 || it == callers_.end() || it->number != packed) return std::nullopt;
  return still(devices_.at(it->device).elder, it->via, it->device, it->contact);
}

Result<AlarmAck> Dispatcher::phone_in(const Principal& who, const CallerMatch& caller, const std::string& number,
                                      const std::string& call_id) {
  const DeviceTable::Row dev = devices_.find(caller.device);
  if (dev == DeviceTable::none) return Error{ErrorCode::unknown_device, "no device " + caller.device};
  nlohmann::json detail{{"number", number}, {"via", caller.via}, {"call_id", call_id}};
  if (!caller.contact.empty()) detail["contact"] = caller.contact;
  // A phone alert has no device counter: its seq is minus its alert id, unique and
  // out of the way of the device's own positive sequence.
  return file_alert(who, dev, AlertKind::phone_call, -(last_alert_ + 1), clock_.now_ms(), detail.dump());
}

Result<AlarmAck> Dispatcher::phone_in_unknown(const Principal& who, const std::string& number,
                                              const std::string& call_id) {
  const std::string key = normalise_number(number);
  if (key.empty()) return Error{ErrorCode::bad_field, "the caller's number is hidden"};
  if (auto known = match_caller(key)) return phone_in(who, *known, number, call_id);
  Elder e;
  e.id = ++last_elder_;
  e.name = "未知来电";
  e.phone = key;
  e.id_number = "unknown-caller:" + key;  // unique, and never a real ID number
  e.living = LivingSituation::with_family;  // nothing known: no points for living alone
  e.unknown_caller = true;
  Device d;
  d.id = "LINE-" + key;
  d.elder = e.id;
  d.kind = DeviceKind::sos_button;
  d.vendor = "phone-line";
  d.sim = key;
  d.last_seen_ms = clock_.now_ms();
  effects_.writes.push_back(PutCaller{e, d});
  other_callers_[key] = {e.id, "unknown", d.id, ""};
  elders_.put(e);
  devices_.put(d);
  return phone_in(who, other_callers_[key], number, call_id);
}

Result<IncidentId> Dispatcher::link_caller(const Principal& who, IncidentId id, ElderId elder_id) {
  if (who.role != Role::console) return Error{ErrorCode::forbidden, "only consoles link callers"};
  auto found = open_incident(id);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const Elder caller = elders_.at(incident.elder);
  if (!caller.unknown_caller) return Error{ErrorCode::bad_state, "incident " + std::to_string(id) + " is not an unknown caller's"};
  const ElderTable::Row target = elders_.find(elder_id);
  if (target == ElderTable::none || elders_.unknown_caller(target))
    return Error{ErrorCode::bad_field, "no elder " + std::to_string(elder_id)};
  const std::string target_name(elders_.text(target, ElderTable::name));
  if (auto other = open_by_elder_.find(elder_id); other != open_by_elder_.end())
    return Error{ErrorCode::bad_state, target_name + " already has incident " + std::to_string(other->second->id) +
                                           " open: note the call there and resolve this one"};
  const size_t mark = incident.timeline.size();
  open_by_elder_.erase(incident.elder);
  open_by_elder_[elder_id] = &incident;
  incident.elder = elder_id;
  note(incident, TimelineKind::note, display_name(who), "来电号码 " + caller.phone + " 已关联到 " + target_name);
  rerank(incident);
  save(incident);
  audit(who, "link_caller", id, nlohmann::json{{"number", caller.phone}, {"elder_id", elder_id}}.dump());
  Delta& d = emit(DeltaKind::incident_updated, incident);
  d.with_card = true;
  detail::append_since(d, incident, mark);
  return id;
}

Result<IncidentId> Dispatcher::phone_log(const PhoneLog& log) {
  auto found = open_incident(log.incident);
  if (!found) return found.error();
  Incident& incident = *found.value();
  const size_t mark = incident.timeline.size();
  const std::string actor = log.operator_name.empty() ? "line" : log.operator_name;
  auto secs = [](Millis from, Millis to) { return from && to > from ? (to - from + 500) / 1000 : 0; };
  nlohmann::json summary{{"direction", log.outgoing ? "out" : "in"},
                         {"target", log.target},
                         {"seat", log.seat},
                         {"number", log.number},
                         {"result", log.result},
                         {"ring_s", secs(log.started_ms, log.answered_ms ? log.answered_ms : log.ended_ms)},
                         {"talk_s", secs(log.answered_ms, log.ended_ms)}};
  if (log.task) summary["task_id"] = log.task;
  if (!log.reason.empty()) summary["reason"] = log.reason;
  if (!log.recording.empty()) summary["recording"] = log.recording;
  if (!log.recording_sent.empty()) summary["recording_sent"] = log.recording_sent;
  note(incident, TimelineKind::phone, actor, summary.dump());

  const bool answered = log.result == "answered";
  if (log.task) {
    auto task = std::find_if(incident.calls.begin(), incident.calls.end(),
                             [&](const CallTask& c) { return c.id == log.task; });
    if (task != incident.calls.end() && task->open())
      settle_call(incident, *task, answered ? CallState::answered
                                   : log.result == "failed" ? CallState::failed
                                                            : CallState::no_answer,
                  actor);
  } else if (log.target == "elder" && !answered && incident.callback == CallbackOutcome::none) {
    apply_callback(incident, CallbackOutcome::no_answer, actor);
  }
  audit_system("phone_call", incident.id, summary.dump());
  detail::append_since(emit(DeltaKind::incident_updated, incident), incident, mark);
  return incident.id;
}

std::vector<ElderId> Dispatcher::put_roster(std::vector<Elder> elders, std::vector<Device> devices) {
  std::vector<ElderId> ids;
  for (auto& e : elders) {
    if (e.id == 0) e.id = ++last_elder_;
    last_elder_ = std::max(last_elder_, e.id);
    ids.push_back(e.id);
    elders_.put(e);
  }
  for (const auto& d : devices) devices_.put(d);
  // An edited elder's open incident ranks by what the registry now says (the care
  // tier, living alone, the age), and every console has it at once, with the card.
  for (const ElderId id : ids)
    if (auto open = open_by_elder_.find(id); open != open_by_elder_.end()) {
      rerank(*open->second);
      emit(DeltaKind::incident_updated, *open->second).with_card = true;
    }
  // A new phone or SIM now finds its elder when it calls. A big import makes the index
  // anew; an edit or a small import, over a city's millions of numbers, would hold
  // every alarm up for that (half a second at a million elders): their numbers go over
  // the index instead, where they win, and what they no longer hold is found stale by
  // match_caller.
  if (elders.size() + devices.size() > kReindexAbove) {
    index_numbers();
    return ids;
  }
  std::vector<ElderId> changed = ids;
  for (const auto& d : devices) changed.push_back(d.elder);
  for (const ElderId elder : changed) {
    const ElderTable::Row e = elders_.find(elder);
    const std::vector<DeviceTable::Row> own = devices_.of_elder(elder);
    if (e == ElderTable::none || own.empty()) continue;  // an alert needs a device to be filed under
    auto filed = std::min_element(own.begin(), own.end(),
                                  [&](DeviceTable::Row a, DeviceTable::Row b) { return files_before(devices_, a, b); });
    const std::string serial(devices_.serial(*filed));
    auto put = [&](std::string_view number, const char* via, std::string device, std::string contact) {
      std::string key = normalise_number(number);
      if (!key.empty()) other_callers_[std::move(key)] = {elder, via, std::move(device), std::move(contact)};
    };
    for (std::size_t k = elders_.contacts(e); k-- > 0;)  // the first contact of a number wins
      put(elders_.contact(e, k).phone, kVias[2], serial, std::string(elders_.contact(e, k).name));
    put(elders_.text(e, ElderTable::phone), kVias[1], serial, "");
    for (const DeviceTable::Row r : own)
      if (devices_.at(r).sim_size) put(devices_.sim(r), kVias[0], std::string(devices_.serial(r)), "");
  }
  return ids;
}

}  // namespace anxin
