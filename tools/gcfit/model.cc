#include "tools/gcfit/model.h"

#include "sim/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace zksim::gcfit {

using nlohmann::json;

namespace {

json summary_json(const Summary& s) {
  return json{{"count", s.count}, {"sum", s.sum}, {"mean", s.mean}, {"min", s.min},
              {"max", s.max},     {"p50", s.p50}, {"p99", s.p99},   {"p999", s.p999}};
}

double get_num(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) {
    throw ModelError(fmt::format("{}: missing or non-numeric \"{}\"", where, key));
  }
  double v = j[key].get<double>();
  if (!std::isfinite(v)) throw ModelError(fmt::format("{}: \"{}\" is not finite", where, key));
  return v;
}

double get_pos(const json& j, const char* key, const std::string& where) {
  double v = get_num(j, key, where);
  if (!(v > 0)) throw ModelError(fmt::format("{}: \"{}\" must be > 0, got {}", where, key, v));
  return v;
}

Series series_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw ModelError(fmt::format("{}: expected an object", where));
  Series s;
  s.n = static_cast<int64_t>(get_num(j, "n", where));
  if (j.contains("n_nonpositive"))
    s.n_nonpositive = static_cast<int64_t>(get_num(j, "n_nonpositive", where));
  if (!j.contains("family") || !j["family"].is_string() ||
      !parse_family(j["family"].get<std::string>(), s.dist.family)) {
    throw ModelError(fmt::format("{}: missing or unknown \"family\"", where));
  }
  const std::string pw = where + ".params";
  const json& p = j.contains("params") ? j["params"] : json::object();
  switch (s.dist.family) {
    case Family::Lognormal:
      s.dist.mu = get_num(p, "mu", pw);
      s.dist.sigma = get_pos(p, "sigma", pw);
      break;
    case Family::Gamma:
    case Family::Weibull:
      s.dist.shape = get_pos(p, "shape", pw);
      s.dist.scale = get_pos(p, "scale", pw);
      break;
    case Family::Exponential:
      s.dist.mean = get_pos(p, "mean", pw);
      break;
    case Family::Empirical:
      break;
  }
  if (j.contains("ks") && j["ks"].is_number()) s.ks = j["ks"].get<double>();
  if (j.contains("summary") && j["summary"].is_object()) {
    const json& sm = j["summary"];
    const std::string sw = where + ".summary";
    s.summary.count = static_cast<int64_t>(get_num(sm, "count", sw));
    s.summary.sum = get_num(sm, "sum", sw);
    s.summary.mean = get_num(sm, "mean", sw);
    s.summary.min = get_num(sm, "min", sw);
    s.summary.max = get_num(sm, "max", sw);
    s.summary.p50 = get_num(sm, "p50", sw);
    s.summary.p99 = get_num(sm, "p99", sw);
    s.summary.p999 = get_num(sm, "p999", sw);
  }
  const std::string ew = where + ".empirical";
  if (!j.contains("empirical") || !j["empirical"].is_object() ||
      !j["empirical"].contains("quantiles") || !j["empirical"]["quantiles"].is_array()) {
    throw ModelError(fmt::format("{}: missing \"quantiles\" table", ew));
  }
  double last_p = -1, last_v = -1e300;
  for (const json& q : j["empirical"]["quantiles"]) {
    if (!q.is_array() || q.size() != 2 || !q[0].is_number() || !q[1].is_number()) {
      throw ModelError(fmt::format("{}: each quantile must be [p, value_seconds]", ew));
    }
    QuantilePoint pt{q[0].get<double>(), q[1].get<double>()};
    if (!(pt.p > last_p) || pt.p > 1 || !(pt.value >= last_v)) {
      throw ModelError(fmt::format("{}: quantiles must rise (p strictly in [0, 1])", ew));
    }
    last_p = pt.p;
    last_v = pt.value;
    s.dist.table.push_back(pt);
  }
  if (s.dist.table.size() < 2 || s.dist.table.front().p != 0 || s.dist.table.back().p != 1) {
    throw ModelError(fmt::format("{}: the table must run from p = 0 to p = 1", ew));
  }
  return s;
}

}  // namespace

const KindModel* GcModel::find(Kind k) const {
  for (const KindModel& m : kinds) {
    if (m.kind == k) return &m;
  }
  return nullptr;
}

json params_json(const Distribution& d) {
  switch (d.family) {
    case Family::Lognormal:
      return json{{"mu", d.mu}, {"sigma", d.sigma}};
    case Family::Gamma:
    case Family::Weibull:
      return json{{"shape", d.shape}, {"scale", d.scale}};
    case Family::Exponential:
      return json{{"mean", d.mean}};
    case Family::Empirical:
      return json::object();
  }
  return json::object();
}

json series_json(const SampleFit& f) {
  json j;
  j["n"] = f.n;
  j["n_nonpositive"] = f.n_nonpositive;
  j["family"] = std::string(family_name(f.chosen.family));
  j["params"] = params_json(f.chosen);
  double ks = f.empirical.ks;
  for (const Candidate& c : f.candidates) {
    if (c.ok && c.dist.family == f.chosen.family) ks = c.ks;
  }
  j["ks"] = ks;
  j["summary"] = summary_json(f.summary);
  json cands = json::array();
  for (const Candidate& c : f.candidates) {
    if (!c.ok) {
      cands.push_back(json{{"family", std::string(family_name(c.dist.family))}, {"ok", false}});
      continue;
    }
    cands.push_back(json{{"family", std::string(family_name(c.dist.family))},
                         {"params", params_json(c.dist)},
                         {"loglik", c.loglik},
                         {"aic", c.aic},
                         {"ks", c.ks}});
  }
  j["candidates"] = cands;
  json q = json::array();
  for (const QuantilePoint& p : f.empirical.dist.table) q.push_back(json::array({p.p, p.value}));
  j["empirical"] = json{{"ks", f.empirical.ks}, {"quantiles", q}};
  return j;
}

std::vector<std::string> ModelBuilder::add_file(const std::string& path, const ParseStats& stats,
                                                const std::vector<Pause>& pauses) {
  std::vector<std::string> warnings;
  sources_.push_back({path, stats});
  for (int k = 0; k < kKindCount; ++k) {
    // Time key: uptime when every timed pause of this kind has one, else the absolute time.
    std::vector<int64_t> keys;
    bool all_up = true, all_abs = true, any = false;
    for (const Pause& p : pauses) {
      if (static_cast<int>(p.kind) != k) continue;
      any = true;
      dur_[k].push_back(p.seconds);
      if (!p.timed) continue;
      all_up = all_up && p.uptime_ns >= 0;
      all_abs = all_abs && p.absolute;
    }
    if (!any) continue;
    kind_sources_[k].push_back(path);
    for (const Pause& p : pauses) {
      if (static_cast<int>(p.kind) != k || !p.timed) continue;
      if (all_up) {
        keys.push_back(p.uptime_ns);
      } else if (all_abs) {
        keys.push_back(p.t_ns);
      }
    }
    std::stable_sort(keys.begin(), keys.end());
    size_t zero = 0;
    for (size_t i = 1; i < keys.size(); ++i) {
      if (keys[i] == keys[i - 1]) {
        ++zero;
        continue;
      }
      gap_[k].push_back(static_cast<double>(keys[i] - keys[i - 1]) / 1e9);
    }
    if (zero > 0) {
      warnings.push_back(fmt::format(
          "{}: {} {} pause(s) start at the same instant as another one (duplicated lines?): their "
          "gaps of 0 s are left out of the gap fit{}",
          path, zero, kind_name(static_cast<Kind>(k)),
          gap_[k].empty() ? " (no gap left: the model has no gap distribution for this kind)"
                          : ""));
    }
  }
  return warnings;
}

json ModelBuilder::fit(const std::vector<Kind>& kinds, const std::string& comment,
                       const std::string& command) const {
  json j;
  j["format"] = "zksim-gc-model/1";
  j["comment"] = comment;
  j["command"] = command;
  j["units"] = "seconds";
  j["parameterisation"] = {
      {"lognormal", "mu, sigma: mean and standard deviation of ln(seconds)"},
      {"gamma", "shape k, scale theta (seconds); pdf x^(k-1) exp(-x/theta) / (Gamma(k) theta^k)"},
      {"weibull", "shape k, scale lambda (seconds); cdf 1 - exp(-(x/lambda)^k)"},
      {"exponential", "mean (seconds)"},
      {"empirical", "quantiles: [p, seconds] from p=0 to p=1, linear interpolation"},
      {"gaps", "start-to-start seconds between consecutive pauses of the same kind in one file"}};
  json srcs = json::array();
  for (const SourceInfo& s : sources_) {
    srcs.push_back(json{{"path", s.path},
                        {"lines", s.stats.lines},
                        {"pauses", s.stats.pauses},
                        {"skipped_lines", s.stats.skipped_lines}});
  }
  j["sources"] = srcs;
  json ks = json::object();
  for (int k = 0; k < kKindCount; ++k) {
    Kind kind = static_cast<Kind>(k);
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
    if (dur_[k].empty()) continue;
    json km;
    km["sources"] = kind_sources_[k];
    km["durations"] = series_json(fit_sample(dur_[k]));
    km["gaps"] = gap_[k].empty() ? json(nullptr) : series_json(fit_sample(gap_[k]));
    ks[std::string(kind_name(kind))] = km;
  }
  j["kinds"] = ks;
  return j;
}

GcModel model_from_json(const json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("format") || j["format"] != "zksim-gc-model/1") {
    throw ModelError(
        fmt::format("{}: not a gc model (\"format\" must be \"zksim-gc-model/1\")", what));
  }
  GcModel m;
  if (j.contains("comment") && j["comment"].is_string()) m.comment = j["comment"];
  if (j.contains("command") && j["command"].is_string()) m.command = j["command"];
  if (!j.contains("kinds") || !j["kinds"].is_object()) {
    throw ModelError(fmt::format("{}: missing \"kinds\" object", what));
  }
  for (int k = 0; k < kKindCount; ++k) {
    Kind kind = static_cast<Kind>(k);
    std::string name(kind_name(kind));
    if (!j["kinds"].contains(name)) continue;
    const json& kj = j["kinds"][name];
    std::string where = fmt::format("{}: kinds.{}", what, name);
    KindModel km;
    km.kind = kind;
    if (kj.contains("sources") && kj["sources"].is_array()) {
      for (const json& s : kj["sources"]) {
        if (s.is_string()) km.sources.push_back(s);
      }
    }
    if (!kj.contains("durations")) throw ModelError(where + ": missing \"durations\"");
    km.durations = series_from_json(kj["durations"], where + ".durations");
    if (kj.contains("gaps") && !kj["gaps"].is_null()) {
      km.gaps = series_from_json(kj["gaps"], where + ".gaps");
    }
    m.kinds.push_back(std::move(km));
  }
  for (const auto& [name, v] : j["kinds"].items()) {
    Kind k;
    if (!parse_kind(name, k)) throw ModelError(fmt::format("{}: unknown kind \"{}\"", what, name));
  }
  if (m.kinds.empty()) throw ModelError(fmt::format("{}: no kinds", what));
  return m;
}

GcModel load_model(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ModelError(fmt::format("{}: cannot open", path));
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = sim::parse_json_text(ss.str(), path);
  } catch (const sim::ConfigError& e) {
    throw ModelError(e.what());
  }
  return model_from_json(j, path);
}

}  // namespace zksim::gcfit
