#include "tools/gcfit/fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace zksim::gcfit {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLn2Pi = 1.8378770664093454835606594728112;
constexpr std::string_view kFamilyNames[] = {"lognormal", "gamma", "weibull", "exponential",
                                             "empirical"};

// Bisection-safeguarded Newton for a monotone increasing function f on [lo, hi].
template <class F, class DF>
double solve_increasing(F f, DF df, double x, double lo, double hi, double target) {
  for (int it = 0; it < 200; ++it) {
    double fx = f(x) - target;
    if (fx > 0) {
      hi = x;
    } else {
      lo = x;
    }
    double dfx = df(x);
    double nx = dfx > 0 ? x - fx / dfx : 0.5 * (lo + hi);
    if (!(nx > lo && nx < hi)) nx = 0.5 * (lo + hi);
    if (std::fabs(nx - x) <= 1e-15 * std::fabs(x) || hi - lo <= 1e-300) return nx;
    x = nx;
  }
  return x;
}

struct LogStats {
  double mean_log = 0;  // mean of ln x
  double mean = 0;      // mean of x
};

Candidate fit_lognormal(const std::vector<double>& x, const std::vector<double>& lx,
                        const LogStats& s) {
  Candidate c;
  c.dist.family = Family::Lognormal;
  const double n = static_cast<double>(x.size());
  double ss = 0;
  for (double l : lx) ss += (l - s.mean_log) * (l - s.mean_log);
  double sigma = std::sqrt(ss / n);
  if (x.size() < 2 || !(sigma > 0)) return c;
  c.dist.mu = s.mean_log;
  c.dist.sigma = sigma;
  double slx = 0;
  for (double l : lx) slx += l;
  c.loglik = -slx - n * std::log(sigma) - 0.5 * n * kLn2Pi - ss / (2 * sigma * sigma);
  c.aic = 4 - 2 * c.loglik;
  c.ok = true;
  return c;
}

Candidate fit_gamma(const std::vector<double>& x, const std::vector<double>& lx,
                    const LogStats& s) {
  Candidate c;
  c.dist.family = Family::Gamma;
  const double n = static_cast<double>(x.size());
  double sdiff = std::log(s.mean) - s.mean_log;  // > 0 unless all equal (Jensen)
  if (x.size() < 2 || !(sdiff > 1e-15)) return c;
  // Minka's starting point, then Newton on ln k - ψ(k) = sdiff (decreasing in k).
  double k = (3 - sdiff + std::sqrt((sdiff - 3) * (sdiff - 3) + 24 * sdiff)) / (12 * sdiff);
  for (int it = 0; it < 100; ++it) {
    double f = std::log(k) - digamma(k) - sdiff;
    double df = 1 / k - trigamma(k);
    double nk = k - f / df;
    if (!(nk > 0)) nk = k / 2;
    bool done = std::fabs(nk - k) <= 1e-15 * k;
    k = nk;
    if (done) break;
  }
  double theta = s.mean / k;
  c.dist.shape = k;
  c.dist.scale = theta;
  double sx = 0, slx = 0;
  for (double v : x) sx += v;
  for (double l : lx) slx += l;
  c.loglik = (k - 1) * slx - sx / theta - n * k * std::log(theta) - n * std::lgamma(k);
  c.aic = 4 - 2 * c.loglik;
  c.ok = std::isfinite(c.loglik);
  return c;
}

Candidate fit_weibull(const std::vector<double>& x, const std::vector<double>& lx) {
  Candidate c;
  c.dist.family = Family::Weibull;
  const double n = static_cast<double>(x.size());
  if (x.size() < 2 || x.front() == x.back()) return c;
  // Work with y = x / max so that y^k never overflows: ly = ln x - ln max <= 0.
  const double lmax = lx.back();
  std::vector<double> ly(lx.size());
  double mean_ly = 0, var_ly = 0;
  for (size_t i = 0; i < lx.size(); ++i) {
    ly[i] = lx[i] - lmax;
    mean_ly += ly[i];
  }
  mean_ly /= n;
  for (double l : ly) var_ly += (l - mean_ly) * (l - mean_ly);
  var_ly /= n;
  // Profile score g(k) = Σ y^k ln y / Σ y^k - 1/k - mean(ln y), increasing in k.
  auto sums = [&](double k, double& s0, double& s1, double& s2) {
    s0 = s1 = s2 = 0;
    for (double l : ly) {
      double w = std::exp(k * l);
      s0 += w;
      s1 += w * l;
      s2 += w * l * l;
    }
  };
  auto g = [&](double k) {
    double s0, s1, s2;
    sums(k, s0, s1, s2);
    return s1 / s0 - 1 / k - mean_ly;
  };
  auto dg = [&](double k) {
    double s0, s1, s2;
    sums(k, s0, s1, s2);
    return (s2 * s0 - s1 * s1) / (s0 * s0) + 1 / (k * k);
  };
  double k0 = 3.14159265358979323846 / std::sqrt(6.0 * var_ly);  // moments of ln x
  double lo = 1e-6, hi = std::max(1.0, k0);
  while (g(hi) < 0 && hi < 1e6) hi *= 2;
  double k = solve_increasing(g, dg, std::clamp(k0, lo, hi), lo, hi, 0.0);
  double s0, s1, s2;
  sums(k, s0, s1, s2);
  double lambda = std::exp(lmax + std::log(s0 / n) / k);
  c.dist.shape = k;
  c.dist.scale = lambda;
  double slx = 0, sz = 0;
  for (double l : lx) slx += l;
  for (double l : lx) sz += std::exp(k * (l - std::log(lambda)));
  c.loglik = n * (std::log(k) - k * std::log(lambda)) + (k - 1) * slx - sz;
  c.aic = 4 - 2 * c.loglik;
  c.ok = std::isfinite(c.loglik);
  return c;
}

Candidate fit_exponential(const std::vector<double>& x, const LogStats& s) {
  Candidate c;
  c.dist.family = Family::Exponential;
  const double n = static_cast<double>(x.size());
  // Like the other families, require two distinct values: one pause is not a distribution.
  if (x.size() < 2 || x.front() == x.back() || !(s.mean > 0)) return c;
  c.dist.mean = s.mean;
  c.loglik = -n * std::log(s.mean) - n;
  c.aic = 2 - 2 * c.loglik;
  c.ok = true;
  return c;
}

}  // namespace

std::string_view family_name(Family f) {
  return kFamilyNames[static_cast<int>(f)];
}

bool parse_family(std::string_view name, Family& out) {
  for (int i = 0; i < 5; ++i) {
    if (kFamilyNames[i] == name) {
      out = static_cast<Family>(i);
      return true;
    }
  }
  return false;
}

double digamma(double x) {
  assert(x > 0);
  double r = 0;
  while (x < 10) {
    r -= 1 / x;
    x += 1;
  }
  double f = 1 / (x * x);
  double t = f * (-1.0 / 12 +
                  f * (1.0 / 120 + f * (-1.0 / 252 +
                                        f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760))))));
  return r + std::log(x) - 0.5 / x + t;
}

double trigamma(double x) {
  assert(x > 0);
  double r = 0;
  while (x < 10) {
    r += 1 / (x * x);
    x += 1;
  }
  double f = 1 / (x * x);
  double t =
      1 / x + f / 2 +
      f / x *
          (1.0 / 6 +
           f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30 + f * (5.0 / 66 - f * 691.0 / 2730)))));
  return r + t;
}

double Distribution::cdf(double x) const {
  if (family != Family::Empirical && !(x > 0)) return 0;
  switch (family) {
    case Family::Lognormal:
      return normal_cdf((std::log(x) - mu) / sigma);
    case Family::Gamma:
      return gamma_p(shape, x / scale);
    case Family::Weibull:
      return -std::expm1(-std::pow(x / scale, shape));
    case Family::Exponential:
      return -std::expm1(-x / mean);
    case Family::Empirical: {
      if (table.empty()) return kNaN;
      if (x < table.front().value) return 0;
      if (x >= table.back().value) return 1;
      // Last point with value <= x, then interpolate towards the next larger value.
      auto it = std::upper_bound(table.begin(), table.end(), x,
                                 [](double v, const QuantilePoint& q) { return v < q.value; });
      const QuantilePoint& hi = *it;
      const QuantilePoint& lo = *(it - 1);
      if (hi.value == lo.value) return hi.p;
      return lo.p + (hi.p - lo.p) * (x - lo.value) / (hi.value - lo.value);
    }
  }
  return kNaN;
}

double Distribution::quantile(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  switch (family) {
    case Family::Lognormal:
      return std::exp(mu + sigma * normal_quantile(u));
    case Family::Gamma: {
      if (u <= 0) return 0;
      if (u >= 1) return std::numeric_limits<double>::infinity();
      // Newton on P(k, y) = u in y = x/θ, bracketed.
      double lo = 0, hi = std::max(1.0, shape);
      while (gamma_p(shape, hi) < u) hi *= 2;
      auto f = [&](double y) { return gamma_p(shape, y); };
      auto df = [&](double y) {
        return std::exp((shape - 1) * std::log(y) - y - std::lgamma(shape));
      };
      return scale * solve_increasing(f, df, 0.5 * hi, lo, hi, u);
    }
    case Family::Weibull:
      return scale * std::pow(-std::log1p(-u), 1 / shape);
    case Family::Exponential:
      return -mean * std::log1p(-u);
    case Family::Empirical: {
      if (table.empty()) return kNaN;
      auto it = std::lower_bound(table.begin(), table.end(), u,
                                 [](const QuantilePoint& q, double v) { return q.p < v; });
      if (it == table.begin()) return it->value;
      if (it == table.end()) return table.back().value;
      const QuantilePoint& hi = *it;
      const QuantilePoint& lo = *(it - 1);
      return lo.value + (hi.value - lo.value) * (u - lo.p) / (hi.p - lo.p);
    }
  }
  return kNaN;
}

double Distribution::logpdf(double x) const {
  if (!(x > 0)) return -std::numeric_limits<double>::infinity();
  double lx = std::log(x);
  switch (family) {
    case Family::Lognormal: {
      double z = (lx - mu) / sigma;
      return -lx - std::log(sigma) - 0.5 * kLn2Pi - 0.5 * z * z;
    }
    case Family::Gamma:
      return (shape - 1) * lx - x / scale - shape * std::log(scale) - std::lgamma(shape);
    case Family::Weibull:
      return std::log(shape) - shape * std::log(scale) + (shape - 1) * lx -
             std::pow(x / scale, shape);
    case Family::Exponential:
      return -std::log(mean) - x / mean;
    case Family::Empirical:
      return kNaN;
  }
  return kNaN;
}

std::string Distribution::describe() const {
  switch (family) {
    case Family::Lognormal:
      return fmt::format("mu={:.6g} sigma={:.6g}", mu, sigma);
    case Family::Gamma:
      return fmt::format("k={:.6g} theta={:.6g}s", shape, scale);
    case Family::Weibull:
      return fmt::format("k={:.6g} lambda={:.6g}s", shape, scale);
    case Family::Exponential:
      return fmt::format("mean={:.6g}s", mean);
    case Family::Empirical:
      return fmt::format("{} quantiles", table.size());
  }
  return "";
}

const std::vector<double>& table_probabilities() {
  static const std::vector<double> ps = [] {
    std::vector<double> v = {0.0, 0.001, 0.005};
    for (int i = 1; i <= 99; ++i) v.push_back(i / 100.0);
    for (double p : {0.995, 0.999, 0.9995, 0.9999, 1.0}) v.push_back(p);
    return v;
  }();
  return ps;
}

double quantile_sorted(const std::vector<double>& s, double p) {
  assert(!s.empty());
  double h = (static_cast<double>(s.size()) - 1) * p;
  size_t i = static_cast<size_t>(std::floor(h));
  if (i + 1 >= s.size()) return s.back();
  double frac = h - static_cast<double>(i);
  return s[i] + frac * (s[i + 1] - s[i]);
}

double ks_statistic(const std::vector<double>& s, const Distribution& d) {
  const double n = static_cast<double>(s.size());
  double dmax = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    double f = d.cdf(s[i]);
    double hi = static_cast<double>(i + 1) / n - f;
    double lo = f - static_cast<double>(i) / n;
    dmax = std::max({dmax, hi, lo});
  }
  return dmax;
}

SampleFit fit_sample(std::vector<double> values) {
  SampleFit out;
  std::sort(values.begin(), values.end());
  Summary& sm = out.summary;
  sm.count = static_cast<int64_t>(values.size());
  if (values.empty()) return out;
  for (double v : values) sm.sum += v;
  sm.mean = sm.sum / static_cast<double>(values.size());
  sm.min = values.front();
  sm.max = values.back();
  sm.p50 = quantile_sorted(values, 0.5);
  sm.p99 = quantile_sorted(values, 0.99);
  sm.p999 = quantile_sorted(values, 0.999);

  Distribution emp;
  emp.family = Family::Empirical;
  for (double p : table_probabilities()) emp.table.push_back({p, quantile_sorted(values, p)});
  out.empirical.dist = emp;
  out.empirical.ok = true;
  out.empirical.ks = ks_statistic(values, emp);

  auto first_pos = std::upper_bound(values.begin(), values.end(), 0.0);
  std::vector<double> x(first_pos, values.end());
  out.n = static_cast<int64_t>(x.size());
  out.n_nonpositive = sm.count - out.n;
  std::vector<double> lx(x.size());
  LogStats ls;
  for (size_t i = 0; i < x.size(); ++i) {
    lx[i] = std::log(x[i]);
    ls.mean_log += lx[i];
    ls.mean += x[i];
  }
  if (!x.empty()) {
    ls.mean_log /= static_cast<double>(x.size());
    ls.mean /= static_cast<double>(x.size());
  }
  out.candidates.push_back(fit_lognormal(x, lx, ls));
  out.candidates.push_back(fit_gamma(x, lx, ls));
  out.candidates.push_back(fit_weibull(x, lx));
  out.candidates.push_back(fit_exponential(x, ls));
  const Candidate* best = nullptr;
  for (Candidate& c : out.candidates) {
    if (!c.ok) continue;
    c.ks = ks_statistic(x, c.dist);
    if (best == nullptr || c.aic < best->aic) best = &c;
  }
  out.chosen = best != nullptr ? best->dist : emp;
  out.chosen.table = emp.table;  // always carry the table, whatever the family
  return out;
}

}  // namespace zksim::gcfit
