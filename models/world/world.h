// The world: one scenario + one seed -> one simulated run (ARCHITECTURE.md data flow).
//
// Builds the hosts and links, the ZooKeeper peers, the meta servers with their ZooKeeper
// clients, the detector, GC processes and the nemesis; runs the engine to the scenario's end;
// and returns metrics, check violations and the trace hash. Runs are independent, so fuzz and
// sweep parallelise across runs, never inside one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/checks/checks.h"
#include "models/scenario/scenario.h"
#include "sim/probe.h"
#include "sim/trace.h"

namespace world {

struct RunOptions {
  std::optional<uint64_t> seed;  // overrides the scenario's seed
  std::string trace_path;        // JSONL
  std::string perfetto_path;     // Chrome/Perfetto trace JSON
  std::string logs_dir;          // ZooKeeper and glog logs per host
  bool messages = false;         // trace every network message (flow arrows)
  bool keep_records = false;     // keep every record in RunResult::records
  // Stop at the first ZooKeeper safety violation (fuzzing) instead of running to the end.
  bool stop_on_unsafe = false;
  // Compute the trace hash (RunResult::trace_hash; empty when off). Fuzz and sweep campaigns,
  // which never report a run's hash, turn it off: rendering every record costs ~20% of a run.
  bool hash = true;
  // Run the scenario's detector. It is a pure observer (its RPC takes the management network:
  // no random draws, no state changed in the metas it polls), so without it every other record
  // is identical (tests/models/scenario_test.cc checks this); only its matrix records and logs
  // are missing. Fuzz and sweep campaigns, which read metrics and violations only, turn it off:
  // its polling is ~40% of a run's events. (No fault can aim at it: the scenario loader
  // accepts only ZooKeeper and meta targets and the scenario's own hosts.)
  bool detector = true;
  std::vector<sim::Sink*> extra_sinks;
};

struct RunResult {
  uint64_t seed = 0;
  std::string trace_hash;
  uint64_t events = 0;   // engine events processed
  uint64_t records = 0;  // trace records
  sim::Duration sim_time;
  double wall_ms = 0;
  checks::Metrics metrics;
  std::vector<std::string> violations;
  std::vector<sim::Record> records_kept;
  sim::Time last_heal;
  sim::ProbeCounts probes;  // rare paths taken (sim/probe.h)
};

// Throws sim::ConfigError for problems only found while building (e.g. an unreadable GC model).
RunResult run(const scenario::Scenario& sc, const RunOptions& opt);

// The `--json` contract (foundation issue): seed, trace_hash, events, sim_time_ms, wall_ms,
// metrics.{meta,zk}..., violations.
nlohmann::json to_json(const RunResult& r);

}  // namespace world
