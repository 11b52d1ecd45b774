// Chime: the sound of a new top-priority incident. A short, calm two-tone WAV
// (a soft falling fifth, not a siren: operators hear it dozens of times a night)
// is written on first run to assets/sounds/ (or, if that is not writable, to the
// user's cache), and played by `paplay` or `aplay` in a child process, so the UI
// thread never waits for audio. With no player or no sound device it stays quiet.
#pragma once

#include <string>
#include <sys/types.h>

namespace anxin::console {

// Writes the chime as 16-bit mono PCM WAV; false on failure.
bool write_chime_wav(const std::string& path);

class Chime {
 public:
  explicit Chime(bool enabled = true);
  ~Chime();
  Chime(const Chime&) = delete;
  Chime& operator=(const Chime&) = delete;

  // Starts the sound unless it is still playing or there is nothing to play on.
  void play();
  // Collects a finished player so it leaves no zombie; call once a frame.
  void reap();
  bool available() const { return !player_.empty(); }
  const std::string& wav() const { return wav_; }

 private:
  std::string player_;  // full path of paplay or aplay; empty: silent
  std::string wav_;
  pid_t child_ = -1;
};

}  // namespace anxin::console
