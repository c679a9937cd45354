#include "tools/sweep/sweep_cli.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "sim/config.h"
#include "tools/cli/validators.h"
#include "tools/sweep/merge.h"
#include "tools/sweep/sweep.h"

namespace zksim::sweep {

namespace {

struct SweepArgs {
  std::string scenario;
  std::string spec;
  std::vector<std::string> grid;
  std::vector<std::string> sets;
  std::optional<int> runs;
  std::optional<uint64_t> seed;
  std::string faults;
  int jobs = 0;
  std::string shard;
  std::vector<std::string> outs;
  bool quiet = false;
  bool progress = false;
  bool no_progress = false;
  bool dry_run = false;
  // --faults fuzz: the generator's settings (as in zksim fuzz).
  std::optional<int> max_faults;
  std::string kinds, hosts, window, max_duration, heal_by;
  bool no_meta_pauses = false;
  bool fixed_seed = false;
};

// Flags override the spec file's "fuzz" settings.
void apply_fuzz_flags(const SweepArgs& a, FuzzSpec& f) {
  if (a.max_faults) {
    f.max_faults = parse_max_faults(*a.max_faults, "--max-faults");
    f.source["maxFaults"] = "--max-faults";
  }
  if (!a.kinds.empty()) {
    f.kinds = parse_kinds(split(a.kinds, ','), "--kinds");
    f.source["kinds"] = "--kinds";
  }
  if (!a.hosts.empty()) {
    f.hosts.clear();
    for (const auto& h : split(a.hosts, ',')) {
      if (!h.empty()) f.hosts.push_back(h);
    }
    if (f.hosts.empty()) throw sim::ConfigError("--hosts", "give at least one host");
    f.source["hosts"] = "--hosts";
  }
  if (!a.window.empty()) {
    parse_window(a.window, "--window", f);
    f.source["window"] = "--window";
  }
  if (!a.max_duration.empty()) {
    f.max_duration = parse_fuzz_duration(a.max_duration, "--max-duration");
    f.source["maxDuration"] = "--max-duration";
  }
  if (!a.heal_by.empty()) {
    f.heal_by = parse_fuzz_duration(a.heal_by, "--heal-by");
    f.source["healBy"] = "--heal-by";
  }
  if (a.no_meta_pauses) {
    f.meta_pauses = false;
    f.source["metaPauses"] = "--no-meta-pauses";
  }
  if (a.fixed_seed) {
    f.fixed_seed = true;
    f.source["fixedSeed"] = "--fixed-seed";
  }
}

int do_sweep(const SweepArgs& a) {
  Plan plan;
  RunConfig cfg;
  try {
    Spec spec;
    if (!a.spec.empty()) spec = load_spec(a.spec);
    if (!a.scenario.empty()) spec.scenario_path = a.scenario;
    if (spec.scenario_path.empty())
      throw sim::ConfigError("scenario", "give a base scenario file or --spec");
    for (const auto& s : a.sets) spec.sets.push_back(s);
    for (const auto& g : a.grid) spec.axes.push_back(parse_axis(g));
    if (a.runs) spec.runs = *a.runs;
    if (a.seed) spec.seed = a.seed;
    if (!a.faults.empty()) spec.faults = a.faults;
    apply_fuzz_flags(a, spec.fuzz);
    if (spec.runs < 1) throw sim::ConfigError("--runs", "must be at least 1");
    plan = make_plan(spec);
    if (!a.shard.empty()) {
      cfg.shard = parse_shard(a.shard);
    } else {
      std::string source;
      if (auto s = shard_from_env(&source)) {
        cfg.shard = *s;
        if (!a.quiet)
          fmt::print(stderr, "zksim sweep: shard {}/{} from the environment ({})\n", s->k, s->n,
                     source);
      }
    }
  } catch (const sim::ConfigError& e) {
    fmt::print(stderr, "zksim sweep: {}\n", e.what());
    return 2;
  }
  cfg.jobs =
      a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cfg.outputs = a.outs;
  cfg.quiet = a.quiet;
  cfg.progress = !a.quiet && !a.no_progress && (a.progress || ::isatty(2));
  cfg.stdout_csv = stdout;
  if (a.dry_run) {
    size_t mine = 0;
    for (const auto& p : plan.points) mine += in_shard(p.index, cfg.shard);
    fmt::print(
        "spec_hash {}\nseed {}\npoints {} (this shard {})\nruns per point {}\ntotal runs {}\n",
        plan.spec_hash, plan.seed, plan.points.size(), mine, plan.spec.runs,
        mine * static_cast<size_t>(plan.spec.runs));
    for (const auto& ax : plan.spec.axes) {
      std::string vs;
      for (const auto& v : ax.values) vs += (vs.empty() ? "" : ",") + v;
      fmt::print("axis {} ({} values): {}\n", ax.path, ax.values.size(), vs);
    }
    if (plan.fuzz) {
      const fuzz::GenConfig& g = plan.gen;
      std::string kinds, hosts;
      for (const auto& k : fuzz::all_kinds()) {
        if (g.kinds.empty() || g.kinds.count(k)) kinds += (kinds.empty() ? "" : ",") + k;
      }
      for (const auto& h : g.hosts) hosts += (hosts.empty() ? "" : ",") + h;
      fmt::print(
          "faults fuzz: 1..{} of {} on {}; starts in [{}, {}], lengths {}..{}, healed by {}; "
          "meta pauses {}; run seed {}\n",
          g.max_faults, kinds, hosts.empty() ? "all hosts" : hosts,
          sim::format_duration(g.window_from), sim::format_duration(g.window_to),
          sim::format_duration(g.min_duration), sim::format_duration(g.max_duration),
          sim::format_duration(g.heal_by), g.meta_pauses ? "on" : "off",
          g.vary_seed ? "drawn per run" : fmt::format("fixed {}", plan.base.seed));
      for (int i = 0; i < std::min(plan.spec.runs, 3); ++i) {
        fmt::print("schedule of run {} (every point):\n{}", i,
                   fuzz::describe(fuzz_schedule(plan, i)));
      }
    } else {
      fmt::print("faults scenario ({} in the base scenario)\n", plan.base.faults.size());
    }
    return 0;
  }
  return run_sweep(plan, cfg);
}

}  // namespace

void register_sweep(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* s = app.add_subcommand(
      "sweep",
      "Run a grid of scenario overrides, N seeds per point; one row per point (P(dual leader) with "
      "a 95% Wilson "
      "interval, dual-leader lengths, meta unavailability percentiles, failovers, ZooKeeper "
      "elections). Resumes "
      "into existing --out files; shards itself under Slurm arrays and Kubernetes Indexed Jobs");
  s->add_option("scenario", args->scenario, "Base scenario JSON (or give it in --spec)");
  s->add_option("--spec", args->spec,
                "Sweep spec JSON: {scenario, set, grid, runs, seed, faults, fuzz}");
  s->add_option("--grid", args->grid,
                "Axis: field=v1,v2,... or field=lo:hi:step (durations or integers), e.g. "
                "meta.localTimer=200ms:4s:200ms; repeat for more axes (the last varies fastest)");
  s->add_option("--set", args->sets, "Override a base scenario field: path=value");
  s->add_option("--runs", args->runs, "Seeded runs per point (default 20)");
  s->add_option("--seed", args->seed,
                "Sweep seed (default: the scenario's); run seeds derive from it")
      ->check(cli::check_seed);
  s->add_option("--faults", args->faults,
                "Fault model: scenario (the base scenario's faults, default) or fuzz (run i of "
                "every point gets the fuzz generator's schedule i, drawn from the sweep seed: "
                "the same faults and run seed at every point)");
  s->add_option("--max-faults", args->max_faults, "fuzz: faults per schedule 1..K (default 3)");
  s->add_option("--kinds", args->kinds,
                "fuzz: fault kinds, comma-separated (default all): ifdown,partition,cut,latency,"
                "loss,pause,crash");
  s->add_option("--hosts", args->hosts,
                "fuzz: hosts the faults may touch, comma-separated (default all)");
  s->add_option("--window", args->window,
                "fuzz: fault start times FROM..TO, e.g. 60s..85s (default: from when every "
                "point's metas could have elected a leader, meta.startJitter + session timeout "
                "but at most half the run, until --heal-by minus 100ms)");
  s->add_option("--max-duration", args->max_duration, "fuzz: longest fault (default 15s)");
  s->add_option("--heal-by", args->heal_by,
                "fuzz: every fault ends by then (default: 15 s before the end of the shortest "
                "point, or the scenario's *AfterHeal check + 5 s, at most a quarter of the run)");
  s->add_flag("--no-meta-pauses", args->no_meta_pauses, "fuzz: never pause a meta process");
  s->add_flag("--fixed-seed", args->fixed_seed,
              "fuzz: use the scenario's seed for every run (only the faults vary)");
  s->add_option("-j,--jobs", args->jobs, "Worker threads (default: the number of cores)")
      ->check(CLI::Range(1, 256));
  s->add_option(
      "--shard", args->shard,
      "K/N: run only points with index % N == K (default: from SLURM_ARRAY_TASK_ID/COUNT or "
      "JOB_COMPLETION_INDEX/ZKSIM_SHARD_COUNT, else 0/1)");
  s->add_option("-o,--out", args->outs,
                "Output file, .csv or .jsonl (repeatable; \"{shard}\" becomes K). Existing files "
                "are resumed. "
                "Without --out, CSV goes to stdout");
  s->add_flag("-q,--quiet", args->quiet, "No progress line and no summary");
  s->add_flag("--progress", args->progress,
              "Show the progress line even when stderr is not a terminal");
  s->add_flag("--no-progress", args->no_progress, "No progress line");
  s->add_flag("--dry-run", args->dry_run, "Print the plan (points, axes, spec hash) and exit");
  s->callback([args, &exit_code] { exit_code = do_sweep(*args); });

  auto files = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  CLI::App* m = app.add_subcommand("merge",
                                   "Merge sweep outputs (shards): check every point appears "
                                   "exactly once, write header + rows in point order");
  m->add_option("files", *files, "Sweep outputs (.csv or .jsonl, all the same kind)")->required();
  m->add_option("-o,--out", *out, "Write here instead of stdout");
  m->callback([files, out, &exit_code] {
    if (out->empty()) {
      exit_code = merge_files(*files, stdout, stderr);
      return;
    }
    std::string tmp = *out + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
      fmt::print(stderr, "zksim merge: {}: cannot open for writing\n", tmp);
      exit_code = 2;
      return;
    }
    exit_code = merge_files(*files, f, stderr);
    bool ok = std::fclose(f) == 0;
    if (exit_code == 0 && ok) {
      if (std::rename(tmp.c_str(), out->c_str()) != 0) {
        fmt::print(stderr, "zksim merge: {}: cannot rename into place\n", *out);
        exit_code = 2;
      }
    } else {
      std::remove(tmp.c_str());
      if (exit_code == 0) exit_code = 2;
    }
  });
}

}  // namespace zksim::sweep
