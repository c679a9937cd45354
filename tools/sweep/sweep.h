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
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/scenario/scenario.h"
#include "sim/config.h"

namespace zksim::sweep {

// Bumped when the columns or their meaning change (part of the spec hash).
inline constexpr int kFormatVersion = 1;

// Row layout: point, points, spec_hash, shape ("20x10"), key, one column per axis, metrics.
inline constexpr size_t kAxisColumn = 5;

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

struct Spec {
  std::string scenario_path;
  std::vector<std::string> sets;  // extra overrides applied to the base scenario
  std::vector<Axis> axes;
  int runs = 20;
  std::optional<uint64_t> seed;  // default: the base scenario's seed
  std::string faults = "scenario";
};

// Reads a spec file: {"scenario": "path (relative to the spec)", "set": ["k=v"...],
// "grid": ["path=values", {"field": "path", "values": [...]} | {"field":..., "range": "a:b:c"}],
// "runs": N, "seed": S, "faults": "scenario"}. Throws sim::ConfigError naming the file and key.
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
  std::string spec_hash;  // 16 hex digits over format version, base doc, axes, runs, seed, faults
  std::vector<Point> points;
  std::vector<std::string> columns;  // CSV header fields
  double duration_s = 0;             // of the base scenario (points may override it)
};

// Loads the base scenario, builds and validates every point. Throws sim::ConfigError.
Plan make_plan(const Spec& spec);

// The seed of run `run` of point `key`.
uint64_t run_seed(uint64_t sweep_seed, const std::string& key, int run);

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

// Runs every run of point `p`. Throws sim::ConfigError / sim::InvariantError (with the seed in
// `failed_seed`).
PointStats compute_point(const Plan& plan, const Point& p, uint64_t* failed_seed = nullptr);

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
