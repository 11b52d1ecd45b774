// The registry's image beside the database: see registry_image.hpp.
#include "anxin/core/registry_image.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace anxin {

namespace {
constexpr std::size_t kGentleChunk = 1 << 20;
constexpr char kMagic[8] = {'A', 'N', 'X', 'I', 'N', 'R', 'E', 'G'};
// One more whenever what a table writes changes, or their order: 2, the devices
// before the elders.
constexpr std::uint32_t kFormat = 2;

std::uint32_t crc_of(std::uint32_t crc, const void* data, std::size_t n) {
  return static_cast<std::uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), n));
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};
}  // namespace

void ImageOut::bytes(const void* data, std::size_t n) {
  crc_ = crc_of(crc_, data, n);
  const char* at = static_cast<const char*>(data);
  const std::size_t most = gently_ ? kGentleChunk : std::size_t{1} << 30;
  while (n) {
    const ssize_t put = write(fd_, at, std::min(n, most));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) throw std::runtime_error(std::string("cannot write the registry image: ") + std::strerror(errno));
    at += put;
    n -= static_cast<std::size_t>(put);
    written_ += static_cast<std::uint64_t>(put);
    if (gently_ && written_ - synced_ >= kGentleChunk) rest();
  }
}

void ImageOut::rest() {
  const auto began = std::chrono::steady_clock::now();
  if (fdatasync(fd_) != 0)
    throw std::runtime_error(std::string("cannot write the registry image: ") + std::strerror(errno));
  synced_ = written_;
  std::this_thread::sleep_for(std::chrono::steady_clock::now() - began);
}

bool ImageIn::bytes(void* data, std::size_t n) {
  if (n > left_) return false;
  char* at = static_cast<char*>(data);
  for (std::size_t done = 0; done < n;) {
    const ssize_t got = read(fd_, at + done, std::min<std::size_t>(n - done, 1 << 30));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  crc_ = crc_of(crc_, data, n);
  left_ -= n;
  return true;
}

namespace registry_image {

std::string path_for(const std::string& db_path) { return db_path + "-registry"; }

std::string changed(std::int64_t elders, std::int64_t devices) {
  return std::to_string(elders) + (elders == 1 ? " elder and " : " elders and ") + std::to_string(devices) +
         (devices == 1 ? " device changed" : " devices changed");
}

namespace {
// A file shortened 8 MB at a time, with a rest as long as each took, then removed.
void remove_gently(const std::string& path) {
  constexpr off_t kStep = 8 << 20;
  if (Fd file{open(path.c_str(), O_WRONLY | O_CLOEXEC)}; file.fd >= 0) {
    struct stat st {};
    for (off_t size = fstat(file.fd, &st) == 0 ? st.st_size : 0; size > 0;) {
      size = std::max<off_t>(0, size - kStep);
      const auto began = std::chrono::steady_clock::now();
      if (ftruncate(file.fd, size) != 0) break;
      std::this_thread::sleep_for(std::chrono::steady_clock::now() - began);
    }
  }
  unlink(path.c_str());
}
}  // namespace

void save(const std::string& path, std::string_view stamp, const ElderTable& elders, const DeviceTable& devices,
          bool gently) {
  const std::string temporary = path + ".new";
  Fd file{open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
  if (file.fd < 0) throw std::runtime_error("cannot create " + temporary + ": " + std::strerror(errno));
  try {
    ImageOut out(file.fd, gently);
    out.bytes(kMagic, sizeof kMagic);
    out.value(kFormat);
    out.text(stamp);
    devices.save(out);
    elders.save(out);
    const std::uint32_t crc = out.crc();
    out.bytes(&crc, sizeof crc);
    if (fsync(file.fd) != 0) throw std::runtime_error("cannot flush " + temporary + ": " + std::strerror(errno));
  } catch (...) {
    unlink(temporary.c_str());
    throw;
  }
  // Gently, the image before is kept under another name and given back a piece at a
  // time, rather than hundreds of MB freed at once by the rename.
  const std::string before = path + ".old";
  if (gently) unlink(before.c_str());  // one a killed helper left
  const bool keep_before = gently && link(path.c_str(), before.c_str()) == 0;
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    if (keep_before) unlink(before.c_str());
    throw std::runtime_error("cannot rename " + temporary + ": " + std::strerror(error));
  }
  if (keep_before) remove_gently(before);
}

Reader::Reader(const std::string& path, std::string_view stamp) : path_(path) {
  fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ < 0 || fstat(fd_, &st) != 0) {
    fail("cannot open " + path + ": " + std::strerror(errno));
    return;
  }
  ImageIn& in = in_.emplace(fd_, static_cast<std::uint64_t>(st.st_size));
  char magic[sizeof kMagic] = {};
  std::uint32_t format = 0;
  std::string its_stamp;
  if (!in.bytes(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof magic) != 0 || !in.value(format) ||
      format != kFormat)
    fail(path + " is not a registry image of this version");
  else if (!in.text(its_stamp) || its_stamp != stamp)
    fail(path + " is of another state of the database");
}

Reader::~Reader() {
  if (fd_ >= 0) close(fd_);
}

bool Reader::fail(std::string why) {
  if (why_.empty()) why_ = std::move(why);
  in_.reset();
  return false;
}

template <class Table>
bool Reader::table(Table& into) {
  return in_ && (into.load(*in_) || fail(path_ + " is cut short or does not hold this program's tables"));
}

bool Reader::devices(DeviceTable& into) { return table(into); }
bool Reader::elders(ElderTable& into) { return table(into); }

bool Reader::end() {
  if (!in_) return false;
  const std::uint32_t crc = in_->crc();
  std::uint32_t written = 0;
  return (in_->value(written) && written == crc && in_->left() == 0) ||
         fail(path_ + " is damaged: its CRC does not match");
}

std::optional<Tables> load(const std::string& path, std::string_view stamp, std::string& why) {
  Reader image(path, stamp);
  Tables t;
  if (image.devices(t.devices) && image.elders(t.elders) && image.end()) return t;
  why = image.why();
  return std::nullopt;
}

}  // namespace registry_image
}  // namespace anxin
