// Reading configuration values (durations, distributions) from JSON with errors that name the
// offending key path, e.g. `zk.peers[2].host`. Scenario loading builds on these.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string path, const std::string& msg)
      : std::runtime_error(path.empty() ? msg : path + ": " + msg), path_(std::move(path)) {}
  // The same error with the file name in front: "scenarios/x.json: faults[0].for: ...".
  ConfigError in_file(const std::string& file) const {
    ConfigError e(*this);
    static_cast<std::runtime_error&>(e) = std::runtime_error(file + ": " + what());
    return e;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// "200ms" (a string with a unit) or 0. Anything else is an error naming `path`.
Duration json_duration(const nlohmann::json& j, const std::string& path);

// The longest duration a distribution draws: a day. Heavy tails (a lognormal with mu 100, a
// Weibull with shape 1e-6) would otherwise overflow the clock's 292 years of nanoseconds; no
// latency, pause or gap in a run is anywhere near a day.
constexpr double kMaxDrawnSeconds = 86400;

// A duration distribution in seconds (clamped at 0 and kMaxDrawnSeconds): either a duration string
// (constant) or an object {"dist": "lognormal", "median": "200us", "p99": "2ms"} /
// {"dist":"lognormal","mu":.., "sigma":..} (of ln seconds) / {"dist":"exponential","mean":"5s"} /
// {"dist":"uniform","min":.., "max":..} / {"dist":"normal","mean":..,"stddev":..} /
// {"dist":"gamma","shape":k,"scale":"1s"} /
// {"dist":"weibull","shape":k,"scale":"1s"} / {"dist":"constant","value":"1ms"} /
// {"dist":"empirical","quantiles":[[0,"1ms"],[0.5,"2ms"],[1,"9ms"]]}.
Dist json_duration_dist(const nlohmann::json& j, const std::string& path);

// Deepest nesting accepted in any JSON input: copying or destroying a parsed document recurses
// once per level, so a file of 70,000 nested arrays would overflow the stack. Real inputs nest
// less than 10 deep.
constexpr int kMaxJsonDepth = 200;

// Parses JSON text from `where` (a file name, or a flag). Errors (syntax, with the line; numbers
// out of range; nesting deeper than kMaxJsonDepth) name `where`. Throws ConfigError. Inline so
// that tools which do not link the engine (gcfit) read their JSON the same way.
inline nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
  using nlohmann::json;
  struct TooDeep {};
  auto limit = [](int depth, json::parse_event_t, json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return json::parse(text, limit);
  } catch (const TooDeep&) {
    throw ConfigError(
        "", fmt::format("{}: invalid JSON: nested deeper than {} levels", where, kMaxJsonDepth));
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into a line number.
    size_t upto = std::min<size_t>(e.byte, text.size());
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + upto, '\n'));
    throw ConfigError("", fmt::format("{}:{}: invalid JSON: {}", where, line, e.what()));
  } catch (const json::exception& e) {  // e.g. a number too large for a double (1e400)
    throw ConfigError("", fmt::format("{}: invalid JSON: {}", where, e.what()));
  }
}

// Reads and parses a JSON file. Errors name the file ("cannot open <what> file") and, for syntax
// errors, the line: "path:12: invalid JSON: ...". Throws ConfigError.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

double json_number(const nlohmann::json& j, const std::string& path, double lo, double hi);
int64_t json_int(const nlohmann::json& j, const std::string& path, int64_t lo, int64_t hi);

}  // namespace sim
