// A disk that fills up on demand, for tests: an SQLite VFS over the system's own,
// made the default while it lives, that refuses writes to the files under one
// folder while "full", the way SQLite reports a full disk: SQLITE_FULL from a write
// (what its Unix layer returns for ENOSPC), and SQLITE_IOERR_SHMSIZE with errno
// ENOSPC for a WAL index (-shm) that would have to grow past the most it has held.
// Reads work, as on a real full disk.
//
// It can also be slow to read: with slow_reads(ms), every read of a file under the
// folder waits that long first, on any thread but the store's writer (named
// "anxin-writer"), so a test can see what a slow read holds up (issue 11, item 3).
//
// Stricter than a real disk in one way: a full real disk still lets SQLite rewrite
// WAL space the file already has (after a checkpoint), so which commit fails first
// depends on timing. Here every write fails, so a test knows which one it is.
//
// Open every connection to be watched (Store, Centre) after constructing it, and
// close them before it goes: declare it first. The store's WAL layer
// (coalescing_wal_vfs) wraps the default VFS of the moment it opens, so a Store
// opened while a FullDisk lives writes its WAL through it, and one opened after
// does not.
#pragma once

#include <string>

namespace anxin::test {

class FullDisk {
 public:
  explicit FullDisk(std::string folder);
  ~FullDisk();
  FullDisk(const FullDisk&) = delete;
  FullDisk& operator=(const FullDisk&) = delete;

  void fill();  // from now on writes under the folder fail
  void free();  // space again
  int refused() const;  // writes refused so far
  int wal_syncs() const;  // syncs of a WAL (-wal) under the folder so far
  void slow_reads(int ms);  // 0: at full speed again
};

}  // namespace anxin::test
