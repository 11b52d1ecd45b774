// The registry's image beside the database (issue 15, item 5; docs/architecture.md,
// "The registry's image"). A city's elders and devices are 7 million rows: SQLite
// decodes them in about 2 s on both cores, while the compact tables they become are
// about 500 MB of plain arrays that the page cache hands back in a fraction of that.
// So a server that stops cleanly writes its tables to "<db>-registry", and the next
// start reads them from there instead of from the rows, if the image is still the
// database's:
//
// - the file carries a random stamp, and the database the same stamp in its
//   `registry_image` table, written only once the file is durable;
// - triggers on `elders`, `emergency_contacts` and `devices` name the elder or device
//   of any change by any program, a running server included, in
//   `registry_changed_elders` and `registry_changed_devices`, whose rows a start then
//   reads over the image (a few; too many, or one gone, and it reads every row);
//   except an update of only a device's battery, last contact or supervision, which
//   every alarm and heartbeat writes;
// - a start marks the stamp (`server_ran`) before anything is written: the start
//   after that, a crash having come between, takes those three from the rows
//   (store_image.cpp);
// - the file ends with a CRC-32 of all before it, and states its layout (format, the
//   rows' sizes, the serial hash): anything else, or a short file, is not used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "anxin/core/device_table.hpp"
#include "anxin/core/elder_table.hpp"

namespace anxin {

// Writes to a file descriptor, keeping a CRC-32 of everything written.
class ImageOut {
 public:
  // `gently`: every MB is written through to the disk before the next, and as long
  // again is left to others (save()).
  explicit ImageOut(int fd, bool gently = false) : fd_(fd), gently_(gently) {}
  void bytes(const void* data, std::size_t n);  // throws std::runtime_error when the write fails
  template <class T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof v);
  }
  template <class T>
  void array(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    value<std::uint64_t>(v.size());
    bytes(v.data(), v.size() * sizeof(T));
  }
  void text(std::string_view s) {
    value<std::uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  std::uint32_t crc() const { return crc_; }

 private:
  void rest();  // gently: what was written since the last rest, through to the disk
  int fd_;
  bool gently_;
  std::uint32_t crc_ = 0;
  std::uint64_t written_ = 0, synced_ = 0;
};

// Reads what ImageOut wrote, each part no longer than what is left of the file.
class ImageIn {
 public:
  ImageIn(int fd, std::uint64_t size) : fd_(fd), left_(size) {}
  bool bytes(void* data, std::size_t n);  // false: the file ends sooner, or a read failed
  template <class T>
  bool value(T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    return bytes(&v, sizeof v);
  }
  template <class T>
  bool array(std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::uint64_t n = 0;
    if (!value(n) || n > left_ / sizeof(T)) return false;
    v.resize(n);
    return bytes(v.data(), n * sizeof(T));
  }
  bool text(std::string& s) {
    std::uint64_t n = 0;
    if (!value(n) || n > left_) return false;
    s.resize(n);
    return bytes(s.data(), n);
  }
  std::uint32_t crc() const { return crc_; }
  std::uint64_t left() const { return left_; }

 private:
  int fd_;
  std::uint64_t left_;
  std::uint32_t crc_ = 0;
};

namespace registry_image {

std::string path_for(const std::string& db_path);  // "<db>-registry"

// Writes the tables to `path` under `stamp`: to a temporary file, flushed to the
// disk, then renamed over `path`. Throws std::runtime_error when it cannot.
// `gently`, for a server that runs meanwhile (Store::image_from_rows): a MB at a
// time, each on the disk before the next and followed by a rest as long as it took,
// so that the server's commits never wait behind hundreds of MB on their way to the
// disk (docs/benchmarks.md, "The image written again while the server runs").
void save(const std::string& path, std::string_view stamp, const ElderTable& elders, const DeviceTable& devices,
          bool gently = false);

// "1 elder and 3 devices changed", as the start's notes say it.
std::string changed(std::int64_t elders, std::int64_t devices);

struct Tables {
  ElderTable elders;
  DeviceTable devices;
};
// The tables, when `path` holds a whole image of this layout made under `stamp`;
// otherwise nothing, and `why` says what was wrong.
std::optional<Tables> load(const std::string& path, std::string_view stamp, std::string& why);

// load() a part at a time, in the file's order: the devices, the elders, then the
// CRC of all before it. What is done with the devices can go on beside the read of
// the elders (Store::take_image). Each step is false when the file is not a whole
// image of this layout made under `stamp`, or an earlier step was; why() says what
// was wrong.
class Reader {
 public:
  Reader(const std::string& path, std::string_view stamp);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  bool devices(DeviceTable& into);
  bool elders(ElderTable& into);
  bool end();
  const std::string& why() const { return why_; }

 private:
  bool fail(std::string why);
  template <class Table>
  bool table(Table& into);  // the devices' or the elders'
  std::string path_;
  int fd_ = -1;
  std::optional<ImageIn> in_;
  std::string why_;
};

}  // namespace registry_image
}  // namespace anxin
