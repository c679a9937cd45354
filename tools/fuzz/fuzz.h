// Property-based fuzzing of fault schedules (docs/fuzz.md).
//
// A campaign draws N fault schedules over a base scenario, runs each one (one world::run per
// schedule, parallel ACROSS runs), checks the properties P1..P4 on every result, and shrinks each
// failure to a minimal schedule that still breaks the same property.
//
// Determinism: run i's schedule (faults and run seed) comes only from the stream
// sim::Rng::stream(campaign_seed, "fuzz/run/<i>"); the shrinker is a deterministic greedy loop that
// runs in one thread per failure. Results are collected per run index and reported in index
// order, so the output is the same whatever the number of threads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/scenario/scenario.h"
#include "models/world/world.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace zksim::fuzz {

enum class Property { P1 = 0, P2 = 1, P3 = 2, P4 = 3 };
constexpr int kProperties = 4;

// "p1" -> P1 (case-insensitive); nullopt for anything else.
std::optional<Property> parse_property(const std::string& name);
std::string property_name(Property p);   // "P1"
std::string property_title(Property p);  // "single meta leader"

// What counts as a failure.
struct Bounds {
  // P1: a dual-leader window must last longer than this to count (0: any overlap).
  sim::Duration p1_min = sim::Duration::zero();
  // P2 / P4: a leader must serve within this long after the last fault healed.
  std::optional<sim::Duration> p2, p4;
};

// Fills unset bounds from the scenario's checks (metaLeaderWithinAfterHeal,
// zkLeaderWithinAfterHeal). Returns an error message naming what is missing for the selected
// properties, or an empty string.
std::string complete_bounds(const scenario::Scenario& base, const std::vector<Property>& props,
                            Bounds& b);

// The violation of `p` in `r`, described; nullopt if the property holds. `had_faults` says whether
// the schedule had any fault (P2 and P4 are about recovery after a heal).
std::optional<std::string> check(Property p, const world::RunResult& r, const Bounds& b,
                                 bool had_faults);

// The fault kinds the generator may draw.
const std::vector<std::string>& all_kinds();

struct GenConfig {
  std::set<std::string> kinds;           // subset of all_kinds(); empty = all
  int max_faults = 3;                    // 1..max_faults faults per schedule
  sim::Duration window_from, window_to;  // fault start times (inclusive range)
  sim::Duration min_duration = sim::Duration::ms(100);
  sim::Duration max_duration = sim::Duration::s(15);
  sim::Duration heal_by;  // every fault ends by then (leaves time to observe recovery)
  bool vary_seed = true;  // draw the run seed; else use the scenario's
  // Pauses of meta processes (meta:<host>, meta:leader). A paused meta keeps believing it leads,
  // so no local timer protects P1 against them (docs/fuzz.md); turn them off to check the
  // local-timer bound against network and ZooKeeper faults.
  bool meta_pauses = true;
  // Hosts the faults may touch (ifdown, the isolated side of a partition, one end of a cut, the
  // host of a latency/loss spike or of a paused/crashed process); empty = all. Role targets
  // (meta:leader, zk:leader) are drawn only if every host of that role is allowed.
  std::set<std::string> hosts;
};

// Defaults for a base scenario: faults start once the metas (or ZooKeeper) had time to elect a
// leader (meta.startJitter + session timeout, or 4 ticks without metas) and heal 15 s (or the
// largest bound + 5 s, at most a quarter of the run) before the end.
GenConfig default_gen_config(const scenario::Scenario& base, const Bounds& b);

// Validates a GenConfig against the scenario; returns an error message or "".
std::string validate(const GenConfig& g, const scenario::Scenario& base);

struct Schedule {
  uint64_t seed = 0;
  std::vector<scenario::FaultSpec> faults;
  bool operator==(const Schedule& o) const;
};

// One schedule drawn from `rng`.
Schedule generate(const scenario::Scenario& base, const GenConfig& g, sim::Rng& rng);

// The schedule of run `index` in a campaign.
Schedule generate_run(const scenario::Scenario& base, const GenConfig& g, uint64_t campaign_seed,
                      uint64_t index);

// Runs the base scenario with the schedule's faults and seed. `work` is a scratch copy of the base
// (its faults are overwritten), so that callers in a loop do not copy the scenario every time.
world::RunResult run_schedule(scenario::Scenario& work, const Schedule& s, bool stop_on_unsafe);

// Human-readable: "at 70.2s ifdown meta:leader for 7.1s".
std::string describe(const scenario::FaultSpec& f);
std::string describe(const Schedule& s);  // one line per fault, "  1. ..."

struct ShrinkStats {
  int runs = 0;   // world runs spent shrinking
  int steps = 0;  // accepted simplifications
};

// Greedy deterministic shrinker: repeatedly tries simpler schedules (drop a fault, simpler target,
// ifdown instead of a one-host partition, smaller seed, shorter duration, earlier start, smaller
// latency/loss) and keeps the first that still breaks `p`, until none does or `max_runs` runs
// were spent. Faults are never moved before `earliest` (the campaign passes its window start:
// before it there may be no leader yet, and P2/P4 would measure the start-up instead).
Schedule shrink(const scenario::Scenario& base, const Schedule& s, Property p, const Bounds& b,
                int max_runs, ShrinkStats* stats = nullptr,
                sim::Duration earliest = sim::Duration::zero());

// The one-step simplifications the shrinker tries from `s`, in order (exposed for tests: a
// shrunk schedule is locally minimal iff none of these fails).
std::vector<Schedule> shrink_candidates(const scenario::Scenario& base, const Schedule& s,
                                        sim::Duration earliest = sim::Duration::zero());

// A scenario document that `zksim run` replays to the violation: the base document with the
// schedule's faults and seed, checks reduced to the one that detects `p`, and a description.
nlohmann::json failing_scenario(const scenario::Scenario& base, const Schedule& s, Property p,
                                const Bounds& b, const std::string& note);

struct CampaignConfig {
  std::vector<Property> properties;
  Bounds bounds;
  GenConfig gen;
  uint64_t seed = 1;
  uint64_t runs = 1000;
  int jobs = 1;
  int shrink_per_property = 3;  // failures shrunk per property (the first ones by run index)
  int shrink_max_runs = 400;
};

struct Failure {
  uint64_t index = 0;  // run index in the campaign
  Property property = Property::P1;
  Schedule original;
  std::string violation;  // as found
  bool shrunk = false;
  Schedule minimal;
  std::string minimal_violation;
  ShrinkStats stats;
};

struct CampaignResult {
  uint64_t runs = 0;
  double wall_s = 0;                                // campaign only (not shrinking); reporting only
  double shrink_wall_s = 0;                         // reporting only
  uint64_t events = 0;                              // engine events over all campaign runs
  std::vector<uint64_t> failing_runs[kProperties];  // run indexes, ascending
  std::vector<Failure> failures;                    // shrunk or not, sorted by (property, index)
  uint64_t internal_errors = 0;  // runs that hit an invariant failure (reported, not properties)
  std::vector<std::string> internal_error_messages;  // the first few, by run index
  // Every rare-path probe (sim/probe.h) by name, with the number of campaign runs that hit it.
  std::vector<std::pair<std::string, uint64_t>> probe_runs;
};

struct Progress {
  uint64_t done = 0;
  uint64_t total = 0;
  uint64_t failures = 0;
  double elapsed_s = 0;
};

// `progress` (optional) is called from the calling thread about every 200 ms during the
// campaign; `on_failure` (optional) as each shrunk failure is ready (from worker threads,
// serialised by a lock, in completion order: write files there so long jobs lose nothing).
CampaignResult run_campaign(const scenario::Scenario& base, const CampaignConfig& c,
                            const std::function<void(const Progress&)>& progress = {},
                            const std::function<void(const Failure&)>& on_failure = {});

}  // namespace zksim::fuzz
