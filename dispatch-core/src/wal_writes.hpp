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
#pragma once

namespace anxin {

// Returns the name, for sqlite3_open_v2, of this VFS over the default VFS of the
// moment, registering it the first time that default is seen (thread-safe). Throws
// StoreError if SQLite refuses to register it.
const char* coalescing_wal_vfs();

}  // namespace anxin
