#include "harness.hpp"

#include <algorithm>
#include <set>

#include "anxin/core/store.hpp"

namespace anxin::bench {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

std::string make_bench_db(const std::filesystem::path& dir, const sim::District& district) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "bench.db").string();
  Store store(db);
  store.import_registry(district.elders, district.devices, district.workers);
  std::set<std::string> vendors;  // one token each, not one write per device
  for (const auto& d : district.devices) vendors.insert(d.vendor);
  for (const auto& v : vendors) store.put_token("bench-" + v, {Role::device, "vendor:" + v});
  store.put_token("bench-console", {Role::console, "operator:bench"});
  for (const auto& w : district.workers)
    store.put_token("bench-w" + std::to_string(w.id), {Role::field, "worker:" + std::to_string(w.id)});
  return db;
}

}  // namespace anxin::bench
