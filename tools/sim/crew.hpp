// The demo's field workers: each signs in on the field port as the field page would
// (`login` as w<id>, docs/protocol.md "Field workers"), goes on duty, reports its
// position as it moves, and answers offers as people do: most accept after a few
// seconds, some decline; an accepted task is travelled to at the worker's speed,
// reported `on_scene` on arrival and `complete` with a visit report after a while
// at the home. Idle workers drift around their spot. All connections share one
// client thread; step() drives the timers from the caller's loop.
//
// Times are real times divided by `speedup`, the same factor that compresses the
// demo's alarm rate, so a worker still takes a plausible share of an hour.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anxin/core/domain.hpp"

namespace anxin::sim {

struct CrewOptions {
  std::string host = "127.0.0.1";
  int port = 7601;          // the server's field port
  std::string password;     // the demo logins' password (the tokens file)
  double speedup = 1;       // > 0
  std::uint64_t seed = 1;
};

struct CrewCounts {
  std::uint64_t signed_in = 0, offers = 0, accepted = 0, declined = 0, arrived = 0, completed = 0,
                positions = 0, refused = 0;
};

class Crew {
 public:
  // Plays these workers (their last known place and transport from the registry).
  Crew(CrewOptions options, const std::vector<Worker>& workers);
  ~Crew();
  Crew(const Crew&) = delete;
  Crew& operator=(const Crew&) = delete;

  void start();
  void step();  // call every 100 ms or so
  void stop();
  CrewCounts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anxin::sim
