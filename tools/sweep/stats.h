// Small, deterministic statistics for sweep rows: the Wilson score interval of a proportion and
// nearest-rank percentiles of integer samples. Pure functions, no floating-point surprises: inputs
// are integers and every operation is a single IEEE-754 operation (no contraction).
#pragma once

#include <cstdint>
#include <vector>

namespace zksim::sweep {

struct Interval {
  double lo = 0;
  double hi = 0;
};

// The two-sided 95% z value, Phi^-1(0.975).
inline constexpr double kZ95 = 1.959963984540054;

// Wilson score interval for `k` successes out of `n` trials (n > 0), clamped to [0, 1]. For n == 0
// returns [0, 1] (nothing is known).
Interval wilson(int64_t k, int64_t n, double z = kZ95);

// Nearest-rank percentile (p in percent, 0 < p <= 100) of `sorted` (ascending, non-empty): the
// smallest sample such that at least p% of the samples are <= it, i.e. sorted[ceil(p*n/100) - 1].
int64_t percentile_nearest_rank(const std::vector<int64_t>& sorted, int p);

}  // namespace zksim::sweep
