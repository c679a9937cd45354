#include "sim/rng.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>

namespace sim {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

constexpr double kPi = 3.14159265358979323846;

}  // namespace

uint64_t fnv1a64(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) : identity_(seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
}

Rng Rng::stream(uint64_t seed, std::string_view name) {
  uint64_t x = seed;
  uint64_t mixed = splitmix64(x) ^ fnv1a64(name);
  return Rng(mixed);
}

Rng Rng::fork(std::string_view name) const {
  uint64_t x = identity_;
  return Rng(splitmix64(x) ^ fnv1a64(name, 0x84222325cbf29ce4ULL));
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform01() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

uint64_t Rng::below(uint64_t n) {
  assert(n > 0);
  // Lemire's nearly divisionless method with rejection: exact and unbiased.
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
  uint64_t l = static_cast<uint64_t>(m);
  if (l < n) {
    uint64_t t = -n % n;
    while (l < t) {
      m = static_cast<unsigned __int128>(next_u64()) * n;
      l = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::exponential(double mean) {
  return -mean * std::log(uniform01_open_low());
}

double Rng::normal(double mean, double stddev) {
  // Box-Muller, one value per call (no cached second value: keeps streams position-simple).
  double u1 = uniform01_open_low();
  double u2 = uniform01();
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

double Rng::lognormal(double mu, double sigma) {
  return std::exp(normal(mu, sigma));
}

double Rng::gamma(double shape, double scale) {
  assert(shape > 0 && scale > 0);
  if (shape < 1.0) {
    // Boost shape by one, then scale by U^(1/k) (Marsaglia & Tsang, section 6).
    double g = gamma(shape + 1.0, 1.0);
    return scale * g * std::pow(uniform01_open_low(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal(0, 1);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = uniform01_open_low();
    if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return scale * d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return scale * d * v;
  }
}

double Rng::weibull(double shape, double scale) {
  return scale * std::pow(-std::log(uniform01_open_low()), 1.0 / shape);
}

Dist Dist::lognormal_median_p99(double median, double p99) {
  const double z99 = 2.3263478740408408;
  return lognormal(std::log(median), (std::log(p99) - std::log(median)) / z99);
}

Dist Dist::empirical(std::vector<std::pair<double, double>> t) {
  Dist d;
  d.kind = Kind::Empirical;
  d.table = std::move(t);
  return d;
}

double Dist::sample(Rng& rng) const {
  double x = 0;
  switch (kind) {
    case Kind::Constant:
      x = a;
      break;
    case Kind::Uniform:
      x = rng.uniform(a, b);
      break;
    case Kind::Exponential:
      x = rng.exponential(a);
      break;
    case Kind::Normal:
      x = rng.normal(a, b);
      break;
    case Kind::LogNormal:
      x = rng.lognormal(a, b);
      break;
    case Kind::Gamma:
      x = rng.gamma(a, b);
      break;
    case Kind::Weibull:
      x = rng.weibull(a, b);
      break;
    case Kind::Empirical:
      x = quantile(rng.uniform01());
      break;
  }
  return std::clamp(x, lo, hi);
}

namespace {

double lgamma_pos(double x) {
  return std::lgamma(x);
}

double empirical_quantile(const std::vector<std::pair<double, double>>& t, double p) {
  assert(!t.empty());
  if (p <= t.front().first) return t.front().second;
  if (p >= t.back().first) return t.back().second;
  auto it =
      std::upper_bound(t.begin(), t.end(), p,
                       [](double v, const std::pair<double, double>& e) { return v < e.first; });
  const auto& hi = *it;
  const auto& lo = *(it - 1);
  if (hi.first == lo.first) return hi.second;
  return lo.second + (hi.second - lo.second) * (p - lo.first) / (hi.first - lo.first);
}

}  // namespace

double Dist::mean() const {
  switch (kind) {
    case Kind::Constant:
      return a;
    case Kind::Uniform:
      return (a + b) / 2;
    case Kind::Exponential:
      return a;
    case Kind::Normal:
      return a;
    case Kind::LogNormal:
      return std::exp(a + b * b / 2);
    case Kind::Gamma:
      return a * b;
    case Kind::Weibull:
      return b * std::exp(lgamma_pos(1 + 1 / a));
    case Kind::Empirical: {
      // Mean of a piecewise-linear inverse CDF: integral over p of Q(p).
      double m = 0;
      for (size_t i = 1; i < table.size(); ++i) {
        m += (table[i].first - table[i - 1].first) * (table[i].second + table[i - 1].second) / 2;
      }
      return m;
    }
  }
  return 0;
}

double Dist::variance() const {
  switch (kind) {
    case Kind::Constant:
      return 0;
    case Kind::Uniform:
      return (b - a) * (b - a) / 12;
    case Kind::Exponential:
      return a * a;
    case Kind::Normal:
      return b * b;
    case Kind::LogNormal:
      return (std::exp(b * b) - 1) * std::exp(2 * a + b * b);
    case Kind::Gamma:
      return a * b * b;
    case Kind::Weibull: {
      double g1 = std::exp(lgamma_pos(1 + 1 / a));
      double g2 = std::exp(lgamma_pos(1 + 2 / a));
      return b * b * (g2 - g1 * g1);
    }
    case Kind::Empirical: {
      // E[Q^2] for Q linear on each segment: (q0^2 + q0 q1 + q1^2) / 3 per unit of p.
      double m2 = 0;
      for (size_t i = 1; i < table.size(); ++i) {
        double q0 = table[i - 1].second, q1 = table[i].second;
        m2 += (table[i].first - table[i - 1].first) * (q0 * q0 + q0 * q1 + q1 * q1) / 3;
      }
      double m = mean();
      return m2 - m * m;
    }
  }
  return 0;
}

double Dist::cdf(double x) const {
  switch (kind) {
    case Kind::Constant:
      return x >= a ? 1 : 0;
    case Kind::Uniform:
      return x <= a ? 0 : x >= b ? 1 : (x - a) / (b - a);
    case Kind::Exponential:
      return x <= 0 ? 0 : 1 - std::exp(-x / a);
    case Kind::Normal:
      return 0.5 * std::erfc(-(x - a) / (b * std::sqrt(2.0)));
    case Kind::LogNormal:
      return x <= 0 ? 0 : 0.5 * std::erfc(-(std::log(x) - a) / (b * std::sqrt(2.0)));
    case Kind::Gamma:
      return regularized_gamma_p(a, x / b);
    case Kind::Weibull:
      return x <= 0 ? 0 : 1 - std::exp(-std::pow(x / b, a));
    case Kind::Empirical: {
      if (x < table.front().second) return 0;
      if (x >= table.back().second) return 1;
      for (size_t i = 1; i < table.size(); ++i) {
        if (x < table[i].second) {
          double x0 = table[i - 1].second, x1 = table[i].second;
          double p0 = table[i - 1].first, p1 = table[i].first;
          return x1 == x0 ? p1 : p0 + (p1 - p0) * (x - x0) / (x1 - x0);
        }
      }
      return 1;
    }
  }
  return 0;
}

double Dist::quantile(double p) const {
  switch (kind) {
    case Kind::Constant:
      return a;
    case Kind::Uniform:
      return a + (b - a) * p;
    case Kind::Exponential:
      return -a * std::log(1 - p);
    case Kind::Normal:
      return a + b * normal_quantile(p);
    case Kind::LogNormal:
      return std::exp(a + b * normal_quantile(p));
    case Kind::Weibull:
      return b * std::pow(-std::log(1 - p), 1 / a);
    case Kind::Empirical:
      return empirical_quantile(table, p);
    case Kind::Gamma: {
      double lo = 0, hi = std::max(1.0, a * b);
      while (cdf(hi) < p) hi *= 2;
      for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
        double mid = (lo + hi) / 2;
        (cdf(mid) < p ? lo : hi) = mid;
      }
      return (lo + hi) / 2;
    }
  }
  return 0;
}

std::string Dist::describe() const {
  switch (kind) {
    case Kind::Constant:
      return fmt::format("constant({})", a);
    case Kind::Uniform:
      return fmt::format("uniform({}, {})", a, b);
    case Kind::Exponential:
      return fmt::format("exponential(mean={})", a);
    case Kind::Normal:
      return fmt::format("normal(mean={}, sd={})", a, b);
    case Kind::LogNormal:
      return fmt::format("lognormal(mu={:.6g}, sigma={:.6g})", a, b);
    case Kind::Gamma:
      return fmt::format("gamma(k={:.6g}, theta={:.6g})", a, b);
    case Kind::Weibull:
      return fmt::format("weibull(k={:.6g}, lambda={:.6g})", a, b);
    case Kind::Empirical:
      return fmt::format("empirical({} points)", table.size());
  }
  return "?";
}

}  // namespace sim
