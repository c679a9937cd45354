// gc-model.json: GC pause distributions fitted from real logs, consumed by the simulator.
//
// File layout (all times in seconds):
//   {
//     "format": "zksim-gc-model/1",
//     "comment": "...", "command": "zksim gcfit ...",
//     "sources": [{"path": "...", "lines": N, "pauses": N, "skipped_lines": N}, ...],
//     "kinds": {
//       "young": {                      // also mixed, full, remark, cleanup, safepoint
//         "sources": ["path", ...],     // files that contributed pauses of this kind
//         "durations": <series>,        // pause lengths
//         "gaps": <series> | null       // start-to-start time between consecutive pauses of this
//       }, ...                          // kind within one file (null when fewer than 2 timed
//       pauses)
//     }
//   }
//   <series> = {
//     "n": N,                           // values > 0 used by the parametric fits
//     "n_nonpositive": N,               // values <= 0 (timestamp resolution), kept in the table
//     only "family": "lognormal"|"gamma"|"weibull"|"exponential"|"empirical",   // chosen by AIC
//     "params": {...},                  // of the chosen family, see below
//     "ks": D,                          // KS distance of the chosen family
//     "summary": {"count","sum","mean","min","max","p50","p99","p999"},
//     "candidates": [{"family","params","loglik","aic","ks"} ...],   // every family tried
//     "empirical": {"ks": D, "quantiles": [[p, value_seconds], ...]}  // p from 0 to 1
//   }
// params by family (see fit.h for the exact densities):
//   lognormal   {"mu", "sigma"}     mean and standard deviation of ln(seconds)
//   gamma       {"shape", "scale"}  shape k, scale θ in seconds (mean kθ)
//   weibull     {"shape", "scale"}  shape k, scale λ in seconds (cdf 1 - exp(-(x/λ)^k))
//   exponential {"mean"}            mean in seconds
//   empirical   {}                  sample from "quantiles" by linear interpolation in p
// Sampling: draw u ~ U(0,1) from the engine's own deterministic generator and take
// Distribution::quantile(u) (exact inverse CDF for every family).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/gcfit/fit.h"
#include "tools/gcfit/parser.h"

namespace zksim::gcfit {

struct Series {
  int64_t n = 0;
  int64_t n_nonpositive = 0;
  Distribution dist;  // chosen family and its parameters; dist.table is the empirical table
  double ks = 0;      // KS distance of the chosen family
  Summary summary;
};

struct KindModel {
  Kind kind = Kind::Young;
  std::vector<std::string> sources;
  Series durations;
  std::optional<Series> gaps;
};

struct GcModel {
  std::string comment;
  std::string command;
  std::vector<KindModel> kinds;  // in Kind order, only kinds that occur
  const KindModel* find(Kind k) const;
};

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads and validates a gc-model.json. Throws ModelError naming the file on any problem.
GcModel load_model(const std::string& path);
GcModel model_from_json(const nlohmann::json& j, const std::string& what = "model");

// --- building a model from pauses -----------------------------------------------------------

struct SourceInfo {
  std::string path;
  ParseStats stats;
};

// Pauses grouped per kind, gaps computed per file (pauses of one file must be added together).
class ModelBuilder {
 public:
  // Adds the pauses of one file (in file order). Two pauses of one kind that start at the same
  // instant are a duplicated entry (one JVM cannot start a pause while another runs): their gap of
  // 0 s is left out of the gap sample (so the gaps never fit a distribution degenerate at 0, whose
  // simulated pauses would follow each other without a break) and a warning is returned.
  // Returns the warnings about this file (empty when none).
  std::vector<std::string> add_file(const std::string& path, const ParseStats& stats,
                                    const std::vector<Pause>& pauses);
  // Fits every kind in `kinds` (all kinds when empty) and returns the JSON document.
  nlohmann::json fit(const std::vector<Kind>& kinds, const std::string& comment,
                     const std::string& command) const;
  const std::vector<double>& durations(Kind k) const { return dur_[static_cast<int>(k)]; }
  const std::vector<double>& gaps(Kind k) const { return gap_[static_cast<int>(k)]; }
  const std::vector<SourceInfo>& sources() const { return sources_; }

 private:
  std::vector<double> dur_[kKindCount];
  std::vector<double> gap_[kKindCount];
  std::vector<std::string> kind_sources_[kKindCount];
  std::vector<SourceInfo> sources_;
};

nlohmann::json series_json(const SampleFit& f);
nlohmann::json params_json(const Distribution& d);

}  // namespace zksim::gcfit
