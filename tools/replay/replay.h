// `zksim replay`: cluster logs -> inferred faults -> simulation -> recorded vs simulated.
//
// The pipeline (docs/replay.md):
//   1. load the recorded timeline (a log folder through tools/ingest, or a timeline.json);
//   2. build the configuration (a scenario JSON or zoo.cfg given with --config, a zoo.cfg found in
//      the folder, "tickTime set to" lines of the ZooKeeper logs, defaults; then --base-set);
//   3. infer the faults from the log lines (each fault carries an `evidence` list of file:line);
//   4. simulate the inferred scenario, calibrate fault times against anchor lines, re-simulate;
//   5. align recorded and simulated key events, compare metrics; optionally the counterfactual
//      (--set) against the same faults.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/ingest/timeline.h"

namespace zksim::replay {

// Bad input (missing folder, binary file, truncated line, unknown time zone, bad config): the CLI
// prints it and exits 2.
struct ReplayError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::string input;                   // LOGDIR or timeline.json
  std::string config;                  // scenario JSON or zoo.cfg (optional)
  std::vector<std::string> base_sets;  // overrides of the baseline configuration
  std::vector<std::string> sets;       // counterfactual overrides (--set)
  std::string out;                     // output folder ("" = no files)
  // Zone of the lines without one; "": the scenario's logs.tz, the run record's, the one zone the
  // GC logs stamp, else UTC.
  std::string tz;
  std::optional<int> year;               // glog year
  std::optional<uint64_t> seed;          // simulation seed (default: run record, config, 1)
  std::string faults = "logs";           // logs | record | <scenario.json with faults>
  int64_t tolerance_ns = 1'000'000'000;  // alignment window
  int calibrate_iterations = 4;
  int fit_steps = 20;  // candidates per bounded fault time (0 = no fitting)
  // Fitting simulates a fault's candidates up to this long after the fault's last possible time.
  int64_t fit_horizon_ns = 300'000'000'000;
  // Threads simulating fitting candidates (each run stays single-threaded); the result does not
  // depend on it.
  int jobs = 1;
  // Called with a one-line status while fitting (the CLI shows it on a terminal).
  std::function<void(const std::string&)> progress;
  bool lenient = false;  // accept binary files and damaged lines (noted) instead of exit 2
};

// One key event, the unit of comparison.
struct KeyEvent {
  int64_t t_ns = 0;   // UTC ns
  std::string node;   // "zk:3", "meta:node2"
  std::string type;   // "state", "broadcast", "follower_exception", "meta_role", ...
  std::string state;  // "looking", "leader", "CONNECTING_STATE", ...
  std::string where;  // "node1/zookeeper.log:123"
  std::string key() const { return node + " " + type + (state.empty() ? "" : " " + state); }
};

// With `servers`, also each meta client's server per established session (type
// "client_server", state the server's address): replay's fitting scores on these too, so a heal
// time that lands a client on another server than recorded scores worse (the report does not
// list them).
std::vector<KeyEvent> key_events(const ingest::Timeline& tl, bool servers = false);

struct Match {
  std::string key;
  std::optional<int64_t> recorded_ns, simulated_ns;  // both set: matched
  std::string where;
};

// Aligns two key-event lists: per (node, type, state), in time order, pairs closer than `tol`.
std::vector<Match> align(const std::vector<KeyEvent>& rec, const std::vector<KeyEvent>& sim,
                         int64_t tol_ns);

// Metrics computed from a timeline (the same way for recorded and simulated logs).
nlohmann::json log_metrics(const ingest::Timeline& tl);

// Loads a log folder or a zksim.timeline/1 JSON. Throws ReplayError.
ingest::Timeline load_timeline(const std::string& input, const std::string& tz,
                               std::optional<int> year, bool lenient);

struct InferredFault {
  nlohmann::json fault;           // scenario fault object (kind, target/host, evidence, comment)
  int64_t at_ns = 0;              // sim time of the fault (relative to logs.epoch)
  std::optional<int64_t> end_ns;  // sim time of its end (heal, resume, restart)
  std::string end_key = "for";    // "for" or "restartAfter"
  bool from_startup = false;      // a (re)start read from a startup line: kept by later rules
  // Windows the evidence allows (sim time); when set, replay fits the time inside the window by
  // simulating candidates and keeping the one whose key events match the recording best.
  std::optional<std::pair<int64_t, int64_t>> at_window, end_window;
  nlohmann::json render() const;  // fault with "at" and end_key filled in
  struct Anchor {
    std::string field;  // "at" or "end": which time the anchor pins
    KeyEvent event;     // the recorded line whose simulated twin must land at the same time
  };
  std::vector<Anchor> anchors;
  // Network faults: the host pairs whose loss of contact the fault explains (a flaky link shows
  // as a series of short one-pair stalls, which replay folds into one loss fault).
  std::vector<std::pair<std::string, std::string>> lost_pairs;
  // A numeric field the evidence does not pin (a loss rate): replay simulates each candidate and
  // keeps the best-matching one.
  std::string fit_param;
  std::vector<double> fit_values;
};

// Fault inference from the recorded timeline; `doc` is the scenario being built (tick, syncLimit,
// peers, logs.epoch). Times in the faults are relative to logs.epoch.
std::vector<InferredFault> infer_faults(const ingest::Timeline& tl, const nlohmann::json& doc,
                                        int64_t epoch_ns);

// The whole command. Returns the report JSON; writes files to opt.out when set. Throws ReplayError.
nlohmann::json replay(const Options& opt, std::string* text_report);

}  // namespace zksim::replay
