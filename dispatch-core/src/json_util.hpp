// Private helpers for reading JSON with coded errors, shared by the protocol codec
// and the store. Reading stops at the first problem, with a message naming the field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "anxin/core/domain.hpp"
#include "anxin/core/errors.hpp"

namespace anxin::json_util {

using json = nlohmann::json;

struct Failure {
  Error error;
};
[[noreturn]] inline void fail(ErrorCode code, std::string message) { throw Failure{{code, std::move(message)}}; }

inline bool has(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && !it->is_null();
}
inline const json& need(const json& o, const char* key) {
  if (!o.is_object()) fail(ErrorCode::bad_field, std::string("expected an object holding '") + key + "'");
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) fail(ErrorCode::missing_field, std::string("missing field '") + key + "'");
  return *it;
}
inline std::string need_string(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_string()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be a string");
  return v.get<std::string>();
}
// Integers are read at full width and never wrapped: 18446744073709551615 is not -1,
// and 4294967346 is not 50 once narrowed (issue 10).
// `v` is the value of field `key` (named in the error), or an element of that array.
inline std::int64_t as_int(const json& v, const char* key) {
  const bool fits = v.is_number_integer() &&
                    (!v.is_number_unsigned() || v.get<std::uint64_t>() <= std::uint64_t(INT64_MAX));
  if (!fits) fail(ErrorCode::bad_field, std::string("'") + key + "' must be a 64-bit integer");
  return v.get<std::int64_t>();
}
inline std::int64_t need_int(const json& o, const char* key) { return as_int(need(o, key), key); }
// An integer that must lie in [lo, hi], as the type it is kept in.
template <class T = int>
T as_int_in(const json& v, const char* key, std::int64_t lo, std::int64_t hi) {
  const std::int64_t n = as_int(v, key);
  if (n < lo || n > hi)
    fail(ErrorCode::bad_field, std::string("'") + key + "' must be " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<T>(n);
}
template <class T = int>
T need_int_in(const json& o, const char* key, std::int64_t lo, std::int64_t hi) {
  return as_int_in<T>(need(o, key), key, lo, hi);
}
template <class T = int>
T opt_int_in(const json& o, const char* key, std::int64_t lo, std::int64_t hi, T fallback) {
  return has(o, key) ? need_int_in<T>(o, key, lo, hi) : fallback;
}
inline constexpr std::int64_t kCountMax = std::int64_t(1) << 53;  // counts a JSON double still holds exactly
inline double need_number(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_number()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be a number");
  return v.get<double>();
}
inline bool need_bool(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_boolean()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be true or false");
  return v.get<bool>();
}
inline std::string opt_string(const json& o, const char* key) { return has(o, key) ? need_string(o, key) : ""; }
inline std::int64_t opt_int(const json& o, const char* key, std::int64_t fallback) {
  return has(o, key) ? need_int(o, key) : fallback;
}
inline double opt_number(const json& o, const char* key, double fallback) {
  return has(o, key) ? need_number(o, key) : fallback;
}
inline bool opt_bool(const json& o, const char* key, bool fallback) {
  return has(o, key) ? need_bool(o, key) : fallback;
}
template <class E> E need_enum(const json& o, const char* key) {
  std::string text = need_string(o, key);
  auto e = parse_enum<E>(text);
  if (!e) fail(ErrorCode::bad_field, std::string("'") + key + "' has no value '" + text + "'");
  return *e;
}
template <class E> E opt_enum(const json& o, const char* key, E fallback) {
  return has(o, key) ? need_enum<E>(o, key) : fallback;
}
inline const json& need_array(const json& o, const char* key) {
  const json& v = need(o, key);
  if (!v.is_array()) fail(ErrorCode::bad_field, std::string("'") + key + "' must be an array");
  return v;
}

}  // namespace anxin::json_util
