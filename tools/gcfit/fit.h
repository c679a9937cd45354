// Maximum-likelihood fits of positive samples (GC pause durations, gaps between pauses).
//
// All numerical code is our own and deterministic: the same input gives the same bits on every run
// (inputs are sorted first, sums are taken in that order, no random numbers, no wall clock).
//
// Parameterisation (x in seconds, x > 0):
//  lognormal(mu, sigma):  ln x ~ Normal(mu, sigma^2); mu and sigma are the mean and the standard
//                         deviation of ln(seconds). pdf = exp(-(ln x - mu)^2 / (2 sigma^2)) /
//                         (x sigma sqrt(2 pi)). scipy: lognorm(s=sigma, scale=exp(mu)).
//  gamma(shape k, scale θ): pdf = x^(k-1) exp(-x/θ) / (Γ(k) θ^k); mean kθ; θ in seconds.
//                         scipy: gamma(a=k, scale=θ).
//  weibull(shape k, scale λ): cdf = 1 - exp(-(x/λ)^k); λ in seconds. scipy: weibull_min(c=k,
//                         scale=λ).
//  exponential(mean m):   cdf = 1 - exp(-x/m); m in seconds. scipy: expon(scale=m).
//  empirical:             sorted table of (p, value_seconds) with p rising from 0 to 1 (p = 0 is
//  the
//                         sample minimum, p = 1 its maximum); quantiles of the sample with linear
//                         interpolation between order statistics (numpy's default, "type 7").
//                         cdf/quantile interpolate linearly between table points.
// MLE with location fixed at 0 (scipy's `fit(x, floc=0)`): closed form for lognormal and
// exponential; Newton on the profile equations for the gamma shape (ln k - ψ(k) = ln mean(x) -
// mean(ln x)) and the Weibull shape. AIC = 2 p - 2 ln L with p = 2 (1 for exponential); the family
// with the smallest AIC is chosen. KS is the one-sample Kolmogorov-Smirnov statistic
// sup |F_n(x) - F(x)| against the fitted CDF.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/special.h"

namespace zksim::gcfit {

enum class Family : int { Lognormal = 0, Gamma, Weibull, Exponential, Empirical };

// "lognormal", "gamma", "weibull", "exponential", "empirical".
std::string_view family_name(Family f);
bool parse_family(std::string_view name, Family& out);

struct QuantilePoint {
  double p = 0;      // probability in [0, 1]
  double value = 0;  // seconds
};

struct Distribution {
  Family family = Family::Empirical;
  double mu = 0, sigma = 0;          // lognormal
  double shape = 0, scale = 0;       // gamma (k, θ) and weibull (k, λ)
  double mean = 0;                   // exponential
  std::vector<QuantilePoint> table;  // empirical (also used when family == Empirical)

  double cdf(double x) const;
  // Inverse CDF for u in [0, 1]: the engine samples by passing its own uniform draw.
  double quantile(double u) const;
  // log pdf (not defined for Empirical: returns NaN).
  double logpdf(double x) const;
  // "mu=-1.61 sigma=0.348" style, for tables.
  std::string describe() const;
};

struct Candidate {
  Distribution dist;
  bool ok = false;  // false when the family could not be fitted (too few or degenerate values)
  double loglik = 0;
  double aic = 0;
  double ks = 0;
};

struct Summary {
  int64_t count = 0;
  double sum = 0, mean = 0, min = 0, max = 0, p50 = 0, p99 = 0, p999 = 0;
};

struct SampleFit {
  int64_t n = 0;              // values used for the parametric fits (> 0)
  int64_t n_nonpositive = 0;  // values <= 0 left out of the parametric fits (kept in the table)
  Summary summary;            // over all values
  std::vector<Candidate> candidates;  // lognormal, gamma, weibull, exponential (in that order)
  Candidate empirical;                // table + KS of the table's CDF (loglik/aic unused)
  Distribution chosen;                // smallest AIC, or the empirical table when nothing fits
};

// Fits every family. Values may be in any order; none may be NaN.
SampleFit fit_sample(std::vector<double> values);

// Quantile (type 7, linear interpolation) of sorted values.
double quantile_sorted(const std::vector<double>& sorted, double p);
// The probabilities of the empirical table.
const std::vector<double>& table_probabilities();
// KS statistic of sorted values against a CDF.
double ks_statistic(const std::vector<double>& sorted, const Distribution& d);

// Special functions (exposed for tests).
double digamma(double x);
double trigamma(double x);
// The incomplete gamma and the normal quantile and CDF are sim/special.h's (one implementation
// for the fitter and the engine's distributions).
using sim::normal_cdf;
using sim::normal_quantile;
inline double gamma_p(double a, double x) {  // regularized lower incomplete gamma P(a, x)
  return sim::regularized_gamma_p(a, x);
}

}  // namespace zksim::gcfit
