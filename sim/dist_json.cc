#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/config.h"

namespace sim {

using nlohmann::json;

Duration json_duration(const json& j, const std::string& path) {
  if (j.is_number_integer() && j.get<int64_t>() == 0) return Duration::zero();
  if (!j.is_string()) {
    throw ConfigError(
        path,
        fmt::format("expected a duration string with a unit like \"200ms\", got {}", j.dump()));
  }
  std::string err;
  auto d = parse_duration(j.get<std::string>(), &err);
  if (!d) throw ConfigError(path, err);
  if (*d < Duration::zero()) throw ConfigError(path, "duration must not be negative");
  return *d;
}

json read_json_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError("", fmt::format("{}: a folder, not a {} file", path, what));
  std::ifstream in(path);
  if (!in) throw ConfigError("", fmt::format("{}: cannot open {} file", path, what));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_json_text(ss.str(), path);
}

double json_number(const json& j, const std::string& path, double lo, double hi) {
  if (!j.is_number()) throw ConfigError(path, fmt::format("expected a number, got {}", j.dump()));
  double v = j.get<double>();
  if (!(v >= lo && v <= hi)) {
    throw ConfigError(path, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  }
  return v;
}

int64_t json_int(const json& j, const std::string& path, int64_t lo, int64_t hi) {
  if (!j.is_number_integer()) {
    throw ConfigError(path, fmt::format("expected an integer, got {}", j.dump()));
  }
  int64_t v = j.get<int64_t>();
  if (v < lo || v > hi)
    throw ConfigError(path, fmt::format("{} is out of range [{}, {}]", v, lo, hi));
  return v;
}

namespace {

double secs(const json& j, const std::string& path) {
  return json_duration(j, path).to_seconds_f();
}

const json& need(const json& o, const char* key, const std::string& path) {
  if (!o.contains(key)) throw ConfigError(path, fmt::format("missing key \"{}\"", key));
  return o.at(key);
}

}  // namespace

Dist json_duration_dist(const json& j, const std::string& path) {
  if (j.is_string() || j.is_number()) {
    Dist d = Dist::constant(secs(j, path));
    d.lo = 0;
    return d;
  }
  if (!j.is_object()) throw ConfigError(path, "expected a duration or a distribution object");
  std::string kind = need(j, "dist", path).is_string() ? j.at("dist").get<std::string>() : "";
  static const std::map<std::string, std::set<std::string>> allowed = {
      {"constant", {"value"}},
      {"uniform", {"min", "max"}},
      {"exponential", {"mean"}},
      {"normal", {"mean", "stddev"}},
      {"lognormal", {"median", "p99", "mu", "sigma"}},
      {"gamma", {"shape", "scale"}},
      {"weibull", {"shape", "scale"}},
      {"empirical", {"quantiles"}},
  };
  auto it = allowed.find(kind);
  if (it == allowed.end()) {
    throw ConfigError(
        path + ".dist",
        fmt::format("unknown distribution {} (constant, uniform, exponential, normal, "
                    "lognormal, gamma, weibull, empirical)",
                    j.at("dist").dump()));
  }
  for (const auto& [k, v] : j.items()) {
    if (k != "dist" && !it->second.count(k)) {
      throw ConfigError(path + "." + k, fmt::format("unknown key for a {} distribution", kind));
    }
  }
  Dist d;
  if (kind == "constant") {
    d = Dist::constant(secs(need(j, "value", path), path + ".value"));
  } else if (kind == "uniform") {
    double lo = secs(need(j, "min", path), path + ".min");
    double hi = secs(need(j, "max", path), path + ".max");
    if (hi < lo) throw ConfigError(path + ".max", "max is below min");
    d = Dist::uniform(lo, hi);
  } else if (kind == "exponential") {
    d = Dist::exponential(secs(need(j, "mean", path), path + ".mean"));
    if (d.a <= 0) throw ConfigError(path + ".mean", "mean must be positive");
  } else if (kind == "normal") {
    d = Dist::normal(secs(need(j, "mean", path), path + ".mean"),
                     secs(need(j, "stddev", path), path + ".stddev"));
  } else if (kind == "lognormal") {
    if (j.contains("median")) {
      double med = secs(j.at("median"), path + ".median");
      double p99 = secs(need(j, "p99", path), path + ".p99");
      if (med <= 0) throw ConfigError(path + ".median", "median must be positive");
      if (p99 <= med) throw ConfigError(path + ".p99", "p99 must exceed the median");
      d = Dist::lognormal_median_p99(med, p99);
    } else {
      double mu = json_number(need(j, "mu", path), path + ".mu", -100, 100);
      double sigma = json_number(need(j, "sigma", path), path + ".sigma", 0, 20);
      d = Dist::lognormal(mu, sigma);
    }
  } else if (kind == "gamma" || kind == "weibull") {
    double k = json_number(need(j, "shape", path), path + ".shape", 1e-6, 1e6);
    double s = secs(need(j, "scale", path), path + ".scale");
    if (s <= 0) throw ConfigError(path + ".scale", "scale must be positive");
    d = kind == "gamma" ? Dist::gamma(k, s) : Dist::weibull(k, s);
  } else {
    const json& q = need(j, "quantiles", path);
    if (!q.is_array() || q.size() < 2) {
      throw ConfigError(path + ".quantiles", "expected at least two [p, duration] pairs");
    }
    std::vector<std::pair<double, double>> t;
    for (size_t i = 0; i < q.size(); ++i) {
      std::string ip = fmt::format("{}.quantiles[{}]", path, i);
      if (!q[i].is_array() || q[i].size() != 2) throw ConfigError(ip, "expected [p, duration]");
      double p = json_number(q[i][0], ip + "[0]", 0, 1);
      double v = secs(q[i][1], ip + "[1]");
      if (!t.empty() && (p < t.back().first || v < t.back().second)) {
        throw ConfigError(ip, "quantiles must be non-decreasing in p and value");
      }
      t.emplace_back(p, v);
    }
    if (t.front().first != 0 || t.back().first != 1) {
      throw ConfigError(path + ".quantiles", "the table must run from p=0 to p=1");
    }
    d = Dist::empirical(std::move(t));
  }
  d.lo = 0;
  d.hi = kMaxDrawnSeconds;
  return d;
}

}  // namespace sim
