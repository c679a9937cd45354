// Special functions against reference values, MLE properties (score equations vanish at the
// estimate), closed forms, determinism. Agreement with scipy on real logs: scipy_agreement.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tools/gcfit/fit.h"

namespace zksim::gcfit {
namespace {

// Deterministic pseudo-random uniforms (LCG), so the tests need no std:: distributions.
std::vector<double> uniforms(size_t n, uint64_t seed) {
  std::vector<double> u(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    u[i] = (static_cast<double>(seed >> 11) + 0.5) / 9007199254740992.0;
  }
  return u;
}

TEST(gcfitFit, SpecialFunctions) {
  // Reference values: scipy.special.digamma / polygamma(1, .) / gammainc, scipy.stats.norm.ppf.
  EXPECT_NEAR(digamma(1.0), -0.5772156649015329, 1e-14);
  EXPECT_NEAR(digamma(0.1), -10.423754940411076, 1e-13);
  EXPECT_NEAR(digamma(30.5), 3.401243668961661, 1e-14);
  EXPECT_NEAR(trigamma(1.0), 1.6449340668482264, 1e-14);
  EXPECT_NEAR(trigamma(0.1), 101.43329915079276, 1e-11);
  EXPECT_NEAR(trigamma(30.5), 0.03333024811280161, 1e-16);
  EXPECT_NEAR(gamma_p(1.0, 2.0), 1 - std::exp(-2.0), 1e-15);
  EXPECT_NEAR(gamma_p(2.5, 1.0), 0.15085496391539036, 1e-14);
  EXPECT_NEAR(gamma_p(30.0, 35.0), 0.8229545478999403, 1e-13);
  EXPECT_NEAR(gamma_p(0.3, 0.01), 0.27924099635901484, 1e-13);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-14);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-12);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-16);
}

TEST(gcfitFit, LognormalAndExponentialClosedForms) {
  std::vector<double> x = {0.1, 0.2, 0.4, 0.8};
  SampleFit f = fit_sample(x);
  const Candidate& ln = f.candidates[0];
  ASSERT_TRUE(ln.ok);
  double mu = (std::log(0.1) + std::log(0.2) + std::log(0.4) + std::log(0.8)) / 4;
  EXPECT_NEAR(ln.dist.mu, mu, 1e-15);
  // ln x = mu + {-1.5, -0.5, 0.5, 1.5} ln 2: population sd = sqrt(5/4) ln 2.
  EXPECT_NEAR(ln.dist.sigma, std::sqrt(1.25) * std::log(2.0), 1e-15);
  const Candidate& ex = f.candidates[3];
  EXPECT_NEAR(ex.dist.mean, 0.375, 1e-16);
  EXPECT_NEAR(ex.loglik, -4 * std::log(0.375) - 4, 1e-12);
  EXPECT_EQ(f.summary.count, 4);
  EXPECT_NEAR(f.summary.sum, 1.5, 1e-15);
  EXPECT_NEAR(f.summary.p50, 0.3, 1e-15);  // type 7: halfway between 0.2 and 0.4
}

TEST(gcfitFit, GammaAndWeibullScoreEquationsVanish) {
  // Gamma(k=2.5, θ=0.03)-ish sample via Weibull inverse transform would bias nothing here: we only
  // check that the estimates solve the likelihood equations.
  std::vector<double> x;
  for (double u : uniforms(5000, 42)) x.push_back(0.05 * std::pow(-std::log1p(-u), 1 / 1.7));
  SampleFit f = fit_sample(x);
  const Distribution& g = f.candidates[1].dist;
  const Distribution& w = f.candidates[2].dist;
  double n = static_cast<double>(x.size()), sx = 0, slx = 0;
  for (double v : x) {
    sx += v;
    slx += std::log(v);
  }
  // Gamma: ln k - ψ(k) = ln mean - mean ln, and kθ = mean.
  EXPECT_NEAR(std::log(g.shape) - digamma(g.shape), std::log(sx / n) - slx / n, 1e-13);
  EXPECT_NEAR(g.shape * g.scale, sx / n, 1e-15);
  // Weibull: Σ x^k ln x / Σ x^k - 1/k - mean ln x = 0 and λ^k = mean x^k.
  double s0 = 0, s1 = 0;
  for (double v : x) {
    s0 += std::pow(v, w.shape);
    s1 += std::pow(v, w.shape) * std::log(v);
  }
  EXPECT_NEAR(s1 / s0 - 1 / w.shape - slx / n, 0.0, 1e-12);
  EXPECT_NEAR(std::pow(w.scale, w.shape), s0 / n, 1e-12 * s0 / n);
  // The sample is Weibull(1.7, 0.05): the estimate is close and AIC picks Weibull.
  EXPECT_NEAR(w.shape, 1.7, 0.05);
  EXPECT_NEAR(w.scale, 0.05, 0.002);
  EXPECT_EQ(f.chosen.family, Family::Weibull);
  EXPECT_LT(f.candidates[2].ks, 0.02);
}

TEST(gcfitFit, AicPicksTheGeneratingFamily) {
  std::vector<double> ln, ex;
  for (double u : uniforms(4000, 7)) {
    ln.push_back(std::exp(-3 + 0.8 * normal_quantile(u)));
    ex.push_back(-0.2 * std::log1p(-u));
  }
  SampleFit a = fit_sample(ln), b = fit_sample(ex);
  EXPECT_EQ(a.chosen.family, Family::Lognormal);
  EXPECT_NEAR(a.chosen.mu, -3, 0.05);
  EXPECT_NEAR(a.chosen.sigma, 0.8, 0.03);
  // Exponential is gamma/weibull with shape 1: AIC's parameter penalty picks the simpler one
  // unless the shape estimate is far from 1.
  EXPECT_EQ(b.chosen.family, Family::Exponential);
  EXPECT_NEAR(b.chosen.mean, 0.2, 0.01);
}

TEST(gcfitFit, DeterministicWhateverTheInputOrder) {
  std::vector<double> x;
  for (double u : uniforms(1000, 3)) x.push_back(0.01 + u * u);
  std::vector<double> y(x.rbegin(), x.rend());
  SampleFit a = fit_sample(x), b = fit_sample(y);
  for (size_t i = 0; i < a.candidates.size(); ++i) {
    EXPECT_EQ(a.candidates[i].dist.mu, b.candidates[i].dist.mu);
    EXPECT_EQ(a.candidates[i].dist.shape, b.candidates[i].dist.shape);
    EXPECT_EQ(a.candidates[i].dist.scale, b.candidates[i].dist.scale);
    EXPECT_EQ(a.candidates[i].aic, b.candidates[i].aic);
    EXPECT_EQ(a.candidates[i].ks, b.candidates[i].ks);
  }
}

TEST(gcfitFit, QuantileInvertsCdf) {
  std::vector<Distribution> ds(5);
  ds[0].family = Family::Lognormal;
  ds[0].mu = -2;
  ds[0].sigma = 0.7;
  ds[1].family = Family::Gamma;
  ds[1].shape = 0.6;
  ds[1].scale = 0.3;
  ds[2].family = Family::Weibull;
  ds[2].shape = 1.4;
  ds[2].scale = 0.2;
  ds[3].family = Family::Exponential;
  ds[3].mean = 0.05;
  ds[4].family = Family::Empirical;
  ds[4].table = {{0, 0.01}, {0.5, 0.02}, {0.9, 0.05}, {1, 0.3}};
  for (const Distribution& d : ds) {
    for (double u : {0.001, 0.1, 0.5, 0.9, 0.999}) {
      double x = d.quantile(u);
      EXPECT_NEAR(d.cdf(x), u, 1e-12) << family_name(d.family) << " u=" << u;
    }
  }
  EXPECT_DOUBLE_EQ(ds[4].quantile(0.7), 0.035);
  EXPECT_EQ(ds[4].quantile(0), 0.01);
  EXPECT_EQ(ds[4].quantile(1), 0.3);
}

TEST(gcfitFit, DegenerateSamplesFallBackToEmpirical) {
  SampleFit one = fit_sample({0.25});
  EXPECT_EQ(one.chosen.family, Family::Empirical);
  for (const Candidate& c : one.candidates) EXPECT_FALSE(c.ok);
  SampleFit same = fit_sample({0.1, 0.1, 0.1});
  EXPECT_EQ(same.chosen.family, Family::Empirical);
  EXPECT_EQ(same.chosen.quantile(0.3), 0.1);
  SampleFit zeros = fit_sample({0.0, 0.0, 0.1, 0.2, 0.4});
  EXPECT_EQ(zeros.n, 3);
  EXPECT_EQ(zeros.n_nonpositive, 2);
  EXPECT_EQ(zeros.chosen.table.front().value, 0.0);
}

TEST(gcfitFit, KsStatisticByHand) {
  Distribution d;
  d.family = Family::Exponential;
  d.mean = 1;
  std::vector<double> x = {0.5, 1.0, 2.0};
  // F = 1-e^-x: 0.3935, 0.6321, 0.8647 -> D = max(1/3-0.3935, 0.3935, 2/3-0.6321, 0.6321-1/3,
  // 1-0.8647, 0.8647-2/3) = 0.3935
  EXPECT_NEAR(ks_statistic(x, d), 1 - std::exp(-0.5), 1e-15);
}

}  // namespace
}  // namespace zksim::gcfit
