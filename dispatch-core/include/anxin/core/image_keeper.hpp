// Keeps the registry's image (registry_image.hpp) close to the rows while a server
// runs (issue 15, item 5). A clean stop writes the image from memory; a server that
// is killed writes none, and the next start reads what changed since the last image
// from the rows over it, or every row when there is none or more than 20,000 changed
// (a roster imported, then a crash): 2.2–2.4 s for a city. Every `check_s` the keeper
// looks at what the file names: no image at all, or `after_changes` elders and
// devices changed since it, and it runs a helper program that reads the rows and
// writes a new image beside the file (Store::image_from_rows), then records it
// through the writer (Store::record_image). A program of its own: the helper holds a second copy of a
// city's registry (536 MB resident at its peak, for the 3–6 s it takes) outside the
// server's memory, and runs at the idle priority (SCHED_IDLE), writing the image a MB
// at a time; one not done in 120 s is killed, as its read holds back the WAL's
// checkpoints (docs/benchmarks.md, "The image written again while the server runs").
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace anxin {

class Store;

struct ImageKeeperOptions {
  // The program run as `helper --registry-image-from-rows DB` (anxin-server); empty:
  // the keeper does nothing.
  std::string helper;
  int check_s = 10;
  std::int64_t after_changes = 5000;
};

class ImageKeeper {
 public:
  ImageKeeper(Store& store, std::string db_path, ImageKeeperOptions options);
  ~ImageKeeper();
  ImageKeeper(const ImageKeeper&) = delete;
  ImageKeeper& operator=(const ImageKeeper&) = delete;
  void start();
  void stop();  // a helper still running is killed; its half-written file is never named
  // Images written and recorded durably so far (tests, status).
  std::uint64_t recorded() const;

 private:
  // What the writer's callbacks touch: they may run after the keeper is gone.
  struct Shared {
    mutable std::mutex mu;
    std::condition_variable wake;
    bool stopping = false;
    pid_t helper = -1;
    std::uint64_t durable = 0;  // batches of the keeper's made durable
    std::uint64_t recorded = 0;
  };
  void loop();
  // One look, and what it calls for; false when a helper failed.
  bool check();
  // Submits the write and waits until it is durable; false when stopping first.
  template <class Submit>
  bool durably(Submit submit);
  // Runs the helper and returns its one line; empty when it failed.
  std::string run_helper();

  Store& store_;
  std::string db_path_;
  ImageKeeperOptions options_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::thread thread_;
};

}  // namespace anxin
