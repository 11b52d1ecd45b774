#include "wal_writes.hpp"

#include "anxin/core/store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>

namespace anxin {
namespace {

// Past this, what is held goes to the file at once: a big commit (a group of
// hundreds of alarms) is written in pieces of this size, not held whole.
constexpr size_t kFlushAt = 1 << 20;
// The default (unix) VFS writes at most 128 KiB - 1 bytes per call (seekAndWriteFd
// in SQLite's os_unix.c masks the count with 0x1ffff): held bytes go in pieces of
// this many at most.
constexpr size_t kPiece = 124 << 10;

// This VFS over one parent: the default VFS when it was asked for. The parent's
// other methods (delete, access, full path, time, ...) are copied: they see this
// copy of the parent's fields, which is all they read.
struct Wrapper {
  sqlite3_vfs vfs;  // must be first: SQLite sees this
  sqlite3_vfs* parent;
  std::string name;
};
static_assert(std::is_standard_layout_v<Wrapper>, "open() finds the Wrapper from its vfs");

// A WAL file: ours, with the parent's file in the memory right after it.
struct WalFile {
  sqlite3_file base;  // must be first: SQLite sees this
  sqlite3_file* real = nullptr;
  std::string held;             // consecutive bytes not yet written ...
  sqlite3_int64 held_from = 0;  // ... from this offset
  bool header_unsynced = false;  // the header (offset 0) written since the last sync
  int sync_fd = -1;              // the same file, opened again: what a deferred sync syncs
};

// This thread's CommitSyncDeferred: whether one lives, and the descriptor it noted.
struct Deferral {
  bool on = false;
  int fd = -1;
};
thread_local Deferral deferral;

WalFile* self(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods& real_methods(WalFile* w) { return *w->real->pMethods; }

int flush(WalFile* w) {
  int rc = SQLITE_OK;
  for (size_t at = 0; at < w->held.size() && rc == SQLITE_OK; at += kPiece) {
    const size_t n = std::min(kPiece, w->held.size() - at);
    rc = real_methods(w).xWrite(w->real, w->held.data() + at, static_cast<int>(n),
                                w->held_from + static_cast<sqlite3_int64>(at));
  }
  // Written or failed, it is no longer held: after a failure SQLite rolls the
  // transaction back and writes its frames again, as it does after a failed write.
  w->held.clear();
  return rc;
}

int wal_close(sqlite3_file* f) {
  WalFile* w = self(f);
  const int flushed = flush(w);
  const int closed = real_methods(w).xClose(w->real);
  if (w->sync_fd >= 0) ::close(w->sync_fd);
  w->~WalFile();
  return flushed != SQLITE_OK ? flushed : closed;
}

int wal_read(sqlite3_file* f, void* out, int n, sqlite3_int64 offset) {
  WalFile* w = self(f);
  const bool overlaps = !w->held.empty() && offset < w->held_from + static_cast<sqlite3_int64>(w->held.size()) &&
                        w->held_from < offset + n;
  if (overlaps)
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xRead(w->real, out, n, offset);
}

int wal_write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
  WalFile* w = self(f);
  if (!w->held.empty() && offset != w->held_from + static_cast<sqlite3_int64>(w->held.size()))
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
  if (w->held.empty()) w->held_from = offset;
  if (offset == 0) w->header_unsynced = true;
  w->held.append(static_cast<const char*>(data), static_cast<size_t>(n));
  return w->held.size() >= kFlushAt ? flush(w) : SQLITE_OK;
}

// Everything that looks at the file, or changes it otherwise, sees it whole first.
int wal_truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = self(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xTruncate(w->real, size);
}

int wal_sync(sqlite3_file* f, int flags) {
  WalFile* w = self(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  if (deferral.on && !w->header_unsynced && w->sync_fd >= 0) {
    deferral.fd = w->sync_fd;
    return SQLITE_OK;
  }
  const int rc = real_methods(w).xSync(w->real, flags);
  if (rc == SQLITE_OK) w->header_unsynced = false;
  return rc;
}

int wal_file_size(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = self(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFileSize(w->real, size);
}

int wal_file_control(sqlite3_file* f, int op, void* arg) {
  WalFile* w = self(f);
  if (int rc = flush(w); rc != SQLITE_OK) return rc;
  return real_methods(w).xFileControl(w->real, op, arg);
}

int wal_lock(sqlite3_file* f, int level) { return real_methods(self(f)).xLock(self(f)->real, level); }
int wal_unlock(sqlite3_file* f, int level) { return real_methods(self(f)).xUnlock(self(f)->real, level); }
int wal_check_reserved(sqlite3_file* f, int* out) {
  return real_methods(self(f)).xCheckReservedLock(self(f)->real, out);
}
int wal_sector_size(sqlite3_file* f) { return real_methods(self(f)).xSectorSize(self(f)->real); }
int wal_device_characteristics(sqlite3_file* f) {
  return real_methods(self(f)).xDeviceCharacteristics(self(f)->real);
}

// Version 1: a WAL file is never memory-mapped, and its shared memory is the
// database file's.
const sqlite3_io_methods kWalMethods = {
    1,
    wal_close,
    wal_read,
    wal_write,
    wal_truncate,
    wal_sync,
    wal_file_size,
    wal_lock,
    wal_unlock,
    wal_check_reserved,
    wal_file_control,
    wal_sector_size,
    wal_device_characteristics,
};

int open(sqlite3_vfs* self, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* parent = reinterpret_cast<Wrapper*>(self)->parent;
  if (!(flags & SQLITE_OPEN_WAL)) return parent->xOpen(parent, name, file, flags, out_flags);
  auto* w = new (file) WalFile{};
  w->real = reinterpret_cast<sqlite3_file*>(w + 1);
  const int rc = parent->xOpen(parent, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite closes a file that failed to open only if it has methods: ours has none.
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    w->~WalFile();
    file->pMethods = nullptr;
    return rc;
  }
  w->base.pMethods = &kWalMethods;
  // The file SQLite has just opened (or made), by its name: the same file.
  if (name) w->sync_fd = ::open(name, O_RDONLY | O_CLOEXEC);
  return SQLITE_OK;
}

}  // namespace

CommitSyncDeferred::CommitSyncDeferred() { deferral = {true, -1}; }
CommitSyncDeferred::~CommitSyncDeferred() { deferral = {}; }
int CommitSyncDeferred::fd() const { return deferral.fd; }

const char* coalescing_wal_vfs() {
  // One wrapper per default VFS ever seen, so that a process whose default changes
  // (a test's FullDisk) writes its WAL through the default of the moment. Each stays
  // registered: an open connection may still use it.
  static std::mutex mutex;
  static std::deque<Wrapper> wrappers;
  const std::lock_guard lock(mutex);
  sqlite3_vfs* parent = sqlite3_vfs_find(nullptr);
  if (!parent) throw StoreError("SQLite has no default VFS to write the WAL through");
  for (const Wrapper& w : wrappers)
    if (w.parent == parent) return w.vfs.zName;
  Wrapper& w = wrappers.emplace_back(Wrapper{*parent, parent, "anxin-coalescing-wal"});
  if (wrappers.size() > 1) w.name += "-" + std::to_string(wrappers.size());
  w.vfs.zName = w.name.c_str();
  w.vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + parent->szOsFile;
  w.vfs.xOpen = open;
  w.vfs.pNext = nullptr;
  if (int rc = sqlite3_vfs_register(&w.vfs, 0); rc != SQLITE_OK) {
    wrappers.pop_back();
    throw StoreError(std::string("cannot register the WAL's VFS: ") + sqlite3_errstr(rc));
  }
  return w.vfs.zName;
}

}  // namespace anxin
