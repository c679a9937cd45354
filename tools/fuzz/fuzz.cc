#include "tools/fuzz/fuzz.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "sim/check.h"
#include "sim/config.h"
#include "sim/probe.h"

namespace zksim::fuzz {

using scenario::FaultSpec;
using sim::Duration;

namespace {

std::string ms(Duration d) {
  return fmt::format("{:.3f} ms", d.to_ms_f());
}

// Uniform integer milliseconds in [lo, hi] (as Durations); lo if hi < lo.
Duration uniform_ms(sim::Rng& rng, Duration lo, Duration hi) {
  int64_t a = lo.to_ms(), b = hi.to_ms();
  if (b <= a) return Duration::ms(a);
  return Duration::ms(a + static_cast<int64_t>(rng.below(static_cast<uint64_t>(b - a + 1))));
}

template <class T>
const T& pick(sim::Rng& rng, const std::vector<T>& v) {
  SIM_CHECK(!v.empty(), "pick from an empty list");
  return v[rng.below(v.size())];
}

std::vector<std::string> host_names(const scenario::Scenario& sc) {
  std::vector<std::string> out;
  for (const auto& h : sc.hosts) out.push_back(h.name);
  return out;
}

bool allowed(const std::set<std::string>& hosts, const std::string& h) {
  return hosts.empty() || hosts.count(h);
}

std::vector<std::string> role_targets(const scenario::Scenario& sc,
                                      const std::set<std::string>& hosts) {
  std::vector<std::string> out;
  if (sc.meta.enabled && !sc.meta.hosts.empty() &&
      std::all_of(sc.meta.hosts.begin(), sc.meta.hosts.end(),
                  [&](const std::string& h) { return allowed(hosts, h); }))
    out.push_back("meta:leader");
  if (!sc.zk.peers.empty() &&
      std::all_of(sc.zk.peers.begin(), sc.zk.peers.end(),
                  [&](const scenario::ZkSpec::Peer& p) { return allowed(hosts, p.host); }))
    out.push_back("zk:leader");
  return out;
}

std::vector<std::string> process_targets(const scenario::Scenario& sc,
                                         const std::set<std::string>& hosts) {
  std::vector<std::string> out;
  for (const auto& p : sc.zk.peers) {
    if (allowed(hosts, p.host)) out.push_back(fmt::format("zk:{}", p.id));
  }
  if (sc.meta.enabled) {
    for (const auto& h : sc.meta.hosts) {
      if (allowed(hosts, h)) out.push_back("meta:" + h);
    }
  }
  return out;
}

// Role target at half the draws, else a concrete process.
std::string draw_target(sim::Rng& rng, const scenario::Scenario& sc, bool metas,
                        const std::set<std::string>& hosts) {
  auto roles = role_targets(sc, hosts);
  auto procs = process_targets(sc, hosts);
  if (!metas) {
    auto is_meta = [](const std::string& t) { return t.rfind("meta:", 0) == 0; };
    std::erase_if(roles, is_meta);
    std::erase_if(procs, is_meta);
  }
  if (!roles.empty() && (procs.empty() || rng.bernoulli(0.5))) return pick(rng, roles);
  return pick(rng, procs);
}

// The instant a fault ends (its heal).
Duration fault_length(const FaultSpec& f) {
  if (f.restart_after) return *f.restart_after;
  return f.duration.value_or(Duration::zero());
}

void set_length(FaultSpec& f, Duration d) {
  if (f.kind == "crash") {
    f.restart_after = d;
  } else {
    f.duration = d;
  }
}

// "70.25s", "7s", "250ms": short, for the human-readable schedule.
std::string human(Duration d) {
  if (d.count_ns() % 1000'000 != 0 || d < Duration::s(1)) return sim::format_duration(d);
  std::string t = fmt::format("{:.3f}", static_cast<double>(d.to_ms()) / 1000.0);
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t + "s";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Properties

std::optional<Property> parse_property(const std::string& name) {
  std::string n = lower(name);
  if (n == "p1") return Property::P1;
  if (n == "p2") return Property::P2;
  if (n == "p3") return Property::P3;
  if (n == "p4") return Property::P4;
  return std::nullopt;
}

std::string property_name(Property p) {
  return fmt::format("P{}", static_cast<int>(p) + 1);
}

std::string property_title(Property p) {
  switch (p) {
    case Property::P1:
      return "single meta leader";
    case Property::P2:
      return "bounded meta unavailability after heal";
    case Property::P3:
      return "ZooKeeper safety (one leader per epoch)";
    case Property::P4:
      return "bounded ZooKeeper unavailability after heal";
  }
  return "?";
}

std::string complete_bounds(const scenario::Scenario& base, const std::vector<Property>& props,
                            Bounds& b) {
  if (!b.p2) b.p2 = base.checks.meta_leader_within_after_heal;
  if (!b.p4) b.p4 = base.checks.zk_leader_within_after_heal;
  for (Property p : props) {
    if (p == Property::P2 && !b.p2)
      return "P2 needs a bound: give --p2-bound or checks.metaLeaderWithinAfterHeal in the "
             "scenario";
    if (p == Property::P4 && !b.p4)
      return "P4 needs a bound: give --p4-bound or checks.zkLeaderWithinAfterHeal in the scenario";
  }
  return "";
}

std::optional<std::string> check(Property p, const world::RunResult& r, const Bounds& b,
                                 bool had_faults) {
  const auto& m = r.metrics;
  switch (p) {
    case Property::P1: {
      if (m.meta_dual.count == 0 || m.meta_dual.max <= b.p1_min) return std::nullopt;
      const auto& w = m.meta_dual_windows.front();
      return fmt::format("dual meta leaders: {} window(s), longest {}, first at {} for {}",
                         m.meta_dual.count, ms(m.meta_dual.max), sim::format_time(w.begin),
                         ms(w.length()));
    }
    case Property::P2:
    case Property::P4: {
      if (!had_faults) return std::nullopt;
      bool meta = p == Property::P2;
      const auto& got = meta ? m.meta_recovery_after_heal : m.zk_recovery_after_heal;
      Duration bound = (meta ? b.p2 : b.p4).value_or(Duration::zero());
      const char* who = meta ? "meta leader" : "ZooKeeper leader";
      if (!got)
        return fmt::format("no {} from the last heal (at {}) to the end", who,
                           sim::format_time(r.last_heal));
      if (*got > bound)
        return fmt::format("no {} for {} after the last heal (at {}) > bound {}", who, ms(*got),
                           sim::format_time(r.last_heal), ms(bound));
      return std::nullopt;
    }
    case Property::P3:
      for (const auto& v : r.violations) {
        if (v.find("two ZooKeeper leaders") != std::string::npos) return v;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Generators

const std::vector<std::string>& all_kinds() {
  static const std::vector<std::string> k = {"ifdown", "partition", "cut",  "latency",
                                             "loss",   "pause",     "crash"};
  return k;
}

GenConfig default_gen_config(const scenario::Scenario& base, const Bounds& b) {
  GenConfig g;
  Duration settle =
      base.meta.enabled ? base.meta.start_jitter + base.meta.session_timeout : base.zk.tick * 4;
  Duration tail = Duration::s(15);
  for (const auto& bound : {b.p2, b.p4}) {
    if (bound) tail = std::max(tail, *bound + Duration::s(5));
  }
  tail = std::min(tail, base.duration / 4);
  g.heal_by = base.duration - tail;
  g.window_from = std::min(settle, base.duration / 2);
  g.window_to = g.heal_by - g.min_duration;
  return g;
}

std::string validate(const GenConfig& g, const scenario::Scenario& base) {
  for (const auto& k : g.kinds) {
    if (std::find(all_kinds().begin(), all_kinds().end(), k) == all_kinds().end())
      return fmt::format(
          "unknown fault kind \"{}\" (ifdown, partition, cut, latency, loss, pause, "
          "crash)",
          k);
  }
  if (g.max_faults < 1 || g.max_faults > 100) return "--max-faults must be in 1..100";
  if (g.min_duration < Duration::ms(1)) return "the minimum fault duration must be at least 1ms";
  if (g.max_duration < g.min_duration) return "--max-duration is below the minimum (100ms)";
  if (g.heal_by > base.duration) return "faults would heal after the end of the run";
  if (g.window_from > g.window_to || g.window_to + g.min_duration > g.heal_by)
    return fmt::format("empty fault window: starts in [{}, {}], healed by {} (run of {})",
                       sim::format_duration(g.window_from), sim::format_duration(g.window_to),
                       sim::format_duration(g.heal_by), sim::format_duration(base.duration));
  for (const auto& h : g.hosts) {
    if (!base.find_host(h)) return fmt::format("unknown host \"{}\"", h);
  }
  auto procs = process_targets(base, g.hosts);
  bool pausable = false;
  for (const auto& t : procs) pausable |= g.meta_pauses || t.rfind("meta:", 0) != 0;
  if (!g.kinds.empty()) {
    bool any = false;
    for (const auto& k : g.kinds) {
      if (k == "pause" ? pausable : k == "crash" ? !procs.empty() : true) any = true;
    }
    if (!any)
      return "no fault of the given kinds can be drawn: no (pausable) process on the allowed hosts";
  }
  if (base.hosts.size() < 2) {
    for (const auto& k : g.kinds) {
      if (k == "partition" || k == "cut") return "partition and cut faults need two hosts";
    }
  }
  return "";
}

bool Schedule::operator==(const Schedule& o) const {
  if (seed != o.seed || faults.size() != o.faults.size()) return false;
  for (size_t i = 0; i < faults.size(); ++i) {
    if (scenario::fault_to_json(faults[i]) != scenario::fault_to_json(o.faults[i])) return false;
  }
  return true;
}

Schedule generate(const scenario::Scenario& base, const GenConfig& g, sim::Rng& rng) {
  std::vector<std::string> kinds;
  for (const auto& k : all_kinds()) {
    if (g.kinds.empty() || g.kinds.count(k)) kinds.push_back(k);
  }
  if (base.hosts.size() < 2) {
    std::erase_if(kinds, [](const std::string& k) { return k == "partition" || k == "cut"; });
  }
  {
    // Pauses need a process on an allowed host (metas excluded with meta_pauses off).
    bool any = false;
    for (const auto& t : process_targets(base, g.hosts))
      any |= g.meta_pauses || t.rfind("meta:", 0) != 0;
    if (!any) std::erase_if(kinds, [](const std::string& k) { return k == "pause"; });
  }
  SIM_CHECK(!kinds.empty(), "no fault kind can be drawn (validate the GenConfig first)");
  Schedule s;
  s.seed = g.vary_seed ? rng.below(uint64_t{1} << 31) : base.seed;
  int n = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(g.max_faults)));
  const auto all_hosts = host_names(base);
  std::vector<std::string> hosts;  // the ones faults may touch
  for (const auto& h : all_hosts) {
    if (allowed(g.hosts, h)) hosts.push_back(h);
  }
  for (int i = 0; i < n; ++i) {
    FaultSpec f;
    f.kind = pick(rng, kinds);
    Duration latest = std::min(g.window_to, g.heal_by - g.min_duration);
    f.at = uniform_ms(rng, g.window_from, latest);
    Duration len = uniform_ms(rng, g.min_duration, std::min(g.max_duration, g.heal_by - f.at));
    set_length(f, len);
    if (f.kind == "ifdown") {
      auto roles = role_targets(base, g.hosts);
      if (!roles.empty() && rng.bernoulli(0.5)) {
        f.target = pick(rng, roles);
      } else {
        f.host = pick(rng, hosts);
      }
    } else if (f.kind == "pause" || f.kind == "crash") {
      f.target = draw_target(rng, base, f.kind == "crash" || g.meta_pauses, g.hosts);
    } else if (f.kind == "partition") {
      // A random split into two non-empty groups; the side listed first holds only hosts the
      // faults may touch.
      std::vector<std::string> hs = hosts;
      for (size_t k = hs.size(); k > 1; --k) std::swap(hs[k - 1], hs[rng.below(k)]);
      size_t most = std::min(hs.size(), all_hosts.size() - 1);
      size_t cut = 1 + rng.below(most);
      std::vector<std::string> a(hs.begin(), hs.begin() + static_cast<long>(cut));
      std::vector<std::string> b;
      for (const auto& h : all_hosts) {
        if (std::find(a.begin(), a.end(), h) == a.end()) b.push_back(h);
      }
      std::sort(a.begin(), a.end());
      if (g.hosts.empty() && b.size() < a.size()) std::swap(a, b);  // the smaller side first
      f.groups = {a, b};
    } else if (f.kind == "cut") {
      // One end on a host the faults may touch.
      std::string one = pick(rng, hosts), other;
      do {
        other = pick(rng, all_hosts);
      } while (other == one);
      bool out = rng.bernoulli(0.5);
      f.from = out ? one : other;
      f.to = out ? other : one;
    } else if (f.kind == "latency") {
      f.host = pick(rng, hosts);
      f.extra_latency = uniform_ms(rng, Duration::ms(10), Duration::ms(3000));
    } else if (f.kind == "loss") {
      f.host = pick(rng, hosts);
      f.loss = 0.05 * static_cast<double>(2 + rng.below(17));  // 0.10 .. 0.90
    }
    s.faults.push_back(std::move(f));
  }
  std::stable_sort(s.faults.begin(), s.faults.end(),
                   [](const FaultSpec& a, const FaultSpec& b) { return a.at < b.at; });
  return s;
}

Schedule generate_run(const scenario::Scenario& base, const GenConfig& g, uint64_t campaign_seed,
                      uint64_t index) {
  sim::Rng rng = sim::Rng::stream(campaign_seed, fmt::format("fuzz/run/{}", index));
  return generate(base, g, rng);
}

world::RunResult run_schedule(scenario::Scenario& work, const Schedule& s, bool stop_on_unsafe) {
  work.faults = s.faults;
  world::RunOptions opt;
  opt.seed = s.seed;
  opt.stop_on_unsafe = stop_on_unsafe;
  opt.hash = false;      // a failure is replayed with `zksim run`, which prints the hash
  opt.detector = false;  // an observer only: metrics and violations do not change
  return world::run(work, opt);
}

std::string describe(const FaultSpec& f) {
  std::string what;
  std::string target = !f.target.empty() ? f.target : f.host;
  if (f.kind == "ifdown" || f.kind == "pause" || f.kind == "crash") {
    what = fmt::format("{} {}", f.kind, target);
  } else if (f.kind == "partition") {
    std::string gs;
    for (const auto& g : f.groups) {
      std::string one;
      for (const auto& h : g) one += (one.empty() ? "" : ",") + h;
      gs += (gs.empty() ? "" : " | ") + one;
    }
    what = fmt::format("partition {}", gs);
  } else if (f.kind == "cut") {
    what = fmt::format("cut {} -> {}", f.from, f.to);
  } else if (f.kind == "latency") {
    what = fmt::format("latency +{} on {}", human(f.extra_latency), target);
  } else if (f.kind == "loss") {
    what = fmt::format("loss {:.0f}% on {}", f.loss * 100, target);
  } else {
    what = fmt::format("{} {}", f.kind, target);
  }
  if (f.port != 0) what += fmt::format(" port {}", f.port);
  std::string out = fmt::format("at {} {}", human(f.at), what);
  if (f.restart_after) out += fmt::format(", restart after {}", human(*f.restart_after));
  if (f.duration) out += fmt::format(" for {}", human(*f.duration));
  return out;
}

std::string describe(const Schedule& s) {
  std::string out = fmt::format("  run seed {}\n", s.seed);
  if (s.faults.empty()) out += "  (no faults)\n";
  for (size_t i = 0; i < s.faults.size(); ++i)
    out += fmt::format("  {}. {}\n", i + 1, describe(s.faults[i]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shrinking

std::vector<Schedule> shrink_candidates(const scenario::Scenario& base, const Schedule& s,
                                        Duration earliest) {
  std::vector<Schedule> out;
  const Duration min_len = Duration::ms(100);
  auto with = [&](size_t i, const std::function<void(FaultSpec&)>& change) {
    Schedule c = s;
    change(c.faults[i]);
    out.push_back(std::move(c));
  };
  // 1. Fewer faults (the last first: later faults are more often incidental).
  for (size_t i = s.faults.size(); i-- > 0;) {
    Schedule c = s;
    c.faults.erase(c.faults.begin() + static_cast<long>(i));
    out.push_back(std::move(c));
  }
  // 2. Simpler faults: an ifdown instead of a partition that isolates one host; a role instead of
  // a concrete process or host; smaller latency and loss.
  bool metas = base.meta.enabled && !base.meta.hosts.empty();
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const FaultSpec& f = s.faults[i];
    if (f.kind == "partition" && f.port == 0) {  // a port-selective one is no ifdown
      for (const auto& g : f.groups) {
        if (g.size() != 1) continue;
        with(i, [&](FaultSpec& c) {
          c.kind = "ifdown";
          c.host = g[0];
          c.groups.clear();
          c.reject = false;
        });
      }
    } else if (f.kind == "ifdown" && !f.host.empty()) {
      if (metas) {
        with(i, [](FaultSpec& c) {
          c.host.clear();
          c.target = "meta:leader";
        });
      }
      with(i, [](FaultSpec& c) {
        c.host.clear();
        c.target = "zk:leader";
      });
    } else if (f.kind == "pause" || f.kind == "crash") {
      if (f.target.rfind("meta:", 0) == 0 && f.target != "meta:leader") {
        with(i, [](FaultSpec& c) { c.target = "meta:leader"; });
      } else if (f.target.rfind("zk:", 0) == 0 && f.target != "zk:leader") {
        with(i, [](FaultSpec& c) { c.target = "zk:leader"; });
      }
      if (f.kind == "crash") {
        // A pause of the same length is the milder fault.
        with(i, [](FaultSpec& c) {
          c.kind = "pause";
          c.duration = c.restart_after;
          c.restart_after.reset();
        });
      }
    } else if (f.kind == "latency" && f.extra_latency > Duration::ms(10)) {
      with(i, [](FaultSpec& c) {
        c.extra_latency = std::max(Duration::ms(10), Duration::ms(c.extra_latency.to_ms() / 2));
      });
    } else if (f.kind == "loss" && f.loss > 0.1 + 1e-9) {
      with(i, [](FaultSpec& c) { c.loss = std::max(0.1, std::round(c.loss * 10) / 20); });
    }
  }
  // 3. Shorter faults: smallest candidate first, so one accepted step can jump far.
  for (size_t i = 0; i < s.faults.size(); ++i) {
    Duration d = fault_length(s.faults[i]);
    std::vector<Duration> cands = {min_len,
                                   Duration::ms(d.to_ms() / 2),
                                   Duration::ms(d.to_ms() * 3 / 4),
                                   d - Duration::s(1),
                                   d - Duration::ms(500),
                                   d - Duration::ms(200),
                                   d - Duration::ms(100)};
    Duration last = Duration::zero();
    for (Duration c : cands) {
      if (c < min_len || c >= d || c <= last) continue;
      last = c;
      with(i, [&](FaultSpec& x) { set_length(x, c); });
    }
  }
  // 4. Earlier faults.
  for (size_t i = 0; i < s.faults.size(); ++i) {
    Duration at = s.faults[i].at;
    std::vector<Duration> cands = {Duration::ms(at.to_ms() / 2), at - Duration::s(10),
                                   at - Duration::s(5),          at - Duration::s(2),
                                   at - Duration::s(1),          at - Duration::ms(500),
                                   at - Duration::ms(100)};
    std::sort(cands.begin(), cands.end());
    Duration last = Duration::ns(-1);
    for (Duration c : cands) {
      c = std::max(c, earliest);
      if (c >= at || c <= last) continue;
      last = c;
      with(i, [&](FaultSpec& x) { x.at = c; });
    }
  }
  return out;
}

Schedule shrink(const scenario::Scenario& base, const Schedule& start, Property p, const Bounds& b,
                int max_runs, ShrinkStats* stats, Duration earliest) {
  scenario::Scenario work = base;
  ShrinkStats st;
  const bool stop = p == Property::P3;
  auto fails = [&](const Schedule& c) {
    ++st.runs;
    try {
      return check(p, run_schedule(work, c, stop), b, !c.faults.empty()).has_value();
    } catch (const std::exception&) {
      return false;  // a different failure (invariant): not this property
    }
  };
  Schedule cur = start;
  bool seeds_tried = false;
  bool progress = true;
  while (progress && st.runs < max_runs) {
    progress = false;
    std::vector<Schedule> cands = shrink_candidates(base, cur, earliest);
    // Smaller run seeds, tried once, right after the removals (a different seed moves the timer
    // phases, so durations and times are shrunk again afterwards).
    size_t seed_from = cands.size(), seed_to = cands.size();
    if (!seeds_tried && cur.seed > 7) {
      size_t removals = 0;
      while (removals < cands.size() && cands[removals].faults.size() < cur.faults.size())
        ++removals;
      std::vector<Schedule> seeds;
      for (uint64_t k = 0; k < 8; ++k) {
        Schedule c = cur;
        c.seed = k;
        seeds.push_back(std::move(c));
      }
      cands.insert(cands.begin() + static_cast<long>(removals), seeds.begin(), seeds.end());
      seed_from = removals;
      seed_to = removals + seeds.size();
    }
    for (size_t k = 0; k < cands.size(); ++k) {
      const Schedule& c = cands[k];
      if (st.runs >= max_runs) break;
      if (k >= seed_from && k < seed_to) seeds_tried = true;
      if (fails(c)) {
        cur = c;
        ++st.steps;
        progress = true;
        break;
      }
    }
  }
  if (stats) *stats = st;
  return cur;
}

nlohmann::json failing_scenario(const scenario::Scenario& base, const Schedule& s, Property p,
                                const Bounds& b, const std::string& note) {
  nlohmann::json doc = base.doc;
  nlohmann::json faults = nlohmann::json::array();
  for (const auto& f : s.faults) faults.push_back(scenario::fault_to_json(f));
  doc["faults"] = faults;
  doc["seed"] = s.seed;
  nlohmann::json checks = nlohmann::json::object();
  switch (p) {
    case Property::P1:
      if (b.p1_min > Duration::zero()) {
        checks["maxDualLeader"] = sim::format_duration(b.p1_min);
      } else {
        checks["maxMetaLeaders"] = 1;
      }
      break;
    case Property::P2:
      checks["metaLeaderWithinAfterHeal"] = sim::format_duration(b.p2.value_or(Duration::zero()));
      break;
    case Property::P3:
      break;  // ZooKeeper safety is always checked
    case Property::P4:
      checks["zkLeaderWithinAfterHeal"] = sim::format_duration(b.p4.value_or(Duration::zero()));
      break;
  }
  doc["checks"] = checks;
  doc["name"] = fmt::format("{}-fuzz-{}", base.name, lower(property_name(p)));
  doc["description"] = note;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Campaign

CampaignResult run_campaign(const scenario::Scenario& base, const CampaignConfig& c,
                            const std::function<void(const Progress&)>& progress,
                            const std::function<void(const Failure&)>& on_failure) {
  CampaignResult out;
  out.runs = c.runs;
  const int jobs = std::max(1, c.jobs);
  const bool stop = c.properties.size() == 1 && c.properties[0] == Property::P3;

  struct Slot {
    uint8_t mask = 0;
    std::string violation[kProperties];
    std::string error;
  };
  std::vector<Slot> slots(c.runs);
  std::atomic<uint64_t> next{0}, done{0}, failing{0}, events{0};
  // Runs that hit each probe, in catalogue (name) order: sums, so independent of the job count.
  const auto& catalog = sim::probe_catalog();
  const size_t nprobes = catalog.size();
  std::vector<std::atomic<uint64_t>> probe_runs(nprobes);

  auto worker = [&] {
    scenario::Scenario work = base;
    for (;;) {
      uint64_t i = next.fetch_add(1);
      if (i >= c.runs) break;
      Slot& slot = slots[i];
      Schedule s;
      try {
        s = generate_run(base, c.gen, c.seed, i);
        world::RunResult r = run_schedule(work, s, stop);
        events.fetch_add(r.events);
        for (size_t k = 0; k < nprobes; ++k)
          if (r.probes.count(*catalog[k]) > 0) probe_runs[k].fetch_add(1);
        for (Property p : c.properties) {
          if (auto v = check(p, r, c.bounds, !s.faults.empty())) {
            slot.mask |= static_cast<uint8_t>(1u << static_cast<int>(p));
            slot.violation[static_cast<int>(p)] = *v;
          }
        }
      } catch (const std::exception& e) {  // invariant failures (and anything unexpected)
        slot.error = fmt::format("run {} (seed {}): {}", i, s.seed, e.what());
      }
      if (slot.mask) failing.fetch_add(1);
      done.fetch_add(1);
    }
  };

  auto t0 = std::chrono::steady_clock::now();  // reporting only
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  {
    std::vector<std::thread> threads;
    for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
    if (progress) {
      while (done.load() < c.runs) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        progress(Progress{done.load(), c.runs, failing.load(), elapsed()});
      }
    }
    for (auto& t : threads) t.join();
  }
  out.wall_s = elapsed();
  out.events = events.load();
  {
    for (size_t k = 0; k < nprobes; ++k)
      out.probe_runs.emplace_back(catalog[k]->name(), probe_runs[k].load());
  }

  // Collect in run-index order.
  std::vector<Failure> tasks;
  int shrink_left[kProperties];
  for (int& k : shrink_left) k = c.shrink_per_property;
  for (Property p : c.properties) {
    int pi = static_cast<int>(p);
    for (uint64_t i = 0; i < c.runs; ++i) {
      if (!(slots[i].mask & (1u << pi))) continue;
      out.failing_runs[pi].push_back(i);
      if (shrink_left[pi]-- > 0) {
        Failure f;
        f.index = i;
        f.property = p;
        f.original = generate_run(base, c.gen, c.seed, i);
        f.violation = slots[i].violation[pi];
        tasks.push_back(std::move(f));
      }
    }
  }
  for (uint64_t i = 0; i < c.runs; ++i) {
    if (slots[i].error.empty()) continue;
    ++out.internal_errors;
    if (out.internal_error_messages.size() < 5)
      out.internal_error_messages.push_back(slots[i].error);
  }

  // Shrink, in parallel across failures; each shrink is sequential and deterministic.
  auto t1 = std::chrono::steady_clock::now();
  std::atomic<size_t> next_task{0};
  std::mutex mu;
  auto shrinker = [&] {
    scenario::Scenario work = base;
    for (;;) {
      size_t k = next_task.fetch_add(1);
      if (k >= tasks.size()) break;
      Failure& f = tasks[k];
      f.minimal = shrink(
          base, f.original, f.property, c.bounds, c.shrink_max_runs, &f.stats,
          std::min(c.gen.window_from,
                   f.original.faults.empty() ? c.gen.window_from : f.original.faults.front().at));
      f.shrunk = true;
      try {
        auto r = run_schedule(work, f.minimal, f.property == Property::P3);
        f.minimal_violation =
            check(f.property, r, c.bounds, !f.minimal.faults.empty()).value_or("");
      } catch (const std::exception& e) {
        f.minimal_violation = e.what();
      }
      if (on_failure) {
        std::lock_guard<std::mutex> lock(mu);
        on_failure(f);
      }
    }
  };
  {
    std::vector<std::thread> threads;
    for (int j = 0; j < std::min<int>(jobs, static_cast<int>(tasks.size())); ++j)
      threads.emplace_back(shrinker);
    for (auto& t : threads) t.join();
  }
  out.shrink_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  out.failures = std::move(tasks);
  return out;
}

}  // namespace zksim::fuzz
