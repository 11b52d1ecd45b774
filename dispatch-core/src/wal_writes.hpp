// One write per commit to the WAL (issue 15; docs/benchmarks.md, "The WAL written
// once per commit").
//
// SQLite appends a commit to the WAL a frame at a time, two pwrite calls per page (the
// 24-byte frame header, then the page), and then syncs. A joined alert's commit is
// 11 to 29 pages: 22 to 58 system calls, each of them a partial update of the page
// cache, before the sync even starts. The VFS named here keeps the WAL's consecutive
// writes in memory and hands them to the file in one write (pieces of 124 KiB at
// most) when SQLite syncs it, reads a range it holds, asks its size, truncates or
// closes it, or writes somewhere else. Every other file (the database, its
// shared-memory index) is the default VFS's own, untouched.
//
// For connections that sync every commit (synchronous=FULL) only: there the sync is
// what makes a commit visible to other connections and durable, and the sync writes
// first. Under synchronous=NORMAL a commit ends without a sync, and other connections
// would look for frames still held here.
//
// A commit's sync can also be left to another thread (CommitSyncDeferred): the frames
// are written, the commit ends and becomes visible, and the WAL is flushed to the disk
// by whoever then calls fdatasync on the descriptor it names. Whoever defers it must
// not count the commit durable before that call returns.
#pragma once

namespace anxin {

// While one lives, on its thread, a sync of a WAL opened through this VFS writes what
// is held and stops there, and the descriptor to sync is noted (`fd()`): the sync that
// ends a commit. Not when the WAL's header was written since its last sync (the first
// commit of a new WAL, which SQLite syncs before the frames that follow the header, and
// whose file's directory the default VFS syncs then too): that sync is done as asked.
class CommitSyncDeferred {
 public:
  CommitSyncDeferred();
  ~CommitSyncDeferred();
  CommitSyncDeferred(const CommitSyncDeferred&) = delete;
  CommitSyncDeferred& operator=(const CommitSyncDeferred&) = delete;
  // A descriptor of the WAL whose sync was left undone, or -1 if none was: the file
  // is open until its connection closes.
  int fd() const;
};

// Returns the name, for sqlite3_open_v2, of this VFS over the default VFS of the
// moment, registering it the first time that default is seen (thread-safe). Throws
// StoreError if SQLite refuses to register it.
const char* coalescing_wal_vfs();

}  // namespace anxin
