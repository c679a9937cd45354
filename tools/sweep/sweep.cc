#include "tools/sweep/sweep.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "models/world/world.h"
#include "sim/check.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "tools/sweep/merge.h"
#include "tools/sweep/stats.h"

namespace zksim::sweep {

using nlohmann::json;
using sim::ConfigError;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

std::string ms3(int64_t ns) {
  return fmt::format("{:.3f}", static_cast<double>(ns) / 1e6);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Grid

std::vector<std::string> expand_range(const std::string& text, const std::string& where) {
  auto parts = split(text, ':');
  if (parts.size() != 3) {
    throw ConfigError(where, fmt::format("bad range \"{}\": expected lo:hi:step", text));
  }
  for (auto& p : parts) p = trim(p);
  constexpr size_t kMaxValues = 100000;
  auto i0 = parse_int(parts[0]), i1 = parse_int(parts[1]), i2 = parse_int(parts[2]);
  std::vector<std::string> out;
  if (i0 && i1 && i2) {
    if (*i2 <= 0)
      throw ConfigError(where, fmt::format("bad range \"{}\": step must be positive", text));
    if (*i1 < *i0) throw ConfigError(where, fmt::format("bad range \"{}\": hi < lo", text));
    if (static_cast<uint64_t>(*i1 - *i0) / static_cast<uint64_t>(*i2) >= kMaxValues) {
      throw ConfigError(where,
                        fmt::format("bad range \"{}\": more than {} values", text, kMaxValues));
    }
    for (int64_t v = *i0; v <= *i1; v += *i2) out.push_back(std::to_string(v));
    return out;
  }
  sim::Duration d[3];
  for (int i = 0; i < 3; ++i) {
    std::string err;
    auto v = sim::parse_duration(parts[i], &err);
    if (!v) {
      throw ConfigError(where, fmt::format("bad range \"{}\": \"{}\" is neither an integer nor a "
                                           "duration with a unit (200ms, 2s)",
                                           text, parts[i]));
    }
    d[i] = *v;
  }
  int64_t lo = d[0].count_ns(), hi = d[1].count_ns(), step = d[2].count_ns();
  if (step <= 0)
    throw ConfigError(where, fmt::format("bad range \"{}\": step must be positive", text));
  if (hi < lo) throw ConfigError(where, fmt::format("bad range \"{}\": hi < lo", text));
  if (static_cast<uint64_t>(hi - lo) / static_cast<uint64_t>(step) >= kMaxValues) {
    throw ConfigError(where,
                      fmt::format("bad range \"{}\": more than {} values", text, kMaxValues));
  }
  struct Unit {
    int64_t scale;
    const char* name;
  };
  static constexpr Unit units[] = {{1000'000'000, "s"}, {1000'000, "ms"}, {1000, "us"}, {1, "ns"}};
  Unit unit = units[3];
  for (const auto& u : units) {
    if (lo % u.scale == 0 && step % u.scale == 0) {
      unit = u;
      break;
    }
  }
  for (int64_t v = lo; v <= hi; v += step)
    out.push_back(fmt::format("{}{}", v / unit.scale, unit.name));
  return out;
}

Axis parse_axis(const std::string& arg, const std::string& where) {
  auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(where,
                      fmt::format("expected field=v1,v2,... or field=lo:hi:step, got \"{}\"", arg));
  }
  Axis a;
  a.path = trim(arg.substr(0, eq));
  std::string rhs = trim(arg.substr(eq + 1));
  if (a.path.empty()) throw ConfigError(where, fmt::format("empty field name in \"{}\"", arg));
  if (rhs.empty()) throw ConfigError(where, fmt::format("no values for {} in \"{}\"", a.path, arg));
  std::string w = fmt::format("{} {}", where, a.path);
  for (const auto& item : split(rhs, ',')) {
    std::string v = trim(item);
    if (v.empty()) throw ConfigError(w, fmt::format("empty value in \"{}\"", arg));
    if (v.find(':') != std::string::npos) {
      for (auto& x : expand_range(v, w)) a.values.push_back(std::move(x));
    } else {
      a.values.push_back(v);
    }
  }
  std::set<std::string> seen;
  for (const auto& v : a.values) {
    if (!seen.insert(v).second) throw ConfigError(w, fmt::format("value \"{}\" appears twice", v));
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Fuzz generator settings

std::string FuzzSpec::where(const std::string& setting) const {
  auto it = source.find(setting);
  if (it != source.end()) return it->second;
  static const std::map<std::string, std::string> flags = {{"maxFaults", "--max-faults"},
                                                           {"kinds", "--kinds"},
                                                           {"hosts", "--hosts"},
                                                           {"window", "--window"},
                                                           {"healBy", "--heal-by"},
                                                           {"maxDuration", "--max-duration"},
                                                           {"metaPauses", "--no-meta-pauses"},
                                                           {"fixedSeed", "--fixed-seed"}};
  auto f = flags.find(setting);
  return f == flags.end() ? setting : f->second;
}

int parse_max_faults(int64_t v, const std::string& where) {
  if (v < 1 || v > 100)
    throw ConfigError(where, fmt::format("faults per schedule must be in 1..100, got {}", v));
  return static_cast<int>(v);
}

std::vector<std::string> parse_kinds(const std::vector<std::string>& kinds,
                                     const std::string& where) {
  const auto& all = fuzz::all_kinds();
  std::vector<std::string> out;
  for (const auto& raw : kinds) {
    std::string k = trim(raw);
    if (k.empty()) continue;
    if (std::find(all.begin(), all.end(), k) == all.end()) {
      std::string known;
      for (const auto& a : all) known += (known.empty() ? "" : ", ") + a;
      throw ConfigError(where, fmt::format("unknown fault kind \"{}\" (known: {})", k, known));
    }
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  if (out.empty()) throw ConfigError(where, "give at least one fault kind");
  return out;
}

sim::Duration parse_fuzz_duration(const std::string& text, const std::string& where) {
  std::string err;
  auto d = sim::parse_duration(trim(text), &err);
  if (!d || *d < sim::Duration::zero()) {
    throw ConfigError(where, fmt::format("expected a duration like 500ms or 7s, got \"{}\"{}", text,
                                         err.empty() ? "" : " (" + err + ")"));
  }
  return *d;
}

void parse_window(const std::string& text, const std::string& where, FuzzSpec& f) {
  auto dots = text.find("..");
  if (dots == std::string::npos)
    throw ConfigError(where, fmt::format("expected FROM..TO like 60s..90s, got \"{}\"", text));
  auto from = parse_fuzz_duration(text.substr(0, dots), where);
  auto to = parse_fuzz_duration(text.substr(dots + 2), where);
  if (to < from) throw ConfigError(where, fmt::format("TO < FROM in \"{}\"", text));
  f.window_from = from;
  f.window_to = to;
}

Spec load_spec(const std::string& path) {
  json doc = sim::read_json_file(path, "spec");
  auto err = [&](const std::string& key, const std::string& msg) {
    return ConfigError(fmt::format("{}: {}", path, key), msg);
  };
  if (!doc.is_object()) throw err("(top level)", "expected an object");
  static const std::set<std::string> known = {"scenario", "set",    "grid", "runs",
                                              "seed",     "faults", "fuzz", "comment"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!known.count(it.key())) {
      throw err(it.key(),
                "unknown key (known keys: comment, faults, fuzz, grid, runs, scenario, seed, set)");
    }
  }
  Spec s;
  if (!doc.contains("scenario") || !doc["scenario"].is_string()) {
    throw err("scenario", "expected the base scenario's path (a string)");
  }
  std::filesystem::path sp = doc["scenario"].get<std::string>();
  if (sp.is_relative()) sp = std::filesystem::path(path).parent_path() / sp;
  s.scenario_path = sp.string();
  if (doc.contains("set")) {
    if (!doc["set"].is_array()) throw err("set", "expected an array of \"path=value\" strings");
    for (size_t i = 0; i < doc["set"].size(); ++i) {
      if (!doc["set"][i].is_string()) throw err(fmt::format("set[{}]", i), "expected a string");
      s.sets.push_back(doc["set"][i].get<std::string>());
    }
  }
  if (!doc.contains("grid") || !doc["grid"].is_array()) {
    throw err("grid",
              "expected an array of axes (\"field=v1,v2\" or {\"field\":..,\"values\":[..]})");
  }
  const json& g = doc["grid"];
  for (size_t i = 0; i < g.size(); ++i) {
    std::string where = fmt::format("{}: grid[{}]", path, i);
    if (g[i].is_string()) {
      s.axes.push_back(parse_axis(g[i].get<std::string>(), where));
      continue;
    }
    if (!g[i].is_object() || !g[i].contains("field") || !g[i]["field"].is_string()) {
      throw ConfigError(
          where,
          "expected \"field=values\" or an object with \"field\" and \"values\" or \"range\"");
    }
    for (auto it = g[i].begin(); it != g[i].end(); ++it) {
      if (it.key() != "field" && it.key() != "values" && it.key() != "range") {
        throw ConfigError(where + "." + it.key(), "unknown key (known keys: field, range, values)");
      }
    }
    Axis a;
    a.path = g[i]["field"].get<std::string>();
    if (g[i].contains("values")) {
      if (!g[i]["values"].is_array() || g[i]["values"].empty()) {
        throw ConfigError(where + ".values", "expected a non-empty array");
      }
      for (const auto& v : g[i]["values"])
        a.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    }
    if (g[i].contains("range")) {
      if (!g[i]["range"].is_string())
        throw ConfigError(where + ".range", "expected \"lo:hi:step\"");
      for (auto& v : expand_range(g[i]["range"].get<std::string>(), where + ".range"))
        a.values.push_back(v);
    }
    if (a.values.empty()) throw ConfigError(where, "an axis needs \"values\" or \"range\"");
    std::set<std::string> seen;
    for (const auto& v : a.values) {
      if (!seen.insert(v).second) {
        throw ConfigError(
            fmt::format("{} {}", where, a.path),
            fmt::format("value \"{}\" appears twice{}", v,
                        g[i].contains("values") && g[i].contains("range")
                            ? " (in \"values\" and in \"range\": give each value once)"
                            : ""));
      }
    }
    s.axes.push_back(std::move(a));
  }
  if (doc.contains("runs")) {
    if (!doc["runs"].is_number_integer() || doc["runs"].get<int64_t>() < 1 ||
        doc["runs"].get<int64_t>() > 1000000) {
      throw err("runs", "expected an integer in [1, 1000000]");
    }
    s.runs = doc["runs"].get<int>();
  }
  if (doc.contains("seed")) {
    if (!doc["seed"].is_number_unsigned()) throw err("seed", "expected a non-negative integer");
    s.seed = doc["seed"].get<uint64_t>();
  }
  if (doc.contains("faults")) {
    if (!doc["faults"].is_string()) throw err("faults", "expected \"scenario\" or \"fuzz\"");
    s.faults = doc["faults"].get<std::string>();
  }
  if (doc.contains("fuzz")) {
    const json& f = doc["fuzz"];
    if (!f.is_object()) throw err("fuzz", "expected an object with the fuzz generator's settings");
    static const std::set<std::string> fkeys = {"maxFaults",  "kinds",    "hosts",
                                                "window",     "healBy",   "maxDuration",
                                                "metaPauses", "fixedSeed"};
    for (auto it = f.begin(); it != f.end(); ++it) {
      if (!fkeys.count(it.key())) {
        throw err("fuzz." + it.key(),
                  "unknown key (known keys: fixedSeed, healBy, hosts, kinds, maxDuration, "
                  "maxFaults, metaPauses, window)");
      }
    }
    FuzzSpec& fz = s.fuzz;
    auto where = [&](const std::string& key) { return fmt::format("{}: fuzz.{}", path, key); };
    auto names = [&](const std::string& key) {
      // A list of strings, or one comma-separated string.
      const json& v = f[key];
      std::vector<std::string> out;
      if (v.is_string()) {
        out = split(v.get<std::string>(), ',');
      } else if (v.is_array()) {
        for (const auto& x : v) {
          if (!x.is_string()) throw ConfigError(where(key), "expected an array of strings");
          out.push_back(x.get<std::string>());
        }
      } else {
        throw ConfigError(where(key), "expected an array of strings or \"a,b,c\"");
      }
      return out;
    };
    auto text = [&](const std::string& key) {
      if (!f[key].is_string()) throw ConfigError(where(key), "expected a string");
      return f[key].get<std::string>();
    };
    auto flag = [&](const std::string& key) {
      if (!f[key].is_boolean()) throw ConfigError(where(key), "expected true or false");
      return f[key].get<bool>();
    };
    for (auto it = f.begin(); it != f.end(); ++it) fz.source[it.key()] = where(it.key());
    if (f.contains("maxFaults")) {
      if (!f["maxFaults"].is_number_integer())
        throw ConfigError(where("maxFaults"), "expected an integer in 1..100");
      fz.max_faults = parse_max_faults(f["maxFaults"].get<int64_t>(), where("maxFaults"));
    }
    if (f.contains("kinds")) fz.kinds = parse_kinds(names("kinds"), where("kinds"));
    if (f.contains("hosts")) {
      for (auto& h : names("hosts")) {
        if (!trim(h).empty()) fz.hosts.push_back(trim(h));
      }
      if (fz.hosts.empty()) throw ConfigError(where("hosts"), "give at least one host");
    }
    if (f.contains("window")) parse_window(text("window"), where("window"), fz);
    if (f.contains("healBy")) fz.heal_by = parse_fuzz_duration(text("healBy"), where("healBy"));
    if (f.contains("maxDuration"))
      fz.max_duration = parse_fuzz_duration(text("maxDuration"), where("maxDuration"));
    if (f.contains("metaPauses")) fz.meta_pauses = flag("metaPauses");
    if (f.contains("fixedSeed")) fz.fixed_seed = flag("fixedSeed");
  }
  return s;
}

uint64_t run_seed(uint64_t sweep_seed, const std::string& key, int run) {
  return sim::Rng::stream(sweep_seed, fmt::format("sweep/{}/{}", key, run)).next_u64();
}

fuzz::Schedule fuzz_schedule(const Plan& plan, int run) {
  SIM_CHECK(plan.fuzz, "fuzz_schedule on a sweep without --faults fuzz");
  return fuzz::generate_run(plan.base, plan.gen, plan.seed, static_cast<uint64_t>(run));
}

namespace {

// What a fault schedule names: hosts, ZooKeeper peers (id and host), the meta hosts.
std::string fault_targets(const scenario::Scenario& sc) {
  std::string out = "hosts";
  for (const auto& h : sc.hosts) out += " " + h.name;
  out += "; zk";
  for (const auto& p : sc.zk.peers) out += fmt::format(" {}@{}", p.id, p.host);
  out += sc.meta.enabled ? "; meta" : "; no meta";
  if (sc.meta.enabled) {
    for (const auto& h : sc.meta.hosts) out += " " + h;
  }
  return out;
}

// The generator's settings for --faults fuzz (see make_plan in sweep.h).
fuzz::GenConfig fuzz_gen_config(const Spec& spec, const scenario::Scenario& base,
                                const std::vector<Point>& points) {
  const FuzzSpec& fz = spec.fuzz;
  auto defaults = [](const scenario::Scenario& sc) {
    fuzz::Bounds b;
    fuzz::complete_bounds(sc, {}, b);
    return fuzz::default_gen_config(sc, b);
  };
  fuzz::GenConfig g = defaults(base);
  const std::string targets = fault_targets(base);
  for (const auto& p : points) {
    if (fault_targets(p.sc) != targets) {
      throw ConfigError("--faults",
                        fmt::format("fuzz: point {} ({}) changes what fault schedules name ({} "
                                    "instead of the base scenario's {}); every point must run the "
                                    "same schedules, so sweep such fields with --faults scenario",
                                    p.index, p.key, fault_targets(p.sc), targets));
    }
    fuzz::GenConfig d = defaults(p.sc);
    g.window_from = std::max(g.window_from, d.window_from);
    g.heal_by = std::min(g.heal_by, d.heal_by);
  }
  g.window_to = g.heal_by - g.min_duration;
  if (fz.max_faults) g.max_faults = *fz.max_faults;
  for (const auto& k : fz.kinds) g.kinds.insert(k);
  for (const auto& h : fz.hosts) {
    if (!base.find_host(h))
      throw ConfigError(fz.where("hosts"),
                        fmt::format("no host \"{}\" in {}", h, spec.scenario_path));
    g.hosts.insert(h);
  }
  if (fz.max_duration) {
    if (*fz.max_duration < g.min_duration)
      throw ConfigError(fz.where("maxDuration"), fmt::format("below the shortest fault ({})",
                                                             sim::format_duration(g.min_duration)));
    g.max_duration = *fz.max_duration;
  }
  if (fz.heal_by) {
    g.heal_by = *fz.heal_by;
    g.window_to = std::min(g.window_to, g.heal_by - g.min_duration);
    if (g.heal_by > base.duration)
      throw ConfigError(fz.where("healBy"), fmt::format("{} is after the end of the run ({})",
                                                        sim::format_duration(g.heal_by),
                                                        sim::format_duration(base.duration)));
    for (const auto& p : points) {
      if (g.heal_by > p.sc.duration) {
        throw ConfigError(fz.where("healBy"),
                          fmt::format("{} is after the end of point {} ({}), which runs for {}",
                                      sim::format_duration(g.heal_by), p.index, p.key,
                                      sim::format_duration(p.sc.duration)));
      }
    }
  }
  if (fz.window_from) {
    g.window_from = *fz.window_from;
    g.window_to = *fz.window_to;
  }
  g.vary_seed = !fz.fixed_seed.value_or(false);
  g.meta_pauses = fz.meta_pauses.value_or(true);
  std::string err = fuzz::validate(g, base);
  if (!err.empty()) {
    bool window = err.find("window") != std::string::npos;
    std::string where = !window && !fz.kinds.empty() ? fz.where("kinds")
                        : window && fz.window_from   ? fz.where("window")
                        : window && fz.heal_by       ? fz.where("healBy")
                                                     : std::string("--faults");
    throw ConfigError(
        where, fmt::format("fuzz: {}{}", err,
                           window && !fz.window_from && !fz.heal_by
                               ? " (by default faults start once every point had time to elect a "
                                 "meta leader: set the window with --window FROM..TO)"
                               : ""));
  }
  return g;
}

}  // namespace

Plan make_plan(const Spec& spec) {
  Plan plan;
  plan.spec = spec;
  if (spec.runs < 1) throw ConfigError("--runs", "must be at least 1");
  if (spec.faults != "scenario" && spec.faults != "fuzz") {
    throw ConfigError("--faults",
                      fmt::format("expected \"scenario\" or \"fuzz\", got \"{}\"", spec.faults));
  }
  plan.fuzz = spec.faults == "fuzz";
  if (!plan.fuzz && !spec.fuzz.source.empty()) {
    throw ConfigError(
        spec.fuzz.source.begin()->second,
        "a fuzz generator setting needs --faults fuzz (\"faults\": \"fuzz\" in a spec)");
  }
  if (spec.axes.empty()) throw ConfigError("--grid", "a sweep needs at least one axis");
  std::set<std::string> paths;
  for (const auto& a : spec.axes) {
    if (!paths.insert(a.path).second)
      throw ConfigError("--grid", fmt::format("axis {} is given twice", a.path));
  }
  // Base scenario with --set overrides (validated: errors name the file and key).
  scenario::Scenario base = scenario::load(spec.scenario_path, spec.sets);
  plan.seed = spec.seed.value_or(base.seed);
  plan.duration_s = static_cast<double>(base.duration.count_ns()) / 1e9;
  std::string dir = std::filesystem::path(spec.scenario_path).parent_path().string();
  if (dir.empty()) dir = ".";

  json h = json::object();
  h["format"] = kFormatVersion;
  h["base"] = base.doc;
  json axes = json::array();
  for (const auto& a : spec.axes) axes.push_back(json{{"field", a.path}, {"values", a.values}});
  h["axes"] = axes;
  h["runs"] = spec.runs;
  h["seed"] = plan.seed;
  h["faults"] = spec.faults;

  size_t total = 1;
  for (const auto& a : spec.axes) {
    total *= a.values.size();
    if (total > 10'000'000) throw ConfigError("--grid", "more than 10 million points");
  }
  plan.points.reserve(total);
  for (size_t idx = 0; idx < total; ++idx) {
    Point p;
    p.index = idx;
    size_t rem = idx;
    p.values.resize(spec.axes.size());
    for (size_t ax = spec.axes.size(); ax-- > 0;) {
      size_t n = spec.axes[ax].values.size();
      p.values[ax] = spec.axes[ax].values[rem % n];
      rem /= n;
    }
    json doc = base.doc;
    for (size_t ax = 0; ax < spec.axes.size(); ++ax) {
      std::string assign = spec.axes[ax].path + "=" + p.values[ax];
      p.key += (ax ? ";" : "") + assign;
      try {
        scenario::apply_override(doc, assign);
      } catch (const ConfigError& e) {
        throw ConfigError("--grid", fmt::format("{}: {}", spec.axes[ax].path, e.what()));
      }
    }
    try {
      p.sc = scenario::from_json(doc, spec.scenario_path, dir);
    } catch (const ConfigError& e) {
      throw ConfigError(
          "", fmt::format("{}: point {} ({}): {}", spec.scenario_path, idx, p.key, e.what()));
    }
    plan.points.push_back(std::move(p));
  }
  if (plan.fuzz) {
    plan.gen = fuzz_gen_config(spec, base, plan.points);
    const fuzz::GenConfig& g = plan.gen;
    json kinds = json::array(), hosts = json::array();
    for (const auto& k : g.kinds) kinds.push_back(k);
    for (const auto& x : g.hosts) hosts.push_back(x);
    plan.base = base;
    fuzz::Schedule first = fuzz_schedule(plan, 0);
    json run0 = json::array();
    for (const auto& f : first.faults) run0.push_back(scenario::fault_to_json(f));
    h["fuzz"] = json{{"kinds", kinds},
                     {"hosts", hosts},
                     {"maxFaults", g.max_faults},
                     {"windowFrom", g.window_from.count_ns()},
                     {"windowTo", g.window_to.count_ns()},
                     {"minDuration", g.min_duration.count_ns()},
                     {"maxDuration", g.max_duration.count_ns()},
                     {"healBy", g.heal_by.count_ns()},
                     {"varySeed", g.vary_seed},
                     {"metaPauses", g.meta_pauses},
                     {"run0", json{{"seed", first.seed}, {"faults", run0}}}};
  }
  plan.spec_hash = fmt::format("{:016x}", sim::fnv1a64(h.dump()));
  plan.base = std::move(base);
  plan.columns = {"point", "points", "spec_hash", "shape", "key"};
  for (const auto& a : spec.axes) plan.columns.push_back(a.path);
  for (const char* c : kMetricColumns) plan.columns.push_back(c);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// One point

PointStats compute_point(const Plan& plan, const Point& p, uint64_t* failed_seed, int* failed_run) {
  PointStats s;
  s.duration_ns = p.sc.duration.count_ns();
  s.unavail_max_ns.reserve(plan.spec.runs);
  std::optional<scenario::Scenario> work;  // fuzz: the point with each run's faults
  if (plan.fuzz) work = p.sc;
  for (int i = 0; i < plan.spec.runs; ++i) {
    if (failed_run) *failed_run = i;
    world::RunResult r;
    if (plan.fuzz) {
      fuzz::Schedule sch = fuzz_schedule(plan, i);
      if (failed_seed) *failed_seed = sch.seed;
      r = fuzz::run_schedule(*work, sch, false);
    } else {
      world::RunOptions opt;
      uint64_t seed = run_seed(plan.seed, p.key, i);
      opt.seed = seed;
      opt.hash = false;      // rows carry metrics, not per-run hashes
      opt.detector = false;  // an observer only: metrics and violations do not change
      if (failed_seed) *failed_seed = seed;
      r = world::run(p.sc, opt);
    }
    const checks::Metrics& m = r.metrics;
    ++s.runs;
    if (m.meta_dual.count > 0) ++s.dual_runs;
    s.dual_windows += m.meta_dual.count;
    s.dual_total_ns += m.meta_dual.total.count_ns();
    s.dual_max_ns = std::max(s.dual_max_ns, m.meta_dual.max.count_ns());
    s.unavail_max_ns.push_back(m.meta_unavailable.count > 0 ? m.meta_unavailable.max.count_ns()
                                                            : 0);
    s.failovers += std::max<int64_t>(0, m.meta_leader_changes - 1);
    s.meta_stops += m.meta_failovers;
    s.zk_elections += m.zk_elections;
    if (!r.violations.empty()) ++s.violation_runs;
  }
  std::sort(s.unavail_max_ns.begin(), s.unavail_max_ns.end());
  return s;
}

std::vector<std::string> row_fields(const Plan& plan, const Point& p, const PointStats& s) {
  std::vector<std::string> f;
  f.push_back(std::to_string(p.index));
  f.push_back(std::to_string(plan.points.size()));
  f.push_back(plan.spec_hash);
  std::string shape;
  for (const auto& a : plan.spec.axes)
    shape += (shape.empty() ? "" : "x") + std::to_string(a.values.size());
  f.push_back(shape);
  f.push_back(p.key);
  for (const auto& v : p.values) f.push_back(v);
  double n = static_cast<double>(s.runs);
  Interval iv = wilson(s.dual_runs, s.runs);
  f.push_back(std::to_string(s.runs));
  f.push_back(std::to_string(s.dual_runs));
  f.push_back(fmt::format("{:.6f}", static_cast<double>(s.dual_runs) / n));
  f.push_back(fmt::format("{:.6f}", iv.lo));
  f.push_back(fmt::format("{:.6f}", iv.hi));
  f.push_back(ms3(s.dual_max_ns));
  f.push_back(s.dual_windows ? fmt::format("{:.3f}", static_cast<double>(s.dual_total_ns) /
                                                         static_cast<double>(s.dual_windows) / 1e6)
                             : "0.000");
  f.push_back(ms3(percentile_nearest_rank(s.unavail_max_ns, 50)));
  f.push_back(ms3(percentile_nearest_rank(s.unavail_max_ns, 99)));
  f.push_back(ms3(s.unavail_max_ns.back()));
  double fo_per_run = static_cast<double>(s.failovers) / n;
  double dur_s = static_cast<double>(s.duration_ns) / 1e9;
  f.push_back(fmt::format("{:.4f}", fo_per_run));
  f.push_back(fmt::format("{:.2f}", fo_per_run / dur_s * 86400.0));
  f.push_back(fmt::format("{:.4f}", static_cast<double>(s.meta_stops) / n));
  f.push_back(fmt::format("{:.4f}", static_cast<double>(s.zk_elections) / n));
  f.push_back(std::to_string(s.violation_runs));
  f.push_back(fmt::format("{:.3f}", dur_s));
  return f;
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    const std::string& v = fields[i];
    if (v.find_first_of(",\"\n\r") != std::string::npos) {
      out.push_back('"');
      for (char c : v) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
      }
      out.push_back('"');
    } else {
      out += v;
    }
  }
  out.push_back('\n');
  return out;
}

std::string jsonl_line(const Plan& plan, const std::vector<std::string>& fields) {
  // Built by hand so that numbers keep their fixed-precision text.
  size_t naxes = plan.spec.axes.size();
  std::string out = "{";
  auto str = [](const std::string& s) { return json(s).dump(); };
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& col = plan.columns[i];
    if (i == kAxisColumn) {
      out += ",\"params\":{";
      for (size_t a = 0; a < naxes; ++a) {
        out += (a ? "," : "") + str(plan.columns[kAxisColumn + a]) + ":" +
               str(fields[kAxisColumn + a]);
      }
      out += "}";
      i += naxes - 1;
      continue;
    }
    if (i) out += ",";
    bool is_string = col == "spec_hash" || col == "key" || col == "shape";
    out += str(col) + ":" + (is_string ? str(fields[i]) : fields[i]);
  }
  out += "}\n";
  return out;
}

std::string check_row_content(const std::vector<std::string>& axes,
                              const std::vector<std::string>& values, const std::string& key,
                              const std::vector<std::string>& metrics) {
  if (values.size() != axes.size()) return "wrong number of axis values";
  std::string want;
  for (size_t a = 0; a < axes.size(); ++a) want += (a ? ";" : "") + axes[a] + "=" + values[a];
  if (key != want) {
    return fmt::format("key \"{}\" does not match the row's axis values ({}) (a damaged row?)", key,
                       want);
  }
  constexpr size_t n = std::size(kMetricColumns);
  if (metrics.size() != n) return fmt::format("expected {} metric columns", n);
  int64_t runs = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string col = kMetricColumns[i];
    const std::string& v = metrics[i];
    bool count = col == "runs" || col == "dual_runs" || col == "violation_runs";
    if (count) {
      auto x = parse_int(v);
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos || !x)
        return fmt::format("{}: expected a count, got \"{}\"", col, v);
      if (col == "runs") {
        runs = *x;
        if (runs < 1) return fmt::format("{}: expected at least 1, got {}", col, v);
      } else if (*x > runs) {
        return fmt::format("{}: {} is more than runs ({})", col, v, runs);
      }
      continue;
    }
    bool ok = !v.empty() && v[0] >= '0' && v[0] <= '9' &&
              v.find_first_not_of("0123456789.eE+-") == std::string::npos;
    double d = 0;
    if (ok) {
      char* end = nullptr;
      errno = 0;
      d = std::strtod(v.c_str(), &end);
      ok = errno == 0 && *end == '\0' && std::isfinite(d);
    }
    if (!ok) return fmt::format("{}: expected a finite non-negative number, got \"{}\"", col, v);
    if (col.rfind("p_dual", 0) == 0 && d > 1)
      return fmt::format("{}: a probability above 1 ({})", col, v);
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Shards

Shard parse_shard(const std::string& text) {
  auto slash = text.find('/');
  auto bad = [&](const std::string& why) {
    return ConfigError("--shard",
                       fmt::format("expected K/N with 0 <= K < N, got \"{}\"{}", text, why));
  };
  if (slash == std::string::npos) throw bad("");
  auto k = parse_int(trim(text.substr(0, slash)));
  auto n = parse_int(trim(text.substr(slash + 1)));
  if (!k || !n) throw bad("");
  if (*n < 1 || *n > 1000000) throw bad(" (N must be in [1, 1000000])");
  if (*k < 0 || *k >= *n) throw bad(" (K must be in [0, N))");
  return Shard{static_cast<int>(*k), static_cast<int>(*n)};
}

std::optional<Shard> shard_from_env(std::string* source) {
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
  auto num = [](const char* name, const std::string& v) {
    auto x = parse_int(v);
    if (!x || *x < 0)
      throw ConfigError(name, fmt::format("expected a non-negative integer, got \"{}\"", v));
    return *x;
  };
  if (auto id = env("SLURM_ARRAY_TASK_ID")) {
    auto count = env("SLURM_ARRAY_TASK_COUNT");
    if (!count) throw ConfigError("SLURM_ARRAY_TASK_COUNT", "not set (but SLURM_ARRAY_TASK_ID is)");
    int64_t i = num("SLURM_ARRAY_TASK_ID", *id);
    int64_t min = 0;
    if (auto m = env("SLURM_ARRAY_TASK_MIN")) min = num("SLURM_ARRAY_TASK_MIN", *m);
    int64_t n = num("SLURM_ARRAY_TASK_COUNT", *count);
    if (auto step = env("SLURM_ARRAY_TASK_STEP");
        step && num("SLURM_ARRAY_TASK_STEP", *step) != 1) {
      throw ConfigError("SLURM_ARRAY_TASK_STEP",
                        "array steps other than 1 are not supported; use --shard K/N");
    }
    if (n < 1 || i - min < 0 || i - min >= n) {
      throw ConfigError(
          "SLURM_ARRAY_TASK_ID",
          fmt::format("task {} (min {}) is outside an array of {} tasks; use --shard K/N", i, min,
                      n));
    }
    if (source) *source = fmt::format("Slurm array task {} of {}", i, n);
    return Shard{static_cast<int>(i - min), static_cast<int>(n)};
  }
  if (auto idx = env("JOB_COMPLETION_INDEX")) {
    auto count = env("ZKSIM_SHARD_COUNT");
    if (!count) {
      throw ConfigError(
          "ZKSIM_SHARD_COUNT",
          "not set: a Kubernetes Indexed Job must pass its completions count (see examples/k8s)");
    }
    int64_t i = num("JOB_COMPLETION_INDEX", *idx);
    int64_t n = num("ZKSIM_SHARD_COUNT", *count);
    if (n < 1 || i >= n) {
      throw ConfigError("JOB_COMPLETION_INDEX",
                        fmt::format("index {} is outside {} completions", i, n));
    }
    if (source) *source = fmt::format("Kubernetes completion index {} of {}", i, n);
    return Shard{static_cast<int>(i), static_cast<int>(n)};
  }
  return std::nullopt;
}

bool in_shard(size_t point, Shard s) {
  return point % static_cast<size_t>(s.n) == static_cast<size_t>(s.k);
}

// ---------------------------------------------------------------------------------------------
// Outputs with resume

namespace {

struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_jsonl(const std::string& path) {
  auto ends = [&](const char* suf) {
    size_t n = std::strlen(suf);
    return path.size() >= n && path.compare(path.size() - n, n, suf) == 0;
  };
  return ends(".jsonl") || ends(".json") || ends(".ndjson");
}

// The first `n` comma-separated CSV fields of a line (our rows' first fields are never quoted).
std::vector<std::string> first_fields(const std::string& line, size_t n) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (out.size() < n) {
    size_t c = line.find(',', pos);
    if (c == std::string::npos) {
      out.push_back(line.substr(pos));
      break;
    }
    out.push_back(line.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("{}: write failed: {}", path, std::strerror(errno)));
    }
    off += static_cast<size_t>(w);
  }
}

void fsync_or_throw(int fd, const std::string& path) {
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    throw std::runtime_error(fmt::format("{}: fsync failed: {}", path, std::strerror(errno)));
  }
}

struct Out {
  std::string path;
  bool jsonl = false;
  int fd = -1;
  std::set<size_t> present;
  bool existed = false;
  size_t size = 0;     // bytes in the existing file
  size_t keep = 0;     // bytes kept (a torn last line dropped)
  size_t lines = 0;    // complete lines kept
  std::string header;  // CSV header of this sweep
};

// A row read back for resume: its fields must be the ones this sweep writes for that point.
std::string check_row(const Plan& plan, const Point& p, const std::string& line, bool jsonl) {
  size_t naxes = plan.spec.axes.size();
  std::string shape, key;
  std::vector<std::string> values, metrics;
  if (!jsonl) {
    auto f = parse_csv_line(line);
    if (f.size() != plan.columns.size())
      return fmt::format("{} fields, expected {}", f.size(), plan.columns.size());
    shape = f[3];
    key = f[4];
    values.assign(f.begin() + kAxisColumn, f.begin() + static_cast<long>(kAxisColumn + naxes));
    metrics.assign(f.begin() + static_cast<long>(kAxisColumn + naxes), f.end());
  } else {
    json j = json::parse(line, nullptr, false);
    if (!j.contains("shape") || !j["shape"].is_string() || !j.contains("key") ||
        !j["key"].is_string() || !j.contains("params") || !j["params"].is_object() ||
        j["params"].size() != naxes)
      return "not a sweep row (shape, key or params missing)";
    shape = j["shape"].get<std::string>();
    key = j["key"].get<std::string>();
    for (const auto& a : plan.spec.axes) {
      if (!j["params"].contains(a.path) || !j["params"][a.path].is_string())
        return fmt::format("params: no value for axis {}", a.path);
      values.push_back(j["params"][a.path].get<std::string>());
    }
    for (const char* c : kMetricColumns) {
      if (!j.contains(c)) return fmt::format("no {} field", c);
      metrics.push_back(j[c].is_string() ? j[c].get<std::string>() : j[c].dump());
    }
  }
  std::string want_shape;
  for (const auto& a : plan.spec.axes)
    want_shape += (want_shape.empty() ? "" : "x") + std::to_string(a.values.size());
  if (shape != want_shape)
    return fmt::format("shape \"{}\" differs from this sweep's {}", shape, want_shape);
  std::vector<std::string> axes;
  for (const auto& a : plan.spec.axes) axes.push_back(a.path);
  std::string why = check_row_content(axes, values, key, metrics);
  if (!why.empty()) return why;
  if (key != p.key)
    return fmt::format("point {} is {} in this sweep, the row says {}", p.index, p.key, key);
  return "";
}

// A torn last line (no newline) must look like the start of what we write there: a prefix of the
// header (CSV, nothing else in the file) or of a sweep row (digits, then the point count and the
// spec hash; JSONL: `{"point":`). Anything else is not ours and is never cut off.
bool looks_like_torn_row(const std::string& tail, bool jsonl, bool first_line,
                         const std::string& header) {
  if (tail.size() > 64 * 1024) return false;
  for (unsigned char c : tail) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  if (jsonl) {
    static const std::string start = "{\"point\":";
    size_t n = std::min(tail.size(), start.size());
    return tail.compare(0, n, start, 0, n) == 0;
  }
  if (first_line) return header.compare(0, tail.size(), tail) == 0;
  auto f = first_fields(tail, 2);
  for (const auto& x : f) {
    if (x.find_first_not_of("0123456789") != std::string::npos) return false;
  }
  return true;
}

// Reads an existing output back and validates it WITHOUT modifying it (a file that is not a
// resumable output of this sweep is refused untouched). Returns the Out with `present` filled in
// and the size to keep (a torn last line is dropped later, once every output passed).
Out check_output(const std::string& path, const Plan& plan) {
  Out o;
  o.path = path;
  o.jsonl = is_jsonl(path);
  std::string header = csv_line(plan.columns);
  std::string text;
  {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
      throw Refused(fmt::format("{}: not a regular file", path));
    std::ifstream in(path, std::ios::binary);
    if (in) {
      o.existed = true;
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
      o.size = text.size();
    }
  }
  o.keep = text.size();
  size_t lineno = 0;
  auto refuse = [&](const std::string& why) {
    return Refused(
        fmt::format("{}:{}: {}; refusing to resume into it (use another --out, or delete the file "
                    "to start over)",
                    path, lineno, why));
  };
  if (!text.empty() && text.back() != '\n') {
    size_t keep = text.rfind('\n');
    keep = keep == std::string::npos ? 0 : keep + 1;
    lineno = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (!looks_like_torn_row(text.substr(keep), o.jsonl, keep == 0, header)) {
      throw refuse(
          "the last line has no newline and is not a torn sweep row (not a sweep output?)");
    }
    o.keep = keep;
    text.resize(keep);
  }
  std::istringstream lines(text);
  std::string line;
  lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    size_t point = 0;
    std::string hash;
    int64_t points = 0;
    if (!o.jsonl) {
      if (lineno == 1) {
        if (line + "\n" != header)
          throw refuse("the CSV header differs from this sweep's columns (another grid?)");
        continue;
      }
      auto f = first_fields(line, 3);
      auto pi = f.size() == 3 ? parse_int(f[0]) : std::nullopt;
      auto pn = f.size() == 3 ? parse_int(f[1]) : std::nullopt;
      if (!pi || !pn || *pi < 0) throw refuse("not a sweep row");
      point = static_cast<size_t>(*pi);
      points = *pn;
      hash = f[2];
    } else {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("point") ||
          !j["point"].is_number_unsigned() || !j.contains("spec_hash") ||
          !j["spec_hash"].is_string() || !j.contains("points") ||
          !j["points"].is_number_integer()) {
        throw refuse("not a sweep row");
      }
      point = j["point"].get<size_t>();
      points = j["points"].get<int64_t>();
      hash = j["spec_hash"].get<std::string>();
    }
    if (hash != plan.spec_hash) {
      throw refuse(fmt::format(
          "written by a different sweep (spec hash {}, this sweep {}: the scenario, grid, "
          "--runs, --seed, --set or --faults (or its fuzz settings) differ)",
          hash, plan.spec_hash));
    }
    if (points != static_cast<int64_t>(plan.points.size()) || point >= plan.points.size()) {
      throw refuse(fmt::format("point {} of {} does not fit this sweep's {} points", point, points,
                               plan.points.size()));
    }
    std::string why = check_row(plan, plan.points[point], line, o.jsonl);
    if (!why.empty()) throw refuse(why);
    if (!o.present.insert(point).second) throw refuse(fmt::format("point {} appears twice", point));
  }
  o.lines = lineno;
  return o;
}

// Opens a checked output for appending: drops its torn last line, writes the CSV header of a new
// or empty file.
void open_output(Out& o) {
  const std::string& path = o.path;
  o.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (o.fd < 0)
    throw Refused(fmt::format("{}: cannot open for writing: {}", path, std::strerror(errno)));
  if (!o.existed) {
    // Make the new file's directory entry durable too.
    std::string dir = std::filesystem::path(path).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  if (o.keep < o.size) {
    // A torn last line (killed mid-write) is dropped.
    if (::ftruncate(o.fd, static_cast<off_t>(o.keep)) != 0) {
      throw Refused(
          fmt::format("{}: cannot drop the torn last line: {}", path, std::strerror(errno)));
    }
    fmt::print(stderr, "zksim sweep: {}: dropped a torn last line ({} bytes)\n", path,
               o.size - o.keep);
  }
  if (!o.jsonl && o.lines == 0) {
    write_all(o.fd, o.header, path);
    fsync_or_throw(o.fd, path);
  }
}

std::string fmt_eta(double s) {
  if (s < 0 || s > 1e7) return "?";
  int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

}  // namespace

int run_sweep(const Plan& plan, const RunConfig& cfg, RunReport* report) {
  using Clock = std::chrono::steady_clock;  // wall time for progress and speed only
  auto t0 = Clock::now();
  std::vector<Out> outs;
  try {
    for (const auto& raw : cfg.outputs) {
      std::string path = raw;
      for (size_t pos; (pos = path.find("{shard}")) != std::string::npos;) {
        path.replace(pos, 7, std::to_string(cfg.shard.k));
      }
      for (const auto& o : outs) {
        if (o.path == path) throw Refused(fmt::format("{}: given twice as --out", path));
      }
      outs.push_back(check_output(path, plan));
      outs.back().header = csv_line(plan.columns);
    }
    // Only once every output passed: nothing is modified when one of them is refused.
    for (auto& o : outs) open_output(o);
  } catch (const std::exception& e) {
    for (auto& o : outs) {
      if (o.fd >= 0) ::close(o.fd);
    }
    fmt::print(stderr, "zksim sweep: {}\n", e.what());
    return 2;
  }
  // Points of this shard not yet in every output, in point order.
  std::vector<size_t> todo;
  size_t in_shard_total = 0;
  for (const auto& p : plan.points) {
    if (!in_shard(p.index, cfg.shard)) continue;
    ++in_shard_total;
    bool everywhere = !outs.empty();
    for (const auto& o : outs) everywhere = everywhere && o.present.count(p.index);
    if (!everywhere) todo.push_back(p.index);
  }
  size_t skipped = in_shard_total - todo.size();
  if (skipped && !cfg.quiet) {
    fmt::print(stderr, "zksim sweep: resuming: {} of {} points already done\n", skipped,
               in_shard_total);
  }
  FILE* so = outs.empty() ? cfg.stdout_csv : nullptr;
  if (so) {
    std::string h = csv_line(plan.columns);
    std::fwrite(h.data(), 1, h.size(), so);
    std::fflush(so);
  }

  struct Done {
    bool ready = false;
    std::string csv, jsonl;
  };
  std::vector<Done> results(todo.size());
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> runs_done{0};
  // The first failure by position in `todo` (deterministic whichever thread sees it first).
  size_t err_pos = SIZE_MAX;
  int err_code = 0;
  std::string err_msg;

  auto worker = [&] {
    while (!stop.load()) {
      size_t pos = next.fetch_add(1);
      if (pos >= todo.size()) return;
      const Point& p = plan.points[todo[pos]];
      uint64_t seed = 0;
      int run = 0;
      try {
        PointStats s = compute_point(plan, p, &seed, &run);
        auto f = row_fields(plan, p, s);
        std::string c = csv_line(f), j = jsonl_line(plan, f);
        runs_done += s.runs;
        std::lock_guard<std::mutex> lk(mu);
        results[pos].csv = std::move(c);
        results[pos].jsonl = std::move(j);
        results[pos].ready = true;
      } catch (const std::exception& e) {
        int code = dynamic_cast<const sim::ConfigError*>(&e) ? 2 : 3;  // 3: an internal failure
        std::string msg =
            code == 3
                ? fmt::format("point {} ({}): {}\nreproduce: {}", p.index, p.key, e.what(),
                              scenario::run_command(
                                  plan.spec.scenario_path, seed,
                                  [&] {
                                    std::vector<std::string> sets = plan.spec.sets;
                                    for (size_t a = 0; a < p.values.size(); ++a)
                                      sets.push_back(plan.spec.axes[a].path + "=" + p.values[a]);
                                    if (plan.fuzz) {  // run `run`'s fault schedule
                                      json fs = json::array();
                                      for (const auto& f : fuzz_schedule(plan, run).faults)
                                        fs.push_back(scenario::fault_to_json(f));
                                      sets.push_back("faults=" + fs.dump());
                                    }
                                    return sets;
                                  }()))
                : fmt::format("point {} ({}): {}", p.index, p.key, e.what());
        std::lock_guard<std::mutex> lk(mu);
        if (pos < err_pos) {
          err_pos = pos;
          err_code = code;
          err_msg = msg;
        }
        stop = true;
      }
      cv.notify_all();
    }
  };
  int jobs =
      std::max(1, std::min<int>(cfg.jobs, static_cast<int>(std::max<size_t>(todo.size(), 1))));
  int alive = jobs;  // guarded by mu
  std::vector<std::thread> threads;
  for (int i = 0; i < jobs; ++i) {
    threads.emplace_back([&] {
      worker();
      std::lock_guard<std::mutex> lk(mu);
      --alive;
      cv.notify_all();
    });
  }

  size_t emitted = 0;
  std::string write_error;
  auto last_progress = Clock::time_point{};
  auto progress = [&](bool final) {
    if (!cfg.progress) return;
    auto now = Clock::now();
    if (!final && now - last_progress < std::chrono::milliseconds(250)) return;
    last_progress = now;
    double el = std::chrono::duration<double>(now - t0).count();
    double rps = el > 0 ? static_cast<double>(runs_done.load()) / el : 0;
    double left = static_cast<double>(todo.size() - emitted) * plan.spec.runs;
    fmt::print(stderr, "\rsweep: {}/{} points  {:.0f} runs/s  ETA {}   ", skipped + emitted,
               in_shard_total, rps, rps > 0 ? fmt_eta(left / rps) : std::string("?"));
    if (final) fmt::print(stderr, "\n");
    std::fflush(stderr);
  };
  {
    std::unique_lock<std::mutex> lk(mu);
    while (emitted < todo.size()) {
      if (results[emitted].ready) {
        Done d = std::move(results[emitted]);
        results[emitted] = Done{};
        lk.unlock();
        try {
          size_t point = todo[emitted];
          for (auto& o : outs) {
            if (o.present.count(point)) continue;
            const std::string& line = o.jsonl ? d.jsonl : d.csv;
            write_all(o.fd, line, o.path);
            fsync_or_throw(o.fd, o.path);
          }
          if (so) {
            std::fwrite(d.csv.data(), 1, d.csv.size(), so);
            std::fflush(so);
          }
        } catch (const std::exception& e) {
          write_error = e.what();
          stop = true;
          lk.lock();
          break;
        }
        ++emitted;
        progress(false);
        lk.lock();
        continue;
      }
      if (alive == 0) break;  // a failure stopped the workers before this row was computed
      cv.wait_for(lk, std::chrono::milliseconds(250));
      lk.unlock();
      progress(false);
      lk.lock();
    }
  }
  stop = true;
  for (auto& t : threads) t.join();
  // After an error, emit whatever finished contiguously before it (finished work is never lost).
  while (emitted < todo.size() && results[emitted].ready && write_error.empty()) {
    size_t point = todo[emitted];
    try {
      for (auto& o : outs) {
        if (o.present.count(point)) continue;
        write_all(o.fd, o.jsonl ? results[emitted].jsonl : results[emitted].csv, o.path);
        fsync_or_throw(o.fd, o.path);
      }
      if (so) std::fwrite(results[emitted].csv.data(), 1, results[emitted].csv.size(), so);
    } catch (const std::exception& e) {
      write_error = e.what();
      break;
    }
    ++emitted;
  }
  if (so) std::fflush(so);
  for (auto& o : outs) ::close(o.fd);
  progress(true);
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  if (report) {
    report->points_total = in_shard_total;
    report->points_skipped = skipped;
    report->points_done = emitted;
    report->runs_done = runs_done.load();
    report->wall_s = wall;
  }
  if (!write_error.empty()) {
    fmt::print(stderr, "zksim sweep: {}\n", write_error);
    return 2;
  }
  if (err_code) {
    fmt::print(stderr, "zksim sweep: {}\n", err_msg);
    return err_code;
  }
  if (!cfg.quiet) {
    double runs = static_cast<double>(runs_done.load());
    fmt::print(
        stderr,
        "zksim sweep: {} points ({} already done) x {} runs = {} runs in {:.2f} s on {} job(s){}: "
        "{:.2f} points/s, {:.1f} runs/s\n",
        emitted, skipped, plan.spec.runs, runs_done.load(), wall, jobs,
        cfg.shard.n > 1 ? fmt::format(", shard {}/{}", cfg.shard.k, cfg.shard.n) : "",
        wall > 0 ? static_cast<double>(emitted) / wall : 0, wall > 0 ? runs / wall : 0);
  }
  return 0;
}

}  // namespace zksim::sweep
