// The registry's elders in compact form (issue 15, item 5). A city serves a million
// of them: as nodes of std::unordered_map<ElderId, Elder> (nine strings, a vector of
// contacts and the node) they cost about 730 bytes each, most of a gigabyte. Here an
// elder is a row of fixed fields, and its strings (the card's texts, then each
// contact's name, relation and phone) lie one after another in one arena of text, each
// after its length. An elder is found by id through an open-addressing index of row
// numbers; an `Elder` is made from its row when one is asked for. Rows are never taken
// back: an elder put again changes in place (its new text at the arena's end, the old
// text reclaimed once the unused is as much as the used).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin {

class ImageOut;
class ImageIn;

class ElderTable {
 public:
  using Row = std::uint32_t;
  static constexpr Row none = ~Row{0};
  enum Text : std::uint8_t {  // the strings of the card, in the arena's order
    name, birth_date, phone, id_number, town, community, address, family_doctor, family_doctor_phone, texts
  };
  struct ContactView {
    std::string_view name, relation, phone;
  };

  ElderTable() = default;
  explicit ElderTable(const std::vector<Elder>& elders) {
    reserve(elders.size());
    for (const Elder& e : elders) put(e);
  }

  std::size_t size() const { return rows_.size(); }
  std::size_t text_bytes() const { return text_.size(); }  // the arena's, used and unused
  void reserve(std::size_t elders);
  void clear() { *this = ElderTable(); }

  Row find(ElderId id) const;
  bool contains(ElderId id) const { return find(id) != none; }
  Row row(ElderId id) const;  // as find(), but std::out_of_range when there is none
  // Adds the elder, or replaces the one of the same id in its row.
  Row put(const Elder& e);
  // The store's rows, unique by id, added without looking each one up: find() knows
  // the rows appended only once index_appended() has run.
  void append(const Elder& e);
  void index_appended();

  ElderId id(Row r) const { return rows_[r].id; }
  ElderId max_id() const { return max_id_; }
  bool unknown_caller(Row r) const { return rows_[r].unknown_caller; }
  std::string_view text(Row r, Text t) const;
  std::size_t contacts(Row r) const { return rows_[r].contacts; }
  ContactView contact(Row r, std::size_t k) const;  // k < contacts(r)
  Elder elder(Row r) const;
  Elder at(ElderId id) const { return elder(row(id)); }  // std::out_of_range when unknown
  void read(Row r, Elder& into) const;  // as elder(), into strings that may already hold room
  // Only what ranking reads (ranking.cpp): the fixed fields and the birth date. The
  // other strings and the contacts are left as they were.
  void read_for_ranking(Row r, Elder& into) const;

  // The table as it is in memory, and back (registry_image.hpp). load() is false when
  // the parts read do not fit together; the table is then empty.
  void save(ImageOut& out) const;
  bool load(ImageIn& in);

  // Whether the elder's name, phone or address holds `q`, or, for a `q` of 4 or more
  // digits (or X), their ID number ends in it: as find_elders and the history's elder
  // text find elders (docs/protocol.md).
  bool matches(Row r, std::string_view q) const;

  // Each row by elder id: f(Row) returns false to stop.
  template <class F>
  void rows_by_id(F f) const {
    if (ordered_) {
      for (Row r = 0; r < size() && f(r); ++r) {}
    } else {
      for (Row r : in_id_order())
        if (!f(r)) return;
    }
  }
  // Each elder by id, read in turn into one Elder (no allocation per elder once its
  // strings have room). f returns void, or false to stop.
  template <class F>
  void each(F f) const {
    Elder e;
    rows_by_id([&](Row r) {
      read(r, e);
      if constexpr (std::is_void_v<std::invoke_result_t<F&, const Elder&>>) {
        f(static_cast<const Elder&>(e));
        return true;
      } else {
        return static_cast<bool>(f(static_cast<const Elder&>(e)));
      }
    });
  }

 private:
  struct Fixed {
    ElderId id = 0;
    double lat = 0, lon = 0;
    WorkerId paired_worker = 0;  // when paired
    std::uint64_t text = 0;      // in text_: the strings, each after its length
    std::uint16_t contacts = 0;
    std::uint8_t sex = 0, living = 0, economic = 0, disability_grade = 0;  // the grade 0..4, as every input checks
    std::int8_t ability = -1;  // -1: not assessed
    bool paired = false, bedridden = false, limited_mobility = false, dementia = false;
    bool special_family = false, visit_consent = false, unknown_caller = false;
  };

  std::size_t slot_of(ElderId id) const;        // its slot, or the empty one it would take
  void index_ids(std::size_t slots);            // every row anew: ids are unique
  void set(Row r, const Elder& e);
  std::size_t text_bytes(Row r) const;  // of the row's strings with their lengths
  void compact();                       // the arena anew, without the unused text
  std::vector<Row> in_id_order() const;  // when rows_ are not

  std::vector<Fixed> rows_;
  std::string text_;
  std::vector<Row> by_id_;  // open addressing, linear probing; none is empty
  std::size_t indexed_ = 0;  // rows in by_id_: all but those appended since index_appended()
  std::size_t unused_ = 0;  // bytes of the arena no row points to
  ElderId max_id_ = 0;
  bool ordered_ = true;  // rows_ are in id order (the store reads them so; new ids are higher)
};

}  // namespace anxin
