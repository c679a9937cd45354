// The seed incident's summary pipeline, reproduced bit for bit:
//
//   rg 'GC pause' FILE | awk '{print $(NF-1)}' | sort -n |
//     python3 -c 'import sys; a = [float(x) for x in sys.stdin]; print("sum:", sum(a)); ...'
//
// Lines containing the literal `GC pause` are selected, the second-to-last field (awk default
// splitting on runs of blanks) is taken, the fields are ordered like GNU `sort -n` in the C locale
// (numeric prefix, then whole-field byte order for ties), converted with Python's float(), summed
// left to right in IEEE double, and printed with Python 3's repr.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zksim::gcfit {

struct SeedResult {
  int64_t count = 0;
  double sum = 0, avg = 0, min = 0, max = 0;
  // Empty on success; otherwise what Python would raise, e.g.
  // "ValueError: could not convert string to float: '[GC'".
  std::string error;
  // "sum: 3240.89585220002", "avg: ...", "min: ...", "max: ...", "count: 15798".
  std::vector<std::string> lines() const;
};

// Incremental form: feed every raw line (CR kept) of every file, in order.
class SeedCollector {
 public:
  void add_line(std::string_view line);
  SeedResult result() const;
  int64_t selected() const { return static_cast<int64_t>(fields_.size()); }

 private:
  std::vector<std::string> fields_;
};

// Runs the pipeline over the files in order (as `rg` would read them). Throws ParseError for an
// unreadable file.
SeedResult seed_pipeline(const std::vector<std::string>& paths);

// Python 3 repr() of a float (shortest round-trip digits, Python's fixed/exponent switch).
std::string python_repr(double v);
// Python 3 float(str) for ASCII input; false where Python raises ValueError.
bool python_float(std::string_view s, double& out);
// GNU `sort -n` comparison (C locale), including the last-resort byte comparison.
bool sort_n_less(std::string_view a, std::string_view b);
// awk's $(NF-1) with the default field separator (NF >= 2 assumed; returns $0 when NF == 1).
std::string_view awk_nf_minus_1(std::string_view line);

}  // namespace zksim::gcfit
