// anxin-server: the service centre's dispatch server. Hosts the dispatch core,
// its SQLite file and the WebSocket endpoint for devices, consoles and field staff.
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "anxin/core/clock.hpp"
#include "anxin/core/store.hpp"
#include "anxin/gateway/config_file.hpp"
#include "anxin/gateway/cpus.hpp"
#include "anxin/gateway/server.hpp"
#include "anxin/gateway/webhook_notifier.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void usage() {
  std::puts(
      "usage: anxin-server [--db FILE] [--port N] [--interface IP] [--allow-origin O ...] [--sync full|normal]\n"
      "                    [--status] [--port-file FILE] [--webhook URL [--webhook-secret-file FILE]]\n"
      "                    [--field-port N] [--field-root DIR] [--tls-cert PEM --tls-key PEM]\n"
      "                    [--config FILE] [--offer-timeout-s S] [--line FILE] [--hello-timeout-s S]\n"
      "                    [--dc09-port N] [--service-cpus LIST] [--background-cpus LIST]\n"
      "                    [--commit-spin-us N]\n"
      "  --db FILE         SQLite database (default anxin.db; created and migrated if new)\n"
      "  --port N          WebSocket port (default 7600; 0 picks a free one)\n"
      "  --interface IP    listen on that address only (default: every interface)\n"
      "  --allow-origin O  a web origin (scheme://host[:port]) whose pages may open WebSockets,\n"
      "                    besides the field page's own; repeatable (docs/security.md)\n"
      "  --sync MODE       SQLite synchronous mode: full (default) or normal\n"
      "  --status          print a one-line live status every second\n"
      "  --port-file FILE  write 'PORT FIELD_PORT' to FILE once listening (then ' DC09_PORT'\n"
      "                    when the DC-09 receiver is on)\n"
      "  --webhook URL     POST SMS notices and call requests there as JSON (default: log only);\n"
      "                    a notice that still fails after 3 tries shows on its incident\n"
      "  --webhook-secret-file FILE  sign each POST with HMAC-SHA256 under the secret in FILE\n"
      "                    (its content, trailing newline dropped; docs/protocol.md, Notices);\n"
      "                    without it the POSTs are unsigned and the server warns at start\n"
      "  --field-port N    serve the field staff page at http://HOST:N/field/ (default 7601; -1: off)\n"
      "  --field-root DIR  the page's files (default: ws-gateway/field in the source tree)\n"
      "  --tls-cert, --tls-key  serve the field port over HTTPS/WSS (phones give positions\n"
      "                    only to secure pages)\n"
      "  --config FILE     the centre's timers (escalation thresholds, the family cascade's\n"
      "                    step, offer timeout, late margin, sessions, ...) from a JSON file:\n"
      "                    every key in seconds; unknown keys and values out of range are\n"
      "                    refused (docs/configuration.md, example assets/anxin.conf.json)\n"
      "  --offer-timeout-s S  how long an offer waits for an answer (default 60); wins over\n"
      "                    the config file's offer_timeout_s\n"
      "  --hello-timeout-s S  close a connection that has not said hello or logged in by then\n"
      "                    (default 5); wins over the config file's hello_timeout_s\n"
      "  --line FILE       the centre's SIP phone line: seats, dial plan, recordings\n"
      "                    (docs/telephony.md); without it calls are tasks to dial by hand\n"
      "  --dc09-port N     the SIA DC-09 alarm receiver on TCP and UDP port N (0 picks a free\n"
      "                    one; -1: off, the default); wins over the config file's dc09.port;\n"
      "                    accounts and keys come from the config file (docs/dc09.md)\n"
      "  --service-cpus LIST  run the service thread (every connection, every delta) only on\n"
      "                    these CPUs, as taskset -c writes them: 0, 2-3, 0,2-3 (default: any)\n"
      "  --background-cpus LIST  run every other thread (the SQLite writer, readers, webhook,\n"
      "                    SIP seats, DC-09) only on these CPUs (default: any); give the\n"
      "                    service thread a CPU of its own (docs/configuration.md, CPUs)\n"
      "  --commit-spin-us N  while a commit is on its way to the disk, the service thread\n"
      "                    polls its connections instead of sleeping, up to N µs after handing\n"
      "                    it over (0-1000000; default 1000; 0: it sleeps)\n"
      "       anxin-server --registry-image-from-rows DB\n"
      "                    what a running server runs itself: writes the registry's image from\n"
      "                    DB's rows beside it and prints its stamp (docs/architecture.md,\n"
      "                    The registry's image); the next start uses it only once a server\n"
      "                    records that stamp in DB");
}

// A flag's value as a whole number from `least` to `most`; nothing when it is not one.
std::optional<long long> whole_number(const std::string& text, long long least, long long most) {
  const auto n = nlohmann::json::parse(text, nullptr, false);
  if (n.is_discarded() || !n.is_number_integer() || n.get<long long>() < least || n.get<long long>() > most)
    return std::nullopt;
  return n.get<long long>();
}

// What a running server runs in a process of its own (image_keeper.hpp): the
// registry's image written from the rows beside the file, and on stdout its stamp and
// the last names of changes before the rows were read, for the server to record.
int registry_image_from_rows(const char* db) {
  // At the idle priority (its threads inherit it), so that the server's come first;
  // even so, a busy thread beside the writer cost some runs' alarms a few ms on the
  // VM measured (docs/benchmarks.md, "The image written again while the server runs").
  sched_param idle{};
  sched_setscheduler(0, SCHED_IDLE, &idle);
  try {
    const anxin::Store::ImageFromRows image = anxin::Store::image_from_rows(db);
    std::printf("%s %lld %lld\n", image.stamp.c_str(), static_cast<long long>(image.elders_named),
                static_cast<long long>(image.devices_named));
    return std::fflush(stdout) == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-server --registry-image-from-rows: %s\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--registry-image-from-rows") == 0) return registry_image_from_rows(argv[2]);
  anxin::gateway::ServerOptions options;
  options.field_port = 7601;
  options.field_root = ANXIN_FIELD_ROOT;
  // This program, for the registry's image (above); empty when it cannot be named.
  std::error_code no_exe;
  options.image_helper = std::filesystem::read_symlink("/proc/self/exe", no_exe).string();
  bool status = false;
  std::string port_file;
  std::string config_file, offer_timeout_s, hello_timeout_s, dc09_port;
  std::optional<std::string> service_cpus, background_cpus, commit_spin_us;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "anxin-server: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--db") options.db_path = value();
    else if (a == "--port") options.port = std::stoi(value());
    else if (a == "--interface") options.interface = value();
    else if (a == "--allow-origin") options.allowed_origins.push_back(value());
    else if (a == "--sync") {
      std::string m = value();
      if (m != "full" && m != "normal") {
        std::fprintf(stderr, "anxin-server: --sync must be full or normal\n");
        return 2;
      }
      options.synchronous_full = m == "full";
    } else if (a == "--status") status = true;
    else if (a == "--port-file") port_file = value();
    else if (a == "--webhook") options.webhook_url = value();
    else if (a == "--webhook-secret-file") {
      // From a file, never the command line, where any local user can read it (ps).
      try {
        options.webhook_secret = anxin::gateway::read_webhook_secret(value());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "anxin-server: %s\n", e.what());
        return 2;
      }
    }
    else if (a == "--field-port") options.field_port = std::stoi(value());
    else if (a == "--field-root") options.field_root = value();
    else if (a == "--tls-cert") options.tls_cert = value();
    else if (a == "--tls-key") options.tls_key = value();
    else if (a == "--config") config_file = value();
    else if (a == "--offer-timeout-s") offer_timeout_s = value();
    else if (a == "--line") options.line_file = value();
    else if (a == "--hello-timeout-s") hello_timeout_s = value();
    else if (a == "--dc09-port") dc09_port = value();
    else if (a == "--service-cpus") service_cpus = value();
    else if (a == "--background-cpus") background_cpus = value();
    else if (a == "--commit-spin-us") commit_spin_us = value();
    else if (a == "-h" || a == "--help") { usage(); return 0; }
    else {
      std::fprintf(stderr, "anxin-server: unknown option %s\n", a.c_str());
      usage();
      return 2;
    }
  }

  // The timers: the defaults, then the config file's, then the command line's.
  if (!config_file.empty()) {
    auto loaded = anxin::gateway::load_config_file(config_file, options);
    if (!loaded) {
      std::fprintf(stderr, "anxin-server: %s\n", loaded.error().message.c_str());
      return 2;
    }
    options = std::move(loaded.value());
  }
  for (const auto& [flag, key, text] : {std::tuple{"--offer-timeout-s", "offer_timeout_s", offer_timeout_s},
                                        std::tuple{"--hello-timeout-s", "hello_timeout_s", hello_timeout_s}}) {
    if (text.empty()) continue;
    const auto seconds = nlohmann::json::parse(text, nullptr, false);
    if (seconds.is_discarded() || !seconds.is_number()) {
      std::fprintf(stderr, "anxin-server: %s: not a number of seconds: %s\n", flag, text.c_str());
      return 2;
    }
    auto applied = anxin::gateway::apply_config(nlohmann::json{{key, seconds}}.dump(), options, flag);
    if (!applied) {
      std::fprintf(stderr, "anxin-server: %s\n", applied.error().message.c_str());
      return 2;
    }
    options = std::move(applied.value());
  }

  if (!dc09_port.empty()) {
    const auto port = whole_number(dc09_port, -1, 65535);
    if (!port) {
      std::fprintf(stderr, "anxin-server: --dc09-port: must be a port number, 0 (any free port) or -1 (off): %s\n",
                   dc09_port.c_str());
      return 2;
    }
    options.dc09_port = static_cast<int>(*port);
  }
  if (commit_spin_us) {
    const auto us = whole_number(*commit_spin_us, 0, 1'000'000);
    if (!us) {
      std::fprintf(stderr, "anxin-server: --commit-spin-us: must be a whole number of microseconds, 0 to 1000000: %s\n",
                   commit_spin_us->c_str());
      return 2;
    }
    options.commit_spin_us = static_cast<int>(*us);
  }
  auto cpus = [](const char* flag, const std::optional<std::string>& text, anxin::gateway::CpuList& into) {
    if (!text) return true;
    try {
      into = anxin::gateway::parse_cpu_list(*text);
      return true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "anxin-server: %s: %s\n", flag, e.what());
      return false;
    }
  };
  anxin::gateway::CpuList background;
  if (!cpus("--service-cpus", service_cpus, options.service_cpus) ||
      !cpus("--background-cpus", background_cpus, background))
    return 2;
  if (!options.webhook_secret.empty() && options.webhook_url.empty())
    std::fprintf(stderr, "anxin-server: warning: --webhook-secret-file without --webhook signs nothing\n");
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    std::fprintf(stderr, "anxin-server: --tls-cert and --tls-key go together\n");
    return 2;
  }
  // Every connection is a file: take all the open files the system allows this
  // process, not the shell's default 1,024 (issue 10, item 2).
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  anxin::SystemClock clock;
  try {
    // Before any thread starts: every thread but the service thread inherits it.
    if (!background.empty()) anxin::gateway::pin_thread(pthread_self(), background);
    anxin::gateway::Server server(options, clock);
    server.start();
    std::fprintf(stderr, "anxin-server: %s, listening on port %d\n", options.db_path.c_str(), server.port());
    if (server.field_port() > 0)
      std::fprintf(stderr, "anxin-server: field staff page at %s://localhost:%d/field/\n",
                   options.tls_cert.empty() ? "http" : "https", server.field_port());
    if (server.dc09_port() > 0)
      std::fprintf(stderr, "anxin-server: SIA DC-09 receiver on TCP and UDP port %d\n", server.dc09_port());
    if (!port_file.empty()) {
      std::string tmp = port_file + ".tmp";
      if (FILE* f = std::fopen(tmp.c_str(), "w")) {
        if (server.dc09_port() > 0) std::fprintf(f, "%d %d %d\n", server.port(), server.field_port(), server.dc09_port());
        else std::fprintf(f, "%d %d\n", server.port(), server.field_port());
        std::fclose(f);
        std::rename(tmp.c_str(), port_file.c_str());
      }
    }
    const bool tty = isatty(STDOUT_FILENO);
    int tick = 0;
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (status && ++tick % 10 == 0) {
        auto s = server.stats();
        std::printf("%sanxin: open incidents %zu | alarms %llu | consoles %d | devices %d | errors %llu | commits %llu%s",
                    tty ? "\r" : "", s.open_incidents, static_cast<unsigned long long>(s.alarms_accepted),
                    s.consoles, s.devices, static_cast<unsigned long long>(s.errors_sent),
                    static_cast<unsigned long long>(s.commits), tty ? "   " : "\n");
        std::fflush(stdout);
      }
    }
    std::fprintf(stderr, "\nanxin-server: stopping\n");
    server.stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anxin-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
