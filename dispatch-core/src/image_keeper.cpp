// The registry's image kept close to the rows while a server runs: image_keeper.hpp.
#include "anxin/core/image_keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "anxin/core/store.hpp"

extern char** environ;

namespace anxin {

namespace {
constexpr std::chrono::seconds kHelperDeadline{120};
}  // namespace

ImageKeeper::ImageKeeper(Store& store, std::string db_path, ImageKeeperOptions options)
    : store_(store), db_path_(std::move(db_path)), options_(std::move(options)) {}

ImageKeeper::~ImageKeeper() { stop(); }

void ImageKeeper::start() {
  if (options_.helper.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void ImageKeeper::stop() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
    if (shared_->helper > 0) kill(shared_->helper, SIGKILL);
  }
  shared_->wake.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t ImageKeeper::recorded() const {
  std::lock_guard lock(shared_->mu);
  return shared_->recorded;
}

void ImageKeeper::loop() {
  pthread_setname_np(pthread_self(), "anxin-image");
  // After a failure the wait doubles, up to an hour: a full disk, say, is not tried
  // again every few seconds with a city's read of the rows each time.
  int wait_s = options_.check_s;
  for (;;) {
    {
      std::unique_lock lock(shared_->mu);
      shared_->wake.wait_for(lock, std::chrono::seconds(wait_s), [&] { return shared_->stopping; });
      if (shared_->stopping) return;
    }
    bool ok = false;
    try {
      ok = check();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-server: the registry's image: %s\n", e.what());
    }
    wait_s = ok ? options_.check_s : std::min(wait_s * 2, 3600);
  }
}

template <class Submit>
bool ImageKeeper::durably(Submit submit) {
  std::uint64_t before;
  {
    std::lock_guard lock(shared_->mu);
    before = shared_->durable;
  }
  submit([shared = shared_] {
    {
      std::lock_guard lock(shared->mu);
      ++shared->durable;
    }
    shared->wake.notify_all();
  });
  std::unique_lock lock(shared_->mu);
  shared_->wake.wait(lock, [&] { return shared_->stopping || shared_->durable > before; });
  return shared_->durable > before;
}

bool ImageKeeper::check() {
  const Store::ImageState state = store_.image_state();
  if (state.named() && state.changed() < options_.after_changes) return true;
  // No image named, so no triggers: they are made before the rows are read, or a
  // change between the read and the record would go unnamed.
  if (!state.named() && !state.all_triggers &&
      !durably([&](auto done) { store_.name_changes(std::move(done)); }))
    return true;
  const auto began = std::chrono::steady_clock::now();
  const std::string line = run_helper();
  Store::ImageFromRows image;
  std::istringstream in(line);
  if (!(in >> image.stamp >> image.elders_named >> image.devices_named)) {
    std::fprintf(stderr, "anxin-server: no image of the registry was written from the rows; tried again later\n");
    return false;
  }
  if (!durably([&](auto done) { store_.record_image(image, std::move(done)); })) return true;
  {
    std::lock_guard lock(shared_->mu);
    ++shared_->recorded;
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const std::string since = state.named()
                                ? std::to_string(state.changed()) + " elders and devices had changed since the last"
                                : "the file named none";
  std::fprintf(stderr, "anxin-server: %s written from the rows in %.1f s (%s); a start after a crash reads it\n",
               registry_image::path_for(db_path_).c_str(), took, since.c_str());
  return true;
}

std::string ImageKeeper::run_helper() {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  const std::string flag = "--registry-image-from-rows";
  char* argv[] = {const_cast<char*>(options_.helper.c_str()), const_cast<char*>(flag.c_str()),
                  const_cast<char*>(db_path_.c_str()), nullptr};
  pid_t pid = -1;
  int spawned = -1;  // posix_spawn's error number, 0 when it ran; -1: stopping, not tried
  {
    std::lock_guard lock(shared_->mu);  // stop() kills what is spawned under it, or finds stopping set
    if (!shared_->stopping) {
      spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
      if (spawned == 0) shared_->helper = pid;
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string line;
  if (spawned == 0) {
    // Its read holds back the WAL's checkpoints: one the server leaves no idle CPU to
    // finish in time is killed, and tried again later.
    using std::chrono::steady_clock;
    const auto deadline = steady_clock::now() + kHelperDeadline;
    char buf[256];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
      pollfd p{out[0], POLLIN, 0};
      const int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        std::fprintf(stderr, "anxin-server: the registry's image took more than %lld s to write: stopped\n",
                     static_cast<long long>(kHelperDeadline.count()));
        kill(pid, SIGKILL);
        line.clear();
        break;
      }
      const ssize_t n = ready < 0 ? -1 : read(out[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      line.append(buf, static_cast<std::size_t>(n));
    }
  } else if (spawned > 0) {
    std::fprintf(stderr, "anxin-server: cannot run %s: %s\n", argv[0], std::strerror(spawned));
  }
  close(out[0]);
  if (spawned != 0) return {};
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard lock(shared_->mu);
    shared_->helper = -1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? line : std::string();
}

}  // namespace anxin
