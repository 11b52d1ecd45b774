// The registry's devices in compact form: see device_table.hpp.
#include "anxin/core/device_table.hpp"

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>
#include <stdexcept>

#include "anxin/core/registry_image.hpp"
#include "row_index.hpp"

namespace anxin {

namespace {
constexpr ElderId kNoElder = std::numeric_limits<ElderId>::min();  // an empty slot of by_elder_

std::size_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }
using row_index::hash_of;
using row_index::slots_for;
}  // namespace

void DeviceTable::index_appended() { index_serials(slots_for(size())); }

void DeviceTable::index_serials(std::size_t slots) {
  by_serial_.assign(slots, none);
  const std::size_t mask = slots - 1;
  for (Row r = 0; r < size(); ++r) {
    std::size_t i = hash_of(serial(r)) & mask;
    while (by_serial_[i] != none) i = (i + 1) & mask;
    by_serial_[i] = r;
  }
  indexed_ = size();
}

void DeviceTable::reserve(std::size_t devices) {
  rows_.reserve(devices);
  text_.reserve(devices * 12);
  if (slots_for(devices) > by_serial_.size()) index_serials(slots_for(devices));
}

std::size_t DeviceTable::slot_of_serial(std::string_view s) const {
  const std::size_t mask = by_serial_.size() - 1;
  std::size_t i = hash_of(s) & mask;
  while (by_serial_[i] != none && serial(by_serial_[i]) != s) i = (i + 1) & mask;
  return i;
}

std::size_t DeviceTable::slot_of_elder(ElderId elder) const {
  const std::size_t mask = by_elder_.size() - 1;
  std::size_t i = hash_of(elder) & mask;
  while (by_elder_[i].elder != kNoElder && by_elder_[i].elder != elder) i = (i + 1) & mask;
  return i;
}

DeviceTable::Row DeviceTable::find(std::string_view serial) const {
  if (indexed_ != size()) throw std::logic_error("DeviceTable::find before index_appended()");
  return by_serial_.empty() ? none : by_serial_[slot_of_serial(serial)];
}

void DeviceTable::grow_elders() {
  auto old = std::exchange(by_elder_, std::vector<ElderHead>(slots_for(elders_ + 1), {kNoElder, none}));
  for (const auto& slot : old)
    if (slot.elder != kNoElder) by_elder_[slot_of_elder(slot.elder)] = slot;
}

// Puts row r at the head of its elder's chain.
void DeviceTable::link(Row r) {
  if (2 * (elders_ + 1) > by_elder_.size()) grow_elders();
  auto& slot = by_elder_[slot_of_elder(rows_[r].elder)];
  if (slot.elder == kNoElder) {
    slot.elder = rows_[r].elder;
    ++elders_;
  }
  rows_[r].next_of_elder = std::exchange(slot.head, r);
}

void DeviceTable::unlink(Row r) {
  Row* at = &by_elder_[slot_of_elder(rows_[r].elder)].head;
  while (*at != r) at = &rows_[*at].next_of_elder;
  *at = rows_[r].next_of_elder;
}

std::uint32_t DeviceTable::vendor_index(const std::string& vendor) {
  auto it = std::find(vendors_.begin(), vendors_.end(), vendor);
  if (it != vendors_.end()) return static_cast<std::uint32_t>(it - vendors_.begin());
  vendors_.push_back(vendor);
  return static_cast<std::uint32_t>(vendors_.size() - 1);
}

DeviceTable::Row DeviceTable::put(const Device& d) {
  if (indexed_ != size() || 2 * (size() + 1) > by_serial_.size()) index_serials(slots_for(size() + 1));
  const std::size_t slot = slot_of_serial(d.id);
  Row r = by_serial_[slot];
  const bool added = r == none;
  if (added) {
    r = add_row(d);
    by_serial_[slot] = r;
    ++indexed_;
  } else if (rows_[r].elder != d.elder) {
    unlink(r);
  }
  const bool same_elder = !added && rows_[r].elder == d.elder;
  set_fields(r, d);
  if (!same_elder) link(r);
  return r;
}

void DeviceTable::append(const Device& d) {
  const Row r = add_row(d);
  set_fields(r, d);
  link(r);
}

// A new row with the device's text, in no index yet.
DeviceTable::Row DeviceTable::add_row(const Device& d) {
  if (size() >= none) throw std::length_error("more devices than a DeviceTable numbers");
  rows_.emplace_back();
  put_text(static_cast<Row>(rows_.size() - 1), d);
  return static_cast<Row>(rows_.size() - 1);
}

void DeviceTable::put_text(Row r, const Device& d) {
  Fixed& f = rows_[r];
  f.text = static_cast<std::uint32_t>(text_.size());
  f.serial_size = static_cast<std::uint32_t>(d.id.size());
  f.sim_size = static_cast<std::uint32_t>(d.sim.size());
  text_ += d.id;
  text_ += d.sim;
  if (text_.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("more device text than a DeviceTable holds");
}

// Everything but the chain of the elder's devices.
void DeviceTable::set_fields(Row r, const Device& d) {
  if (sim(r) != d.sim) put_text(r, d);  // a new SIM: new text; the old is left unused
  Fixed& f = rows_[r];
  f.elder = d.elder;
  f.last_seen_ms = d.last_seen_ms;
  f.vendor = vendor_index(d.vendor);
  f.kind = d.kind;
  f.battery_pct = static_cast<std::int8_t>(std::clamp(d.battery_pct, 0, 100));
  f.supervised = d.supervised;
}

Device DeviceTable::device(Row r) const {
  const Fixed& f = rows_[r];
  Device d;
  d.id = serial(r);
  d.elder = f.elder;
  d.kind = f.kind;
  d.vendor = vendor(r);
  d.battery_pct = f.battery_pct;
  d.last_seen_ms = f.last_seen_ms;
  d.sim = sim(r);
  d.supervised = f.supervised;
  return d;
}

std::vector<DeviceTable::Row> DeviceTable::of_elder(ElderId elder) const {
  std::vector<Row> out;
  if (by_elder_.empty()) return out;
  for (Row r = by_elder_[slot_of_elder(elder)].head; r != none; r = rows_[r].next_of_elder) out.push_back(r);
  std::sort(out.begin(), out.end(), [&](Row a, Row b) { return serial(a) < serial(b); });
  return out;
}

void DeviceTable::save(ImageOut& out) const {
  if (indexed_ != size()) throw std::logic_error("DeviceTable::save before index_appended()");
  // The layout: a row's size, and the serials' hash (the index is of its values).
  out.value<std::uint64_t>(sizeof(Fixed));
  out.value<std::uint64_t>(hash_of("device serial"));
  out.array(rows_);
  out.text(text_);
  out.value<std::uint64_t>(vendors_.size());
  for (const auto& v : vendors_) out.text(v);
  out.array(by_serial_);
  out.array(by_elder_);
  out.value<std::uint64_t>(elders_);
}

bool DeviceTable::load(ImageIn& in) {
  clear();
  std::uint64_t row_size = 0, hashed = 0, vendors = 0, elders = 0;
  bool ok = in.value(row_size) && row_size == sizeof(Fixed) && in.value(hashed) && hashed == hash_of("device serial") &&
            in.array(rows_) && in.text(text_) && in.value(vendors) && vendors <= in.left();
  for (std::uint64_t k = 0; ok && k < vendors; ++k) ok = in.text(vendors_.emplace_back());
  ok = ok && in.array(by_serial_) && in.array(by_elder_) && in.value(elders);
  // The indexes' sizes, and each row's text, vendor and chain within bounds: the file's
  // CRC says it is what was written, this that it was written by a table.
  auto index_ok = [&](std::size_t slots, std::size_t keys) {
    return slots == 0 ? keys == 0 : std::has_single_bit(slots) && slots >= 16 && keys <= slots / 2;
  };
  ok = ok && index_ok(by_serial_.size(), size()) && index_ok(by_elder_.size(), elders);
  for (Row r = 0; ok && r < size(); ++r) {
    const Fixed& f = rows_[r];
    ok = std::uint64_t{f.text} + f.serial_size + f.sim_size <= text_.size() && f.vendor < vendors_.size() &&
         (f.next_of_elder == none || f.next_of_elder < size());
  }
  for (std::size_t i = 0; ok && i < by_serial_.size(); ++i) ok = by_serial_[i] == none || by_serial_[i] < size();
  for (std::size_t i = 0; ok && i < by_elder_.size(); ++i) ok = by_elder_[i].head == none || by_elder_[i].head < size();
  if (!ok) {
    clear();
    return false;
  }
  elders_ = elders;
  indexed_ = size();
  return true;
}

}  // namespace anxin
