#include "chime.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

extern char** environ;

namespace anxin::console {
namespace fs = std::filesystem;

namespace {

constexpr int kRate = 22050;

void put16(std::ofstream& f, std::uint16_t v) { f.put(static_cast<char>(v & 0xff)).put(static_cast<char>(v >> 8)); }
void put32(std::ofstream& f, std::uint32_t v) { put16(f, v & 0xffff), put16(f, v >> 16); }

// A bell-like tone: a sine with its octave, a soft 15 ms attack and an
// exponential decay, so it is noticed without startling.
void tone(std::vector<std::int16_t>& out, double hz, double seconds, double gain) {
  const int n = static_cast<int>(seconds * kRate);
  for (int k = 0; k < n; ++k) {
    const double t = static_cast<double>(k) / kRate;
    const double attack = std::min(1.0, t / 0.015);
    const double decay = std::exp(-t * 5.0);
    const double s = std::sin(2 * M_PI * hz * t) + 0.25 * std::sin(4 * M_PI * hz * t);
    out.push_back(static_cast<std::int16_t>(32767.0 * gain * attack * decay * s / 1.25));
  }
}

std::string find_in_path(const char* name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path p = fs::path(dirs.substr(start, end - start)) / name;
    if (access(p.c_str(), X_OK) == 0) return p.string();
    start = end + 1;
  }
  return "";
}

// A PulseAudio (or PipeWire) server we could reach, or an ALSA playback device.
bool pulse_running() {
  if (const char* s = std::getenv("PULSE_SERVER"); s && *s) return true;
  const char* run = std::getenv("XDG_RUNTIME_DIR");
  std::error_code ec;
  return run && fs::exists(fs::path(run) / "pulse" / "native", ec);
}
bool alsa_device() {
  std::error_code ec;
  if (!fs::is_directory("/dev/snd", ec)) return false;
  for (const auto& e : fs::directory_iterator("/dev/snd", ec))
    if (e.path().filename().string().rfind("pcm", 0) == 0) return true;
  return false;
}

// assets/sounds/ in the source tree when we may write there; else the cache.
std::string chime_path() {
  const fs::path name = "new-incident.wav";
#ifdef ANXIN_SOUNDS_DIR
  {
    std::error_code ec;
    fs::path dir = ANXIN_SOUNDS_DIR;
    if (fs::exists(dir / name, ec)) return (dir / name).string();
    fs::create_directories(dir, ec);
    if (!ec && access(dir.c_str(), W_OK) == 0) return (dir / name).string();
  }
#endif
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  fs::path dir = cache && *cache ? fs::path(cache) : home ? fs::path(home) / ".cache" : fs::temp_directory_path();
  dir /= "anxin";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return (dir / name).string();
}

}  // namespace

bool write_chime_wav(const std::string& path) {
  std::vector<std::int16_t> pcm;
  tone(pcm, 784.0, 0.30, 0.32);  // G5
  tone(pcm, 523.3, 0.55, 0.30);  // C5: a falling fifth reads as "attention", not "alarm"
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    const auto bytes = static_cast<std::uint32_t>(pcm.size() * 2);
    f.write("RIFF", 4), put32(f, 36 + bytes), f.write("WAVE", 4);
    f.write("fmt ", 4), put32(f, 16), put16(f, 1), put16(f, 1), put32(f, kRate), put32(f, kRate * 2);
    put16(f, 2), put16(f, 16);
    f.write("data", 4), put32(f, bytes);
    for (auto s : pcm) put16(f, static_cast<std::uint16_t>(s));
    if (!f) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

SoundPlayer::SoundPlayer(bool enabled) {
  if (!enabled) return;
  if (pulse_running()) player_ = find_in_path("paplay");
  if (player_.empty() && alsa_device()) player_ = find_in_path("aplay");
  // No player or no device: stay silent and say nothing; the flash still shows.
}

SoundPlayer::~SoundPlayer() { stop(); }

bool SoundPlayer::play(const std::string& wav) {
  reap();
  if (player_.empty() || child_ > 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The player's chatter must not land in the console's log.
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const bool aplay = player_.ends_with("aplay");
  std::string path = wav, quiet = "-q";
  std::vector<char*> argv{player_.data()};
  if (aplay) argv.push_back(quiet.data());
  argv.push_back(path.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, player_.c_str(), &actions, nullptr, argv.data(), environ) == 0) child_ = pid;
  posix_spawn_file_actions_destroy(&actions);
  return child_ > 0;
}

void SoundPlayer::stop() {
  if (child_ <= 0) return;
  kill(child_, SIGTERM);  // a recording may run for minutes; the chime is under a second
  waitpid(child_, nullptr, 0);
  child_ = -1;
}

void SoundPlayer::reap() {
  if (child_ > 0 && waitpid(child_, nullptr, WNOHANG) != 0) child_ = -1;
}

Chime::Chime(bool enabled) : player_(enabled) {
  if (!enabled) return;
  wav_ = chime_path();
  std::error_code ec;
  if (!fs::exists(wav_, ec) && !write_chime_wav(wav_)) wav_.clear();
}

}  // namespace anxin::console
