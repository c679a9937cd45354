// The human-readable timeline of a run: the notable records, one line each.
#pragma once

#include <optional>
#include <string>

#include "sim/trace.h"

namespace cli {

// One line for a notable record (nullopt for routine ones unless `all`).
std::optional<std::string> describe(const sim::Record& r, bool all);

// Prints the timeline as records arrive (a sink), with a cap on the number of lines.
class TimelinePrinter : public sim::Sink {
 public:
  TimelinePrinter(std::FILE* out, bool all, size_t max_lines)
      : out_(out), all_(all), max_(max_lines) {}
  void on_record(const sim::Record& r) override;
  void finish(sim::Time end) override;

 private:
  std::FILE* out_;
  bool all_;
  size_t max_;
  size_t printed_ = 0;
  size_t skipped_ = 0;
  std::string last_matrix_;
};

}  // namespace cli
