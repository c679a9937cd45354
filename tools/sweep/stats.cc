#include "tools/sweep/stats.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace zksim::sweep {

Interval wilson(int64_t k, int64_t n, double z) {
  assert(k >= 0 && k <= n);
  if (n <= 0) return {0, 1};
  double nn = static_cast<double>(n);
  double p = static_cast<double>(k) / nn;
  double z2 = z * z;
  double denom = 1.0 + z2 / nn;
  double centre = (p + z2 / (2.0 * nn)) / denom;
  double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
  Interval iv{centre - half, centre + half};
  // Exact ends for the boundary cases (the formula gives them up to rounding).
  if (k == 0) iv.lo = 0;
  if (k == n) iv.hi = 1;
  iv.lo = std::clamp(iv.lo, 0.0, 1.0);
  iv.hi = std::clamp(iv.hi, 0.0, 1.0);
  return iv;
}

int64_t percentile_nearest_rank(const std::vector<int64_t>& sorted, int p) {
  assert(!sorted.empty() && p > 0 && p <= 100);
  size_t n = sorted.size();
  size_t rank = (static_cast<size_t>(p) * n + 99) / 100;  // ceil(p*n/100), integer arithmetic
  if (rank < 1) rank = 1;
  return sorted[rank - 1];
}

}  // namespace zksim::sweep
