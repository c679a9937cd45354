// Scenario files: what to simulate (ensemble, metas, network, GC, faults) and what to check.
//
// A scenario is JSON with durations as strings with units (ARCHITECTURE.md). Loading validates
// everything up front: an unknown key or a bad value is a sim::ConfigError naming the file and
// the key path (`faults[1].for`), and the CLI exits with code 2. `--set path=value` overrides are
// applied to the JSON document before validation, so they get the same checks.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace scenario {

struct HostSpec {
  std::string name;
  std::string address;  // shown in logs; defaults to the name
};

struct ZkSpec {
  sim::Duration tick = sim::Duration::s(2);
  int init_limit = 10;
  int sync_limit = 5;
  sim::Duration min_session_timeout;  // zero: 2 * tick
  sim::Duration max_session_timeout;  // zero: 20 * tick
  double write_rate_per_s = 0;
  std::string version = "3.9.3";
  struct Peer {
    int id;
    std::string host;
  };
  std::vector<Peer> peers;
};

struct MetaSpec {
  bool enabled = false;
  sim::Duration session_timeout = sim::Duration::s(6);  // requested by the client
  sim::Duration local_timer = sim::Duration::ms(3600);
  sim::Duration rejoin_delay = sim::Duration::s(1);
  std::vector<std::string> hosts;
  bool double_advance = true;  // ZOOKEEPER-2466 in the 3.5+ C client
  bool old_34_client = false;  // pre-3.5 C client (44-byte ConnectRequest)
  std::string election_path = "/zbs/meta/election";
  // Each meta starts at a uniform random instant in [0, start_jitter) (stream
  // "world/start/<name>"), so its pings fall at a different phase of ZooKeeper's tick buckets in
  // every seed: outcomes that hinge on timer phases vary across seeds as they do across real
  // incidents.
  sim::Duration start_jitter = sim::Duration::s(4);
  // Metas with a known start instant (host -> simulated time), e.g. read by `zksim replay` from
  // each meta's first QuorumCluster line; they draw nothing from start_jitter.
  std::map<std::string, sim::Duration> start_at;
};

struct GcSpec {
  bool enabled = false;
  std::string model_file;  // a gc-model.json from `zksim gcfit`, resolved against the scenario dir
  sim::Dist pause;         // inline (seconds); with a model file, overrides the model's durations
  sim::Dist interval;      // start-to-start gap (seconds); with a model file, overrides its gaps
  bool has_pause = false;  // `pause` given inline
  bool has_interval = false;
};

struct DetectorSpec {
  bool enabled = false;
  sim::Duration interval = sim::Duration::ms(300);
  sim::Duration rpc_timeout = sim::Duration::s(1);
};

struct FaultSpec {
  std::string kind;  // ifdown, partition, cut, latency, loss, pause, crash, restart
  sim::Duration at;
  std::optional<sim::Duration> duration;  // "for"
  std::string target;  // process or role: zk:3, meta:node2, zk:leader, meta:leader
  std::string host;    // ifdown
  std::vector<std::vector<std::string>> groups;  // partition
  std::string from, to;                          // cut, latency, loss (host names; "*" = all)
  bool reject = false;  // partition/cut: ICMP unreachable instead of silence
  bool both = false;    // cut: also to -> from (one pair of hosts apart, the rest connected)
  // partition/cut: only connections opened to this server port (0: all traffic). A firewall rule
  // on one port, e.g. ZooKeeper's quorum port broken while its election port works.
  uint16_t port = 0;
  sim::Duration extra_latency;
  double loss = 0;
  std::optional<sim::Duration> restart_after;  // crash
  nlohmann::json evidence;                     // replay: where the fault was inferred from
  std::string comment;
};

struct Checks {
  std::optional<int> max_meta_leaders;
  std::optional<sim::Duration> max_dual_leader;
  std::optional<sim::Duration> max_meta_unavailable;
  std::optional<sim::Duration> max_zk_unavailable;
  std::optional<sim::Duration> meta_leader_within_after_heal;
  std::optional<sim::Duration> zk_leader_within_after_heal;
};

struct Scenario {
  std::string file;  // where it was loaded from (for messages); empty for built-in ones
  std::string dir;   // relative paths (GC models) resolve against this
  std::string name;
  std::string description;
  uint64_t seed = 1;
  sim::Duration duration = sim::Duration::s(60);
  std::vector<HostSpec> hosts;
  sim::Dist latency = sim::Dist::constant(100e-6);
  double loss = 0;
  ZkSpec zk;
  MetaSpec meta;
  GcSpec gc_zk;
  DetectorSpec detector;
  std::vector<FaultSpec> faults;
  Checks checks;
  int64_t wall_epoch_ns = 0;  // logs: wall-clock time of t=0 (UTC ns)
  int64_t tz_offset_s = 0;    // logs: local time zone
  nlohmann::json doc;         // the validated document, after overrides

  const HostSpec* find_host(const std::string& name) const;
};

// Applies one "path=value" override (value parsed as JSON, else taken as a string). Paths are
// dotted with numeric array indexes: zk.tickTime, faults.0.for, faults[0].for.
void apply_override(nlohmann::json& doc, const std::string& assignment);

// Validates a document. `file` is only used in messages. Throws sim::ConfigError.
Scenario from_json(const nlohmann::json& doc, const std::string& file, const std::string& dir);

// Reads, overrides, validates. Errors name the file (and line for JSON syntax errors).
Scenario load(const std::string& path, const std::vector<std::string>& overrides = {});

// The `zksim run` command line that reruns `path` with `seed` and the given overrides, each word
// quoted for a POSIX shell when it needs it: what a run or sweep prints after "reproduce:".
std::string run_command(const std::string& path, uint64_t seed,
                        const std::vector<std::string>& overrides = {});

// Renders a scenario back to JSON (used by fuzz and replay to write replayable files).
nlohmann::json fault_to_json(const FaultSpec& f);

}  // namespace scenario
