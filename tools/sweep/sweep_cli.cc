#include "tools/sweep/sweep_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "sim/config.h"
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
};

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
  s->add_option("--spec", args->spec, "Sweep spec JSON: {scenario, set, grid, runs, seed, faults}");
  s->add_option("--grid", args->grid,
                "Axis: field=v1,v2,... or field=lo:hi:step (durations or integers), e.g. "
                "meta.localTimer=200ms:4s:200ms; repeat for more axes (the last varies fastest)");
  s->add_option("--set", args->sets, "Override a base scenario field: path=value");
  s->add_option("--runs", args->runs, "Seeded runs per point (default 20)");
  s->add_option("--seed", args->seed,
                "Sweep seed (default: the scenario's); run seeds derive from it");
  s->add_option("--faults", args->faults,
                "Fault model: scenario (the base scenario's faults) or fuzz");
  s->add_option("-j,--jobs", args->jobs, "Worker threads (default: the number of cores)");
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
