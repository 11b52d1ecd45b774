// The registry's devices in compact form (issue 15, item 5). A city has millions of
// them: as nodes of std::unordered_map<DeviceId, Device> (the key, three strings and
// the node) they cost about 195 bytes each and 4 million separate allocations at
// start. Here a device is a row of fixed fields, its serial and SIM side by side in
// one arena of text; it is found by serial through an open-addressing index of row
// numbers, and by elder through a chain of rows per elder. Rows never move and are
// never taken back, so a Row stays valid (a device only ever changes in place).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

class ImageOut;
class ImageIn;

class DeviceTable {
 public:
  using Row = std::uint32_t;
  static constexpr Row none = ~Row{0};

  // What alarms, supervision and the phone line read and change.
  struct Fixed {
    ElderId elder = 0;
    Millis last_seen_ms = 0;
    std::uint32_t text = 0;               // in text_: the serial, then the SIM
    std::uint32_t serial_size = 0, sim_size = 0;
    std::uint32_t vendor = 0;             // in vendors_
    Row next_of_elder = none;             // the chain of the elder's devices
    DeviceKind kind = DeviceKind::sos_button;
    std::int8_t battery_pct = 100;
    bool supervised = false;
  };

  DeviceTable() = default;
  explicit DeviceTable(const std::vector<Device>& devices) {
    reserve(devices.size());
    for (const Device& d : devices) put(d);
  }

  std::size_t size() const { return rows_.size(); }
  void reserve(std::size_t devices);
  void clear() { *this = DeviceTable(); }

  Row find(std::string_view serial) const;
  // Adds the device, or replaces the one of the same serial in its row.
  Row put(const Device& d);
  // The store's rows, unique by their primary key, added without looking each one up
  // (a lookup while a city's millions are added was 8 % of its start): find() knows
  // the rows appended only once index_appended() has run.
  void append(const Device& d);
  void index_appended();

  Fixed& at(Row r) { return rows_[r]; }
  const Fixed& at(Row r) const { return rows_[r]; }
  std::string_view serial(Row r) const { return {text_.data() + rows_[r].text, rows_[r].serial_size}; }
  std::string_view sim(Row r) const {
    return {text_.data() + rows_[r].text + rows_[r].serial_size, rows_[r].sim_size};
  }
  const std::string& vendor(Row r) const { return vendors_[rows_[r].vendor]; }
  Device device(Row r) const;  // the whole record, for replies and the store

  // The table as it is in memory, and back (registry_image.hpp). load() is false when
  // the parts read do not fit together; the table is then empty.
  void save(ImageOut& out) const;
  bool load(ImageIn& in);

  // The elder's devices, by serial.
  std::vector<Row> of_elder(ElderId elder) const;
  // Keeps only the rows `keep` says yes to, in their order: rows are numbered anew.
  template <class Keep>
  void retain(Keep keep) {
    DeviceTable kept;
    kept.reserve(size());
    for (Row r = 0; r < size(); ++r)
      if (keep(r)) kept.append(device(r));
    kept.index_appended();
    *this = std::move(kept);
  }

 private:
  std::size_t slot_of_serial(std::string_view serial) const;  // its slot, or the empty one it would take
  void index_serials(std::size_t slots);  // every row anew: they are unique, so no serial is compared
  Row add_row(const Device& d);
  void put_text(Row r, const Device& d);  // the serial and SIM, at the arena's end
  void set_fields(Row r, const Device& d);
  std::size_t slot_of_elder(ElderId elder) const;
  void grow_elders();
  void link(Row r);
  void unlink(Row r);
  std::uint32_t vendor_index(const std::string& vendor);

  std::vector<Fixed> rows_;
  std::string text_;
  std::vector<std::string> vendors_;   // few: the IoT platforms, the desk, the line
  std::vector<Row> by_serial_;          // open addressing, linear probing; none is empty
  struct ElderHead {
    ElderId elder;
    Row head;  // the first row of the elder's chain
  };
  std::vector<ElderHead> by_elder_;  // open addressing, linear probing; none is empty
  std::size_t elders_ = 0;
  std::size_t indexed_ = 0;  // rows in by_serial_: all but those appended since index_appended()
};

}  // namespace anxin
