// The registry's elders in compact form: see elder_table.hpp.
#include "anxin/core/elder_table.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include "anxin/core/registry_image.hpp"
#include "row_index.hpp"

namespace anxin {

namespace {
using row_index::hash_of;
using row_index::slots_for;

// Each string after its length, seven bits a byte (most lengths take one).
void put_string(std::string& to, std::string_view s) {
  for (std::size_t n = s.size(); ; n >>= 7) {
    if (n < 0x80) {
      to += static_cast<char>(n);
      break;
    }
    to += static_cast<char>(0x80 | (n & 0x7f));
  }
  to += s;
}

std::string_view take_string(const char*& at) {
  std::size_t n = 0;
  for (int shift = 0; ; shift += 7) {
    const auto byte = static_cast<unsigned char>(*at++);
    n |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  std::string_view s(at, n);
  at += n;
  return s;
}
}  // namespace

void ElderTable::index_appended() { index_ids(slots_for(size())); }

void ElderTable::index_ids(std::size_t slots) {
  by_id_.assign(slots, none);
  const std::size_t mask = slots - 1;
  for (Row r = 0; r < size(); ++r) {
    std::size_t i = hash_of(rows_[r].id) & mask;
    while (by_id_[i] != none) i = (i + 1) & mask;
    by_id_[i] = r;
  }
  indexed_ = size();
}

void ElderTable::reserve(std::size_t elders) {
  rows_.reserve(elders);
  text_.reserve(elders * 200);  // a card's texts and two contacts, as a city's are
  if (slots_for(elders) > by_id_.size()) index_ids(slots_for(elders));
}

std::size_t ElderTable::slot_of(ElderId id) const {
  const std::size_t mask = by_id_.size() - 1;
  std::size_t i = hash_of(id) & mask;
  while (by_id_[i] != none && rows_[by_id_[i]].id != id) i = (i + 1) & mask;
  return i;
}

ElderTable::Row ElderTable::find(ElderId id) const {
  if (indexed_ != size()) throw std::logic_error("ElderTable::find before index_appended()");
  // A registry's ids are mostly dense and read in order, so an elder is most often in
  // the row its id's distance from the first row's: tried first, it spares the index's
  // two reads far apart in memory (a tenth of a city's start after the rows were read).
  if (const std::uint64_t guess = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(size() ? rows_[0].id : 0);
      guess < size() && rows_[guess].id == id)
    return static_cast<Row>(guess);
  return by_id_.empty() ? none : by_id_[slot_of(id)];
}

ElderTable::Row ElderTable::row(ElderId id) const {
  const Row r = find(id);
  if (r == none) throw std::out_of_range("no elder " + std::to_string(id) + " in the table");
  return r;
}

ElderTable::Row ElderTable::put(const Elder& e) {
  if (indexed_ != size() || 2 * (size() + 1) > by_id_.size()) index_ids(slots_for(size() + 1));
  const std::size_t slot = slot_of(e.id);
  Row r = by_id_[slot];
  if (r == none) {
    append(e);
    r = by_id_[slot] = static_cast<Row>(size() - 1);
    ++indexed_;
  } else {
    // The new text goes at the arena's end. The old is left unused until the unused is
    // as much as the used (a whole roster imported again, say): then the arena is
    // written anew with only the rows' text.
    unused_ += text_bytes(r);
    set(r, e);
    if (unused_ > (1u << 20) && 2 * unused_ > text_.size()) compact();
  }
  return r;
}

void ElderTable::append(const Elder& e) {
  if (size() >= none) throw std::length_error("more elders than an ElderTable numbers");
  if (size() && e.id <= max_id_) ordered_ = false;
  max_id_ = size() ? std::max(max_id_, e.id) : e.id;
  rows_.emplace_back();
  set(static_cast<Row>(size() - 1), e);
}

void ElderTable::set(Row r, const Elder& e) {
  if (e.contacts.size() > UINT16_MAX) throw std::length_error("more contacts than an ElderTable row holds");
  Fixed& f = rows_[r];
  f.id = e.id;
  f.lat = e.lat;
  f.lon = e.lon;
  f.paired = e.paired_worker.has_value();
  f.paired_worker = e.paired_worker.value_or(0);
  f.contacts = static_cast<std::uint16_t>(e.contacts.size());
  f.sex = static_cast<std::uint8_t>(e.sex);
  f.living = static_cast<std::uint8_t>(e.living);
  f.economic = static_cast<std::uint8_t>(e.economic);
  f.disability_grade = static_cast<std::uint8_t>(std::clamp(e.disability_grade, 0, 4));
  f.ability = e.ability ? static_cast<std::int8_t>(*e.ability) : std::int8_t{-1};
  f.bedridden = e.bedridden;
  f.limited_mobility = e.limited_mobility;
  f.dementia = e.dementia;
  f.special_family = e.special_family;
  f.visit_consent = e.visit_consent;
  f.unknown_caller = e.unknown_caller;
  f.text = text_.size();
  for (const std::string* s : {&e.name, &e.birth_date, &e.phone, &e.id_number, &e.town, &e.community, &e.address,
                               &e.family_doctor, &e.family_doctor_phone})
    put_string(text_, *s);
  for (const EmergencyContact& c : e.contacts) {
    put_string(text_, c.name);
    put_string(text_, c.relation);
    put_string(text_, c.phone);
  }
}

std::size_t ElderTable::text_bytes(Row r) const {
  const char* const from = text_.data() + rows_[r].text;
  const char* at = from;
  for (std::size_t k = 0; k < texts + 3u * rows_[r].contacts; ++k) take_string(at);
  return static_cast<std::size_t>(at - from);
}

void ElderTable::compact() {
  std::string kept;
  kept.reserve(text_.size() - unused_);
  for (Fixed& f : rows_) {
    const std::size_t n = text_bytes(static_cast<Row>(&f - rows_.data()));
    kept.append(text_, f.text, n);
    f.text = kept.size() - n;
  }
  text_ = std::move(kept);
  unused_ = 0;
}

std::string_view ElderTable::text(Row r, Text t) const {
  const char* at = text_.data() + rows_[r].text;
  for (int k = 0; k < t; ++k) take_string(at);
  return take_string(at);
}

ElderTable::ContactView ElderTable::contact(Row r, std::size_t k) const {
  const char* at = text_.data() + rows_[r].text;
  for (std::size_t skip = 0; skip < texts + 3 * k; ++skip) take_string(at);
  ContactView c;
  c.name = take_string(at);
  c.relation = take_string(at);
  c.phone = take_string(at);
  return c;
}

namespace {
// The fixed fields of a row (ElderTable::Fixed, private: deduced, not named).
template <class Fixed>
void read_fixed(const Fixed& f, Elder& e) {
  e.id = f.id;
  e.lat = f.lat;
  e.lon = f.lon;
  e.paired_worker = f.paired ? std::optional<WorkerId>(f.paired_worker) : std::nullopt;
  e.sex = static_cast<Sex>(f.sex);
  e.living = static_cast<LivingSituation>(f.living);
  e.economic = static_cast<EconomicStatus>(f.economic);
  e.disability_grade = f.disability_grade;
  e.ability = f.ability < 0 ? std::nullopt : std::optional<Ability>(static_cast<Ability>(f.ability));
  e.bedridden = f.bedridden;
  e.limited_mobility = f.limited_mobility;
  e.dementia = f.dementia;
  e.special_family = f.special_family;
  e.visit_consent = f.visit_consent;
  e.unknown_caller = f.unknown_caller;
}
}  // namespace

void ElderTable::read_for_ranking(Row r, Elder& e) const {
  read_fixed(rows_[r], e);
  const char* at = text_.data() + rows_[r].text;
  take_string(at);  // the name
  e.birth_date.assign(take_string(at));
}

void ElderTable::read(Row r, Elder& e) const {
  const Fixed& f = rows_[r];
  read_fixed(f, e);
  const char* at = text_.data() + f.text;
  for (std::string* s : {&e.name, &e.birth_date, &e.phone, &e.id_number, &e.town, &e.community, &e.address,
                         &e.family_doctor, &e.family_doctor_phone})
    s->assign(take_string(at));
  e.contacts.resize(f.contacts);
  for (EmergencyContact& c : e.contacts) {
    c.name.assign(take_string(at));
    c.relation.assign(take_string(at));
    c.phone.assign(take_string(at));
  }
}

bool ElderTable::matches(Row r, std::string_view q) const {
  auto holds = [&](Text t) { return text(r, t).find(q) != std::string_view::npos; };
  const bool digits = q.size() >= 4 && q.find_first_not_of("0123456789Xx") == std::string_view::npos;
  return holds(name) || holds(phone) || holds(address) || (digits && text(r, id_number).ends_with(q));
}

Elder ElderTable::elder(Row r) const {
  Elder e;
  read(r, e);
  return e;
}

std::vector<ElderTable::Row> ElderTable::in_id_order() const {
  std::vector<Row> rows(size());
  for (Row r = 0; r < size(); ++r) rows[r] = r;
  std::sort(rows.begin(), rows.end(), [&](Row a, Row b) { return rows_[a].id < rows_[b].id; });
  return rows;
}

void ElderTable::save(ImageOut& out) const {
  if (indexed_ != size()) throw std::logic_error("ElderTable::save before index_appended()");
  out.value<std::uint64_t>(sizeof(Fixed));  // the layout
  out.array(rows_);
  out.text(text_);
  out.array(by_id_);
  out.value<std::uint64_t>(unused_);
  out.value(max_id_);
  out.value(ordered_);
}

bool ElderTable::load(ImageIn& in) {
  clear();
  std::uint64_t row_size = 0, unused = 0;
  bool ok = in.value(row_size) && row_size == sizeof(Fixed) && in.array(rows_) && in.text(text_) &&
            in.array(by_id_) && in.value(unused) && in.value(max_id_) && in.value(ordered_) && unused <= text_.size() &&
            (by_id_.empty() ? size() == 0
                            : std::has_single_bit(by_id_.size()) && by_id_.size() >= 16 && size() <= by_id_.size() / 2);
  // Bounds only: the file's CRC says it is what was written, this that a table wrote it.
  for (Row r = 0; ok && r < size(); ++r) ok = rows_[r].text < text_.size() && rows_[r].id <= max_id_;
  for (std::size_t i = 0; ok && i < by_id_.size(); ++i) ok = by_id_[i] == none || by_id_[i] < size();
  if (!ok) {
    clear();
    return false;
  }
  unused_ = unused;
  indexed_ = size();
  return true;
}

}  // namespace anxin
