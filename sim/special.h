// Special functions shared by the engine's distributions (sim/rng) and `zksim gcfit`'s fitter:
// one implementation of each. A library of its own (zksim_special, libm only) so that gcfit
// still builds stand-alone with ZKSIM_WITH_ENGINE=OFF.
#pragma once

namespace sim {

// Standard normal CDF Φ(z).
double normal_cdf(double z);
// Standard normal quantile Φ^{-1}(p): Acklam's rational approximation refined by two Halley steps
// on erfc (full double precision); -inf for p <= 0, +inf for p >= 1.
double normal_quantile(double p);
// Regularized lower incomplete gamma P(a, x), a > 0: the series below a + 1, Lentz's continued
// fraction for Q above; 0 for x <= 0 (and NaN), 1 for x = +inf.
double regularized_gamma_p(double a, double x);

}  // namespace sim
