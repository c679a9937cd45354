// Randomness: one root seed, named substreams, own samplers (STYLE.md §4).
//
// Every component draws from its own stream derived from (root seed, stable name), so adding a GC
// process or a fault never shifts the network's draws. The samplers are our own code because
// std::*_distribution differs between standard libraries; the generator is xoshiro256** seeded
// through splitmix64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/special.h"

namespace sim {

// 64-bit FNV-1a; also used for the trace hash. Stable across platforms.
uint64_t fnv1a64(std::string_view data, uint64_t h = 0xcbf29ce484222325ULL);

class Rng {
 public:
  // The stream named `name` under root seed `seed`. Same (seed, name) => same sequence, always.
  static Rng stream(uint64_t seed, std::string_view name);
  explicit Rng(uint64_t seed);

  // A child stream, derived from this stream's identity (not its position).
  Rng fork(std::string_view name) const;

  uint64_t next_u64();
  // Uniform in [0, 1) with 53 bits.
  double uniform01();
  // Uniform in (0, 1]: safe for log().
  double uniform01_open_low() { return 1.0 - uniform01(); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Uniform integer in [0, n) without modulo bias. n > 0.
  uint64_t below(uint64_t n);
  bool bernoulli(double p) { return p > 0 && uniform01() < p; }

  double exponential(double mean);
  double normal(double mean, double stddev);
  double lognormal(double mu, double sigma);
  double gamma(double shape, double scale);
  double weibull(double shape, double scale);

  uint64_t identity() const { return identity_; }

 private:
  uint64_t s_[4];
  uint64_t identity_;
};

// A distribution over real numbers. For durations the unit is seconds (see DurationDist in
// dist.h). Parameters follow the textbook conventions stated per kind.
struct Dist {
  enum class Kind { Constant, Uniform, Exponential, Normal, LogNormal, Gamma, Weibull, Empirical };
  Kind kind = Kind::Constant;
  // Constant: a = value. Uniform: [a, b). Exponential: a = mean. Normal: a = mean, b = stddev.
  // LogNormal: a = mu, b = sigma of ln(x). Gamma: a = shape k, b = scale theta.
  // Weibull: a = shape k, b = scale lambda.
  double a = 0;
  double b = 0;
  // Empirical: inverse CDF as (p, x) points, p ascending from 0 to 1; linear in between.
  std::vector<std::pair<double, double>> table;
  // Samples are clamped to [lo, hi] (defaults: no clamp). Durations use lo = 0.
  double lo = -1e300;
  double hi = 1e300;

  double sample(Rng& rng) const;
  // Exact moments where known (empirical: of the piecewise-linear inverse CDF).
  double mean() const;
  double variance() const;
  // Quantile function (inverse CDF) at p in (0, 1): closed form where one exists, otherwise by
  // bisection on the CDF.
  double quantile(double p) const;
  double cdf(double x) const;
  std::string describe() const;

  static Dist make(Kind k, double a, double b) {
    Dist d;
    d.kind = k;
    d.a = a;
    d.b = b;
    return d;
  }
  static Dist constant(double v) { return make(Kind::Constant, v, 0); }
  static Dist uniform(double lo, double hi) { return make(Kind::Uniform, lo, hi); }
  static Dist exponential(double mean) { return make(Kind::Exponential, mean, 0); }
  static Dist normal(double mean, double sd) { return make(Kind::Normal, mean, sd); }
  static Dist lognormal(double mu, double sigma) { return make(Kind::LogNormal, mu, sigma); }
  // Lognormal with the given median and 99th percentile.
  static Dist lognormal_median_p99(double median, double p99);
  static Dist gamma(double shape, double scale) { return make(Kind::Gamma, shape, scale); }
  static Dist weibull(double shape, double scale) { return make(Kind::Weibull, shape, scale); }
  static Dist empirical(std::vector<std::pair<double, double>> t);
};

}  // namespace sim
