#include "tools/fuzz/fuzz_cli.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "sim/check.h"
#include "sim/config.h"
#include "tools/cli/validators.h"
#include "tools/cli/wrap.h"
#include "tools/fuzz/fuzz.h"

namespace zksim::fuzz {

namespace {

// Which rare paths (sim/probe.h) the campaign's runs took, and which none did: "nothing found"
// means little for a path no run reached.
void print_probe_coverage(const CampaignResult& r) {
  std::vector<std::string> hit, never;
  for (const auto& [name, runs] : r.probe_runs) {
    if (runs > 0) {
      hit.push_back(fmt::format("{} {}", name, runs));
    } else {
      never.push_back(name);
    }
  }
  fmt::print("  rare paths: {} of {} probes hit\n", hit.size(), r.probe_runs.size());
  if (!hit.empty()) fmt::print("{}", cli::wrap_list("    hit (runs): ", "      ", hit));
  if (!never.empty()) fmt::print("{}", cli::wrap_list("    never hit: ", "      ", never));
}

struct FuzzArgs {
  std::string scenario;
  std::vector<std::string> sets;
  std::string properties = "p1";
  uint64_t runs = 1000;
  int jobs = 1;
  uint64_t seed = 1;
  int max_faults = 3;
  std::string out = "fuzz-out";
  std::string kinds;
  std::string hosts;
  std::string p1_min, p2_bound, p4_bound;
  std::string window, max_duration, heal_by;
  bool fixed_seed = false;
  bool no_meta_pauses = false;
  int shrink = 3;
  int shrink_runs = 400;
  bool bench = false;
};

struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

sim::Duration duration_flag(const std::string& text, const char* flag) {
  std::string err;
  auto d = sim::parse_duration(text, &err);
  if (!d || *d < sim::Duration::zero())
    throw BadInput(fmt::format("{}: expected a duration like 500ms or 7s, got \"{}\"{}", flag, text,
                               err.empty() ? "" : " (" + err + ")"));
  return *d;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

int do_fuzz(const FuzzArgs& a) {
  scenario::Scenario base;
  try {
    base = scenario::load(a.scenario, a.sets);
  } catch (const sim::ConfigError& e) {
    fmt::print(stderr, "zksim fuzz: {}\n", e.what());
    return 2;
  }
  CampaignConfig c;
  try {
    for (const auto& name : split(a.properties, ',')) {
      auto p = parse_property(name);
      if (!p)
        throw BadInput(fmt::format("--property: unknown property \"{}\" (p1, p2, p3, p4)", name));
      if (std::find(c.properties.begin(), c.properties.end(), *p) == c.properties.end())
        c.properties.push_back(*p);
    }
    if (c.properties.empty()) throw BadInput("--property: give at least one of p1, p2, p3, p4");
    std::sort(c.properties.begin(), c.properties.end());
    if (!a.p1_min.empty()) c.bounds.p1_min = duration_flag(a.p1_min, "--p1-min");
    if (!a.p2_bound.empty()) c.bounds.p2 = duration_flag(a.p2_bound, "--p2-bound");
    if (!a.p4_bound.empty()) c.bounds.p4 = duration_flag(a.p4_bound, "--p4-bound");
    std::string err = complete_bounds(base, c.properties, c.bounds);
    if (!err.empty()) throw BadInput(fmt::format("{}: {}", a.scenario, err));
    bool uses_meta = false;
    for (Property p : c.properties) uses_meta |= p == Property::P1 || p == Property::P2;
    if (uses_meta && !base.meta.enabled)
      throw BadInput(
          fmt::format("{}: P1 and P2 need meta servers (\"meta\" in the scenario)", a.scenario));

    c.gen = default_gen_config(base, c.bounds);
    c.gen.max_faults = a.max_faults;
    for (const auto& k : split(a.kinds, ',')) c.gen.kinds.insert(k);
    for (const auto& h : split(a.hosts, ',')) {
      if (!base.find_host(h))
        throw BadInput(fmt::format("--hosts: no host \"{}\" in {}", h, a.scenario));
      c.gen.hosts.insert(h);
    }
    if (!a.max_duration.empty())
      c.gen.max_duration = duration_flag(a.max_duration, "--max-duration");
    if (!a.heal_by.empty()) {
      c.gen.heal_by = duration_flag(a.heal_by, "--heal-by");
      c.gen.window_to = std::min(c.gen.window_to, c.gen.heal_by - c.gen.min_duration);
    }
    if (!a.window.empty()) {
      auto dots = a.window.find("..");
      if (dots == std::string::npos)
        throw BadInput(
            fmt::format("--window: expected FROM..TO like 60s..90s, got \"{}\"", a.window));
      c.gen.window_from = duration_flag(a.window.substr(0, dots), "--window");
      c.gen.window_to = duration_flag(a.window.substr(dots + 2), "--window");
    }
    c.gen.vary_seed = !a.fixed_seed;
    c.gen.meta_pauses = !a.no_meta_pauses;
    err = validate(c.gen, base);
    if (!err.empty()) throw BadInput(err);
  } catch (const BadInput& e) {
    fmt::print(stderr, "zksim fuzz: {}\n", e.what());
    return 2;
  }
  c.seed = a.seed;
  c.runs = a.runs;
  c.jobs = a.jobs;
  c.shrink_per_property = a.bench ? 0 : a.shrink;
  c.shrink_max_runs = a.shrink_runs;

  // One probe run in this thread: problems only found while building the world (an unreadable GC
  // model) are bad input, reported once.
  try {
    scenario::Scenario work = base;
    Schedule probe;
    probe.seed = base.seed;
    run_schedule(work, probe, false);
  } catch (const sim::ConfigError& e) {
    fmt::print(stderr, "zksim fuzz: {}: {}\n", a.scenario, e.what());
    return 2;
  } catch (const sim::InvariantError& e) {
    fmt::print(stderr, "zksim fuzz: the base scenario without faults fails an invariant: {}\n",
               e.what());
    return 3;
  }

  std::vector<std::string> pnames, kinds;
  for (Property p : c.properties) pnames.push_back(property_name(p));
  for (const auto& k : all_kinds()) {
    if (c.gen.kinds.empty() || c.gen.kinds.count(k)) kinds.push_back(k);
  }
  fmt::print("zksim fuzz {}  (scenario \"{}\", {} simulated per run)\n", a.scenario, base.name,
             sim::format_duration(base.duration));
  fmt::print("  properties {}; campaign seed {}; {} runs on {} job(s)\n", join(pnames, ","), a.seed,
             a.runs, a.jobs);
  fmt::print(
      "  1..{} faults of {}; starts in [{}, {}], lengths {}..{}, healed by {}; run seed {}\n",
      c.gen.max_faults, join(kinds, ","), sim::format_duration(c.gen.window_from),
      sim::format_duration(c.gen.window_to), sim::format_duration(c.gen.min_duration),
      sim::format_duration(c.gen.max_duration), sim::format_duration(c.gen.heal_by),
      c.gen.vary_seed ? "drawn per run" : fmt::format("fixed {}", base.seed));
  for (Property p : c.properties) {
    std::string bound;
    if (p == Property::P1 && c.bounds.p1_min > sim::Duration::zero())
      bound = fmt::format(" (windows longer than {})", sim::format_duration(c.bounds.p1_min));
    if (p == Property::P2) bound = fmt::format(" (within {})", sim::format_duration(*c.bounds.p2));
    if (p == Property::P4) bound = fmt::format(" (within {})", sim::format_duration(*c.bounds.p4));
    fmt::print("  {}: {}{}\n", property_name(p), property_title(p), bound);
  }
  std::fflush(stdout);

  const bool tty = isatty(fileno(stdout));
  std::function<void(const Progress&)> progress;
  if (tty) {
    progress = [](const Progress& p) {
      double rate = p.elapsed_s > 0 ? static_cast<double>(p.done) / p.elapsed_s : 0;
      fmt::print("\r  {}/{} runs  {:.0f} runs/s  {} failing   ", p.done, p.total, rate, p.failures);
      std::fflush(stdout);
    };
  }
  bool write = !a.bench && !a.out.empty();
  std::string write_error;
  auto failure_path = [&](const Failure& f) {
    return (std::filesystem::path(a.out) /
            fmt::format("{}-run{}.json", property_name(f.property), f.index))
        .string();
  };
  auto on_failure = [&](const Failure& f) {
    if (!write) return;
    std::error_code ec;
    std::filesystem::create_directories(a.out, ec);
    std::string path = failure_path(f);
    std::string note = fmt::format(
        "zksim fuzz: breaks {} ({}). Campaign seed {}, run {} of {}, shrunk in {} runs. "
        "Violation: {}",
        property_name(f.property), property_title(f.property), a.seed, f.index, a.scenario,
        f.stats.runs, f.minimal_violation);
    std::ofstream o(path);
    o << failing_scenario(base, f.minimal, f.property, c.bounds, note).dump(2) << "\n";
    if (!o && write_error.empty()) write_error = path;
  };
  if (tty) progress(Progress{0, c.runs, 0, 0});
  CampaignResult r = run_campaign(base, c, progress, on_failure);
  if (tty) fmt::print("\n");

  double rate = r.wall_s > 0 ? static_cast<double>(r.runs) / r.wall_s : 0;
  fmt::print(
      "\nsummary: {} runs in {:.2f} s: {:.0f} runs/s ({:.0f} runs/s per job), {:.0f} engine "
      "events/run\n",
      r.runs, r.wall_s, rate, rate / c.jobs,
      r.runs ? static_cast<double>(r.events) / static_cast<double>(r.runs) : 0.0);
  for (Property p : c.properties) {
    const auto& runs = r.failing_runs[static_cast<int>(p)];
    std::vector<std::string> first;
    for (size_t i = 0; i < runs.size() && i < 10; ++i) first.push_back(std::to_string(runs[i]));
    fmt::print("  {} {}: {} failing run(s){}\n", property_name(p), property_title(p), runs.size(),
               runs.empty() ? ""
                            : fmt::format(" (runs {}{})", join(first, ", "),
                                          runs.size() > 10 ? ", ..." : ""));
  }
  print_probe_coverage(r);
  if (r.internal_errors) {
    fmt::print("  internal invariant failures: {} run(s)\n", r.internal_errors);
    for (const auto& m : r.internal_error_messages) fmt::print("    {}\n", m);
  }
  for (const auto& f : r.failures) {
    fmt::print("\n{} broken in run {} (campaign seed {}), shrunk in {} runs, {} steps:\n",
               property_name(f.property), f.index, a.seed, f.stats.runs, f.stats.steps);
    fmt::print("  found:  {} faults, {}\n", f.original.faults.size(), f.violation);
    fmt::print("  minimal: {}\n", f.minimal_violation);
    fmt::print("{}", describe(f.minimal));
    if (write) {
      fmt::print("  replay: zksim run {}\n", failure_path(f));
    }
  }
  if (!r.failures.empty() && r.shrink_wall_s > 0)
    fmt::print("\nshrinking took {:.2f} s\n", r.shrink_wall_s);
  if (!write_error.empty()) {
    fmt::print(stderr, "zksim fuzz: cannot write {}\n", write_error);
    return 2;
  }
  if (r.internal_errors) return 3;
  for (const auto& runs : r.failing_runs) {
    if (!runs.empty()) return 1;
  }
  return 0;
}

}  // namespace

void register_fuzz(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<FuzzArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fuzz", "Search fault schedules that break a property; shrink and write each failure");
  cmd->add_option("--scenario", a->scenario, "Base scenario JSON (its faults are replaced)")
      ->required();
  cmd->add_option("--property", a->properties,
                  "Properties, comma-separated: p1 single meta leader, p2 meta leader within a "
                  "bound after heal, p3 ZooKeeper one leader per epoch, p4 ZooKeeper leader "
                  "within a bound after heal")
      ->capture_default_str();
  cmd->add_option("--runs", a->runs, "Schedules to try")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{100'000'000}));
  cmd->add_option("--jobs", a->jobs, "Worker threads (results do not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--seed", a->seed, "Campaign seed")
      ->check(cli::check_seed)
      ->capture_default_str();
  cmd->add_option("--max-faults", a->max_faults, "Faults per schedule: 1..K")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--out", a->out, "Where shrunk failing scenarios are written")
      ->capture_default_str();
  cmd->add_option("--set", a->sets, "Override a base scenario field: path=value");
  cmd->add_option("--kinds", a->kinds,
                  "Fault kinds, comma-separated (default all): ifdown,partition,cut,latency,loss,"
                  "pause,crash");
  cmd->add_option("--hosts", a->hosts, "Hosts the faults may touch, comma-separated (default all)");
  cmd->add_option("--p1-min", a->p1_min, "P1: only dual-leader windows longer than this count");
  cmd->add_option("--p2-bound", a->p2_bound,
                  "P2 bound (default: checks.metaLeaderWithinAfterHeal)");
  cmd->add_option("--p4-bound", a->p4_bound, "P4 bound (default: checks.zkLeaderWithinAfterHeal)");
  cmd->add_option("--window", a->window, "Fault start times FROM..TO, e.g. 60s..85s");
  cmd->add_option("--max-duration", a->max_duration, "Longest fault (default 15s)");
  cmd->add_option("--heal-by", a->heal_by, "Every fault ends by then");
  cmd->add_flag("--no-meta-pauses", a->no_meta_pauses,
                "Never pause a meta process (check the local timer against the other faults)");
  cmd->add_flag("--fixed-seed", a->fixed_seed, "Use the scenario's seed for every run");
  cmd->add_option("--shrink", a->shrink, "Failures shrunk per property (the first by run index)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--shrink-runs", a->shrink_runs, "Run budget per shrink")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_flag("--bench", a->bench, "Measure runs/s only: no shrinking, no files");
  cmd->callback([a, &exit_code] { exit_code = do_fuzz(*a); });
}

}  // namespace zksim::fuzz
