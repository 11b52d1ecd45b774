#include "full_disk.hpp"

#include <pthread.h>
#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace anxin::test {
namespace {

// One FullDisk at a time: SQLite calls the methods below with no room for a `this`.
struct Disk {
  sqlite3_vfs* system = nullptr;  // the default VFS before ours
  std::string folder;
  std::atomic<bool> full{false};
  std::atomic<int> refused{0};
  std::atomic<int> wal_syncs{0};
  std::atomic<int> slow_ms{0};
  // The most each WAL index (-shm) has held. SQLite's first connection to a file
  // cuts its index to 3 bytes and grows it again; on a real disk the blocks that
  // frees are there to take back, so growing up to this size is no new space.
  std::mutex mu;
  std::map<std::string, std::uintmax_t> shm_held;
};
Disk* disk = nullptr;
sqlite3_vfs vfs;
sqlite3_io_methods methods;
// The refusal behind the last error on this thread, for xGetLastError (and so for
// sqlite3_system_errno), as errno would be on a real disk.
thread_local bool refused_last = false;

// Our file, with the system's file right behind it in the same allocation.
struct File {
  sqlite3_file base;
  const char* name;  // SQLite keeps it valid until xClose
  bool watched;
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
File* of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }

bool refuse(File* f) {
  refused_last = f->watched && disk->full;
  if (refused_last) ++disk->refused;
  return refused_last;
}

int x_close(sqlite3_file* f) { return of(f)->real()->pMethods->xClose(of(f)->real()); }
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 at) {
  if (const int ms = disk->slow_ms; ms > 0 && of(f)->watched) {
    char thread[16] = "";
    pthread_getname_np(pthread_self(), thread, sizeof thread);
    if (std::string_view(thread) != "anxin-writer") std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  return of(f)->real()->pMethods->xRead(of(f)->real(), buf, n, at);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 at) {
  if (refuse(of(f))) return SQLITE_FULL;
  return of(f)->real()->pMethods->xWrite(of(f)->real(), buf, n, at);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return of(f)->real()->pMethods->xTruncate(of(f)->real(), size);
}
int x_sync(sqlite3_file* f, int flags) {
  if (of(f)->watched && std::string_view(of(f)->name).ends_with("-wal")) ++disk->wal_syncs;
  return of(f)->real()->pMethods->xSync(of(f)->real(), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return of(f)->real()->pMethods->xFileSize(of(f)->real(), size);
}
int x_lock(sqlite3_file* f, int level) { return of(f)->real()->pMethods->xLock(of(f)->real(), level); }
int x_unlock(sqlite3_file* f, int level) { return of(f)->real()->pMethods->xUnlock(of(f)->real(), level); }
int x_check_reserved(sqlite3_file* f, int* out) {
  return of(f)->real()->pMethods->xCheckReservedLock(of(f)->real(), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return of(f)->real()->pMethods->xFileControl(of(f)->real(), op, arg);
}
int x_sector_size(sqlite3_file* f) { return of(f)->real()->pMethods->xSectorSize(of(f)->real()); }
int x_device(sqlite3_file* f) { return of(f)->real()->pMethods->xDeviceCharacteristics(of(f)->real()); }
// The WAL index (-shm) is memory-mapped: only growing the file needs room.
int x_shm_map(sqlite3_file* f, int region, int region_size, int extend, void volatile** out) {
  File* file = of(f);
  if (!file->watched) return file->real()->pMethods->xShmMap(file->real(), region, region_size, extend, out);
  const std::string shm = std::string(file->name) + "-shm";
  const auto need = static_cast<std::uintmax_t>(region + 1) * static_cast<std::uintmax_t>(region_size);
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(shm, ec);
  if (ec) size = 0;
  std::lock_guard lock(disk->mu);
  std::uintmax_t& held = disk->shm_held[shm];
  if (extend && need > size && need > held && refuse(file)) {
    *out = nullptr;
    return SQLITE_IOERR_SHMSIZE;
  }
  refused_last = false;
  const int rc = file->real()->pMethods->xShmMap(file->real(), region, region_size, extend, out);
  size = std::filesystem::file_size(shm, ec);
  if (!ec && size > held) held = size;
  return rc;
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return of(f)->real()->pMethods->xShmLock(of(f)->real(), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { of(f)->real()->pMethods->xShmBarrier(of(f)->real()); }
int x_shm_unmap(sqlite3_file* f, int remove) { return of(f)->real()->pMethods->xShmUnmap(of(f)->real(), remove); }

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  File* file = of(f);
  file->name = name;
  file->watched = name && std::string_view(name).substr(0, disk->folder.size()) == disk->folder;
  int rc = disk->system->xOpen(disk->system, name, file->real(), flags, out_flags);
  if (rc != SQLITE_OK) {
    file->base.pMethods = nullptr;  // SQLite will not close it; close what was opened
    if (file->real()->pMethods) file->real()->pMethods->xClose(file->real());
    return rc;
  }
  file->base.pMethods = &methods;
  return SQLITE_OK;
}

int x_last_error(sqlite3_vfs*, int n, char* text) {
  if (refused_last) return ENOSPC;
  return disk->system->xGetLastError(disk->system, n, text);
}

}  // namespace

FullDisk::FullDisk(std::string folder) {
  if (disk) throw std::logic_error("one FullDisk at a time");
  sqlite3_initialize();
  disk = new Disk;
  disk->system = sqlite3_vfs_find(nullptr);
  disk->folder = std::filesystem::weakly_canonical(folder).string();  // as SQLite names the files
  vfs = *disk->system;
  vfs.zName = "anxin-full-disk";
  vfs.pNext = nullptr;
  vfs.szOsFile = static_cast<int>(sizeof(File)) + disk->system->szOsFile;
  vfs.xOpen = x_open;
  vfs.xGetLastError = x_last_error;
  methods = sqlite3_io_methods{};
  methods.iVersion = 2;  // WAL index, no memory-mapped reads
  methods.xClose = x_close;
  methods.xRead = x_read;
  methods.xWrite = x_write;
  methods.xTruncate = x_truncate;
  methods.xSync = x_sync;
  methods.xFileSize = x_file_size;
  methods.xLock = x_lock;
  methods.xUnlock = x_unlock;
  methods.xCheckReservedLock = x_check_reserved;
  methods.xFileControl = x_file_control;
  methods.xSectorSize = x_sector_size;
  methods.xDeviceCharacteristics = x_device;
  methods.xShmMap = x_shm_map;
  methods.xShmLock = x_shm_lock;
  methods.xShmBarrier = x_shm_barrier;
  methods.xShmUnmap = x_shm_unmap;
  sqlite3_vfs_register(&vfs, 1);
}

FullDisk::~FullDisk() {
  sqlite3_vfs_unregister(&vfs);
  sqlite3_vfs_register(disk->system, 1);
  delete disk;
  disk = nullptr;
}

void FullDisk::fill() { disk->full = true; }
void FullDisk::free() { disk->full = false; }
int FullDisk::refused() const { return disk->refused; }
int FullDisk::wal_syncs() const { return disk->wal_syncs; }
void FullDisk::slow_reads(int ms) { disk->slow_ms = ms; }

}  // namespace anxin::test
