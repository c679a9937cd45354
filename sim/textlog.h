// Human log files written by models in real products' formats (log4j, glog), one folder per
// host: DIR/<host>/<file>. The engine only manages files and the wall-clock epoch that maps
// simulated time to timestamps; each model formats its own lines.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "sim/time.h"

namespace sim {

class TextLogs {
 public:
  // `dir` empty => logging disabled (enabled() is false and line() is a no-op).
  explicit TextLogs(std::string dir = {}) : dir_(std::move(dir)) {}
  ~TextLogs();
  TextLogs(const TextLogs&) = delete;
  TextLogs& operator=(const TextLogs&) = delete;
  void set_dir(std::string dir) { dir_ = std::move(dir); }
  bool enabled() const { return !dir_.empty(); }
  // Appends one line (a newline is added) to DIR/<host>/<file>. Throws std::runtime_error naming
  // the path if the file cannot be created.
  void line(const std::string& host, const std::string& file, const std::string& text);
  void flush();

  // Wall-clock time of simulated t=0, in Unix nanoseconds (UTC), and the offset of the local
  // time zone the logs are written in.
  int64_t wall_epoch_ns = 0;
  int64_t tz_offset_s = 0;
  // Local wall-clock time at simulated time t, in Unix ns shifted by the zone offset.
  int64_t local_ns(Time t) const { return wall_epoch_ns + t.ns() + tz_offset_s * 1000'000'000; }

 private:
  std::string dir_;
  std::map<std::string, std::FILE*> files_;  // ordered: deterministic close order
};

// Civil date-time from Unix-like nanoseconds (already shifted to local time).
struct CivilTime {
  int year, month, day, hour, minute, second;
  int64_t nanos;
};
CivilTime civil_from_ns(int64_t ns);
// Inverse of civil_from_ns; used by scenario parsing of "2025-07-20T00:00:00Z" epochs.
int64_t ns_from_civil(int year, int month, int day, int hour, int minute, int second);

}  // namespace sim
