// Helpers shared by replay's translation units (replay.cc: the command; infer.cc: fault inference).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "sim/config.h"
#include "sim/time.h"

namespace zksim::replay::detail {

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kS = 1'000'000'000;

inline std::string dur(int64_t ns) {
  return sim::format_duration(sim::Duration::ns(ns));
}
inline int64_t labs64(int64_t v) {
  return v < 0 ? -v : v;
}
inline double to_ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}
inline bool contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}
// `doc[path][key]` as a duration in ns, `dflt` when absent.
inline int64_t doc_duration_ns(const nlohmann::json& doc, const char* path, const char* key,
                               int64_t dflt) {
  if (!doc.contains(path) || !doc[path].contains(key)) return dflt;
  return sim::json_duration(doc[path][key], fmt::format("{}.{}", path, key)).count_ns();
}

}  // namespace zksim::replay::detail
