#pragma once
// Where the server's threads may run (docs/configuration.md, "CPUs"). The service
// thread answers every connection and sends every delta; on a small machine the
// scheduler often puts the SQLite writer, or a local client, on its CPU, and then
// the thread that waits is the one every console waits on. A host with CPUs to
// spare gives it one of its own, as Redis does with server_cpulist and bio_cpulist.
#include <pthread.h>
#include <sched.h>

#include <string>
#include <string_view>

namespace anxin::gateway {

struct CpuList {
  cpu_set_t set{};
  std::string text;  // as given, for messages
  bool empty() const { return CPU_COUNT(&set) == 0; }
};

// Linux's list format, as taskset -c and /proc/*/status write it: "0", "2-3",
// "0,2-3". Throws std::invalid_argument saying what is wrong, including a CPU this
// process may not run on.
CpuList parse_cpu_list(std::string_view text);

// Pins the thread to the list; the threads it starts after inherit it. Throws
// std::system_error if the kernel refuses.
void pin_thread(pthread_t thread, const CpuList& cpus);

}  // namespace anxin::gateway
