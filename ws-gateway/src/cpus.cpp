#include "anxin/gateway/cpus.hpp"

#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace anxin::gateway {

namespace {

int number(std::string_view text, std::string_view part) {
  int n = -1;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
  if (part.empty() || ec != std::errc() || end != part.data() + part.size() || n < 0)
    throw std::invalid_argument("'" + std::string(text) + "': '" + std::string(part) +
                                "' is not a CPU number (a list is like 0 or 2-3 or 0,2-3)");
  return n;
}

// The set as a list again: 0-1, 0,2-3.
std::string text_of(const cpu_set_t& set) {
  std::string text;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set)) ++last;
    if (!text.empty()) text += ',';
    text += std::to_string(cpu);
    if (last > cpu) text += '-' + std::to_string(last);
    cpu = last;
  }
  return text;
}

}  // namespace

CpuList parse_cpu_list(std::string_view text) {
  CpuList list;
  list.text = text;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) throw std::system_error(errno, std::generic_category());
  std::string_view rest = text;
  for (;;) {
    const size_t comma = rest.find(',');
    const std::string_view part = rest.substr(0, comma);
    const size_t dash = part.find('-');
    const int first = number(text, part.substr(0, dash));
    const int last = dash == std::string_view::npos ? first : number(text, part.substr(dash + 1));
    if (last < first) throw std::invalid_argument("'" + std::string(text) + "': " + std::string(part) + " runs backwards");
    for (int cpu = first; cpu <= last; ++cpu) {
      if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed))
        throw std::invalid_argument("'" + std::string(text) + "': CPU " + std::to_string(cpu) +
                                    " is not one this process may run on (" + text_of(allowed) + ")");
      CPU_SET(cpu, &list.set);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return list;
}

void pin_thread(pthread_t thread, const CpuList& cpus) {
  if (const int e = pthread_setaffinity_np(thread, sizeof cpus.set, &cpus.set))
    throw std::system_error(e, std::generic_category(), "cannot pin a thread to CPUs " + cpus.text);
}

}  // namespace anxin::gateway
