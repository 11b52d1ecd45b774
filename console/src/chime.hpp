// Chime: the sound of a new top-priority incident or a ringing call. A short, calm
// two-tone WAV (a soft falling fifth, not a siren: operators hear it dozens of
// times a night) is written on first run to assets/sounds/ (or, if that is not
// writable, to the user's cache). SoundPlayer plays a WAV (the chime, a call's
// recording) by `paplay` or `aplay` in a child process, so the UI thread never
// waits for audio. With no player or no sound device it stays quiet.
#pragma once

#include <string>
#include <sys/types.h>

namespace anxin::console {

// Writes the chime as 16-bit mono PCM WAV; false on failure.
bool write_chime_wav(const std::string& path);

// One sound at a time, in a child process.
class SoundPlayer {
 public:
  explicit SoundPlayer(bool enabled = true);
  ~SoundPlayer();  // stops a sound still playing
  SoundPlayer(const SoundPlayer&) = delete;
  SoundPlayer& operator=(const SoundPlayer&) = delete;

  // Starts `wav` unless a sound is still playing; false if it did not start.
  bool play(const std::string& wav);
  void stop();
  // Collects a finished player so it leaves no zombie; call once a frame.
  void reap();
  bool available() const { return !player_.empty(); }
  bool playing() const { return child_ > 0; }

 private:
  std::string player_;  // full path of paplay or aplay; empty: silent
  pid_t child_ = -1;
};

class Chime {
 public:
  explicit Chime(bool enabled = true);

  // Starts the sound unless it is still playing or there is nothing to play on.
  void play() {
    ++requested_;
    if (!wav_.empty()) player_.play(wav_);
  }
  int requested() const { return requested_; }  // times asked to sound (tests: state_dump "chimes")
  void reap() { player_.reap(); }
  bool available() const { return player_.available(); }
  const std::string& wav() const { return wav_; }

 private:
  std::string wav_;
  SoundPlayer player_;
  int requested_ = 0;
};

}  // namespace anxin::console
