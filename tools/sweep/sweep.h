// Parameter sweeps: a grid of scenario overrides, N seeded runs per point, one row per point.
//
// A point is the base scenario with one value per grid axis applied through
// scenario::apply_override on the JSON document, then validated with scenario::from_json (so an
// unknown field is reported with its key path before anything runs). Points are numbered in
// row-major order of the axes as given (the last axis varies fastest). Run i of a point uses the
// seed Rng::stream(sweep seed, "sweep/<point key>/<i>").next_u64(): it depends on neither the
// thread, nor --jobs, nor the shard.
//
// Scheme for byte-identical output: a worker computes a whole point (all its runs); the writer
// emits rows strictly in point order through a reorder buffer, appending one line per point to
// every output and fsync'ing it. So an output file is always the header plus rows in point order,
// whatever --jobs is. Resume reads the outputs back, drops a torn last line, checks the header and
// each row's spec hash, and skips the points already present.
//
// Fault models: "scenario" runs every point with the base scenario's faults (as overridden by the
// point). "fuzz" replaces them, run by run, with a schedule from the fuzz generator
// (tools/fuzz): run i of EVERY point gets fuzz::generate_run(base, gen, sweep seed, i), faults and
// run seed alike (common random numbers), so the same schedules hit every point and differences
// between rows come from the parameters, not from the faults drawn.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/scenario/scenario.h"
#include "sim/config.h"
#include "sim/time.h"
#include "tools/fuzz/fuzz.h"

namespace zksim::sweep {

// Splits on every separator, keeping empty fields ("a,,b" -> "a", "", "b").
std::vector<std::string> split(const std::string& s, char sep);

// Bumped when the columns or their meaning change (part of the spec hash).
inline constexpr int kFormatVersion = 1;

// Row layout: point, points, spec_hash, shape ("20x10"), key, one column per axis, metrics.
inline constexpr size_t kAxisColumn = 5;
// The metric columns, after the axes.
inline constexpr const char* kMetricColumns[] = {"runs",
                                                 "dual_runs",
                                                 "p_dual",
                                                 "p_dual_lo",
                                                 "p_dual_hi",
                                                 "dual_max_ms",
                                                 "dual_mean_ms",
                                                 "unavail_p50_ms",
                                                 "unavail_p99_ms",
                                                 "unavail_max_ms",
                                                 "failovers_per_run",
                                                 "failovers_per_day",
                                                 "meta_stops_per_run",
                                                 "zk_elections_per_run",
                                                 "violation_runs",
                                                 "duration_s"};

// Checks a row's content as read back (resume, merge): `key` must be "axis=value;..." of the
// row's own axis values, the metrics (text of each kMetricColumns entry, in that order) integers
// where counts (runs >= 1, dual_runs and violation_runs <= runs), finite non-negative decimals
// elsewhere (probabilities in [0, 1]). Returns "" or what is wrong, naming the column.
std::string check_row_content(const std::vector<std::string>& axes,
                              const std::vector<std::string>& values, const std::string& key,
                              const std::vector<std::string>& metrics);

struct Axis {
  std::string path;                 // scenario field, e.g. "meta.localTimer"
  std::vector<std::string> values;  // override values as text ("200ms", "5", "true")
};

// "path=v1,v2,v3" or "path=lo:hi:step" (durations with units, or integers). Throws
// sim::ConfigError naming `where` (e.g. "--grid" or "spec.json: grid[1]").
Axis parse_axis(const std::string& arg, const std::string& where = "--grid");
// Expands "lo:hi:step" (inclusive of hi when it falls on the step). Durations come out in the
// coarsest unit that divides lo and step ("200ms:1s:200ms" -> 200ms,400ms,...,1000ms).
std::vector<std::string> expand_range(const std::string& text, const std::string& where);

// Settings of the fuzz generator for --faults fuzz (the flags of `zksim fuzz` that make sense in a
// sweep). Unset fields keep fuzz::default_gen_config's values, computed over the base scenario
// and tightened so that they fit every point (see make_plan).
struct FuzzSpec {
  std::optional<int> max_faults;                        // 1..100
  std::vector<std::string> kinds;                       // subset of fuzz::all_kinds(); empty = all
  std::vector<std::string> hosts;                       // hosts the faults may touch; empty = all
  std::optional<sim::Duration> window_from, window_to;  // fault start times
  std::optional<sim::Duration> max_duration, heal_by;
  std::optional<bool> meta_pauses;  // default true
  std::optional<bool> fixed_seed;   // default false: the run seed is drawn with the schedule
  // Where each given setting came from, for messages: setting name as in the spec file
  // ("healBy") -> "--heal-by" or "spec.json: fuzz.healBy".
  std::map<std::string, std::string> source;
  std::string where(const std::string& setting) const;
};

// Parsers for the fuzz settings; errors are sim::ConfigError naming `where`.
int parse_max_faults(int64_t v, const std::string& where);
std::vector<std::string> parse_kinds(const std::vector<std::string>& kinds,
                                     const std::string& where);
// "FROM..TO", e.g. "60s..90s".
void parse_window(const std::string& text, const std::string& where, FuzzSpec& f);
sim::Duration parse_fuzz_duration(const std::string& text, const std::string& where);

struct Spec {
  std::string scenario_path;
  std::vector<std::string> sets;  // extra overrides applied to the base scenario
  std::vector<Axis> axes;
  int runs = 20;
  std::optional<uint64_t> seed;  // default: the base scenario's seed
  std::string faults = "scenario";
  FuzzSpec fuzz;
};

// Reads a spec file: {"scenario": "path (relative to the spec)", "set": ["k=v"...],
// "grid": ["path=values", {"field": "path", "values": [...]} | {"field":..., "range": "a:b:c"}],
// "runs": N, "seed": S, "faults": "scenario" | "fuzz", "fuzz": {"maxFaults": 3, "kinds": [...],
// "hosts": [...], "window": "60s..90s", "maxDuration": "15s", "healBy": "80s", "metaPauses": true,
// "fixedSeed": false}}. Throws sim::ConfigError naming the file and key.
Spec load_spec(const std::string& path);

struct Point {
  size_t index = 0;
  std::string key;                  // "zk.tickTime=1s;meta.localTimer=200ms"
  std::vector<std::string> values;  // one per axis
  scenario::Scenario sc;
};

struct Plan {
  Spec spec;
  uint64_t seed = 0;
  // 16 hex digits over format version, base doc, axes, runs, seed, fault model (with fuzz: the
  // generator settings and run 0's schedule, so that a changed generator is not resumed into).
  std::string spec_hash;
  scenario::Scenario base;  // after --set
  bool fuzz = false;        // --faults fuzz
  fuzz::GenConfig gen;      // the generator's effective settings (fuzz only)
  std::vector<Point> points;
  std::vector<std::string> columns;  // CSV header fields
  double duration_s = 0;             // of the base scenario (points may override it)
};

// Loads the base scenario, builds and validates every point. Throws sim::ConfigError.
//
// With --faults fuzz the generator's settings start from fuzz::default_gen_config over the base
// scenario (faults start once the metas had time to elect a leader, heal 15 s before the end) and
// are tightened to fit every point: the window starts at the latest such start and faults heal by
// the earliest such heal of any point (a grid over meta.sessionTimeout or duration moves them).
// Explicit settings (FuzzSpec) override. Every point must keep the base scenario's hosts,
// ZooKeeper peers and meta hosts (the schedules name them), else ConfigError("--faults", ...).
Plan make_plan(const Spec& spec);

// The seed of run `run` of point `key` (--faults scenario).
uint64_t run_seed(uint64_t sweep_seed, const std::string& key, int run);

// The fault schedule (faults and run seed) of run `run` of every point (--faults fuzz): the one
// `zksim fuzz --seed <sweep seed>` draws for its run `run` with the same generator settings.
fuzz::Schedule fuzz_schedule(const Plan& plan, int run);

// One point's aggregate over its runs (integers; formatting is separate).
struct PointStats {
  int64_t runs = 0;
  int64_t dual_runs = 0;                // runs with >= 1 dual-leader window
  int64_t dual_windows = 0;             // over all runs
  int64_t dual_total_ns = 0;            // over all runs
  int64_t dual_max_ns = 0;              // longest dual window of any run
  std::vector<int64_t> unavail_max_ns;  // per run: longest no-meta-leader window (0 if none)
  int64_t failovers = 0;                // meta leader starts after the first one, summed over runs
  int64_t meta_stops = 0;               // meta servers stopping (local timer or expiry), summed
  int64_t zk_elections = 0;             // ZooKeeper leader establishments, summed
  int64_t violation_runs = 0;           // runs with a check violation
  int64_t duration_ns = 0;              // the point's simulated duration per run
};

// Runs every run of point `p`. Throws sim::ConfigError / sim::InvariantError (with the run's seed
// in `failed_seed` and its index in `failed_run`).
PointStats compute_point(const Plan& plan, const Point& p, uint64_t* failed_seed = nullptr,
                         int* failed_run = nullptr);

// The row's fields, formatted with fixed precision, in `plan.columns` order.
std::vector<std::string> row_fields(const Plan& plan, const Point& p, const PointStats& s);
std::string csv_line(const std::vector<std::string>& fields);
std::string jsonl_line(const Plan& plan, const std::vector<std::string>& fields);

struct Shard {
  int k = 0;
  int n = 1;
};
// "K/N" with 0 <= K < N. Throws sim::ConfigError("--shard", ...).
Shard parse_shard(const std::string& text);
// The shard from the environment: Slurm job arrays (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN
// of SLURM_ARRAY_TASK_COUNT), else a Kubernetes Indexed Job (JOB_COMPLETION_INDEX of
// ZKSIM_SHARD_COUNT). `source` says which. nullopt when neither is set. Throws on bad values.
std::optional<Shard> shard_from_env(std::string* source);
bool in_shard(size_t point, Shard s);

struct RunConfig {
  int jobs = 1;
  Shard shard;
  std::vector<std::string> outputs;  // .csv or .jsonl files; "{shard}" is replaced by K
  bool progress = false;             // a \r progress line on stderr
  bool quiet = false;                // no summary line
  std::FILE* stdout_csv = nullptr;   // when no outputs are given: stream CSV here (no resume)
};

struct RunReport {
  size_t points_total = 0;    // in this shard
  size_t points_skipped = 0;  // already present (resume)
  size_t points_done = 0;     // computed now
  int64_t runs_done = 0;
  double wall_s = 0;
};

// Runs the sweep. Returns the exit code (0, 2 bad input/refused resume, 3 internal) and writes
// messages to stderr.
int run_sweep(const Plan& plan, const RunConfig& cfg, RunReport* report = nullptr);

}  // namespace zksim::sweep
