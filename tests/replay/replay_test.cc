// zksim replay: round trip over every bundled scenario, bad inputs, real ZooKeeper 3.8 logs.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "models/scenario/scenario.h"
#include "models/world/world.h"
#include "sim/config.h"
#include "sim/time.h"
#include "tools/ingest/ingest.h"
#include "tools/replay/replay.h"

namespace fs = std::filesystem;
using nlohmann::json;
using zksim::replay::Options;
using zksim::replay::ReplayError;

namespace {

fs::path tmp(const std::string& name) {
  fs::path p = fs::path(ZKSIM_BINARY_DIR) / "tests" / "replay-tmp" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::vector<std::string> bundled() {
  std::vector<std::string> out;
  for (const char* d : {"scenarios", "scenarios/zk", "scenarios/fuzz"}) {
    for (const auto& e : fs::directory_iterator(fs::path(ZKSIM_SOURCE_DIR) / d))
      if (e.path().extension() == ".json") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Scenarios whose faults the logs pin down well enough for an exact re-simulation (docs/replay.md
// "What is inferable"): all but incident-2025-07-20, whose second fault is 20 minutes of random
// packet loss (which packets were lost is not in the logs; see ReplayIncident2025 below).
bool inferable(const std::string& path) {
  return fs::path(path).stem().string() != "incident-2025-07-20";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string test_data(const std::string& name) {
  return std::string(ZKSIM_SOURCE_DIR) + "/tests/replay/data/" + name;
}
std::string bundled_scenario(const std::string& name) {
  return std::string(ZKSIM_SOURCE_DIR) + "/scenarios/" + name;
}

int64_t ns_of(const json& d) {
  std::string err;
  auto v = sim::parse_duration(d.get<std::string>(), &err);
  EXPECT_TRUE(v.has_value()) << d << ": " << err;
  return v ? v->count_ns() : 0;
}

struct RoundTrip {
  world::RunResult original;
  json report;
};

// `with_config`: replay with --config the scenario (else the configuration comes from the folder).
RoundTrip round_trip(const std::string& scenario_path, const std::string& faults,
                     bool with_config = true) {
  scenario::Scenario sc = scenario::load(scenario_path);
  fs::path logs = tmp(fs::path(scenario_path).stem().string() + "-" + faults +
                      (with_config ? "" : "-noconfig"));
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  RoundTrip rt;
  rt.original = world::run(sc, ro);
  Options o;
  o.input = logs.string();
  if (with_config) o.config = scenario_path;
  o.faults = faults;
  rt.report = zksim::replay::replay(o, nullptr);
  return rt;
}

// The 2022 ifdown scenario with another duration and faults, written to a scratch folder (it
// refers to no file by relative path, so it loads from there); returns its path.
std::string ifdown_2022_variant(const std::string& name, const std::string& duration,
                                const json& faults) {
  json d = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "scenario");
  d["duration"] = duration;
  d["faults"] = faults;
  fs::path dir = tmp(name);
  fs::create_directories(dir);
  std::string path = (dir / (name + ".json")).string();
  std::ofstream(path) << d.dump(1);
  return path;
}

// Runs a scenario with its logs written to a scratch folder `name`; returns the folder.
fs::path run_to_logs(const std::string& scenario_path, const std::string& name) {
  fs::path logs = tmp(name);
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  world::run(scenario::load(scenario_path), ro);
  return logs;
}

// Exact round trip of an inferred scenario: every key event within 1 ms, nothing missing or extra,
// the same metrics from the logs and from the simulator.
void expect_exact(const RoundTrip& rt) {
  const json& b = rt.report["baseline"];
  EXPECT_GE(b["matched"].get<int>(), 9);  // not vacuous: zk3 (3 peers, no metas) has the fewest
  EXPECT_EQ(b["missing"].get<int>(), 0);
  EXPECT_EQ(b["extra"].get<int>(), 0);
  EXPECT_LE(b["max_abs_delta_ms"].get<double>(), 1.0);
  EXPECT_EQ(rt.report["metrics"]["recorded_logs"], rt.report["metrics"]["baseline_logs"]);
  json orig = world::to_json(rt.original)["metrics"];
  const json& sim = rt.report["metrics"]["baseline_run"];
  EXPECT_EQ(orig["meta"]["dual_leader"]["count"], sim["meta"]["dual_leader"]["count"]);
  EXPECT_EQ(orig["meta"]["dual_leader"]["total_ms"], sim["meta"]["dual_leader"]["total_ms"]);
  EXPECT_EQ(orig["meta"]["leader_changes"], sim["meta"]["leader_changes"]);
  EXPECT_EQ(orig["meta"]["stops"], sim["meta"]["stops"]);
  EXPECT_EQ(orig["zk"]["elections"], sim["zk"]["elections"]);
  EXPECT_EQ(orig["zk"]["follower_exceptions"], sim["zk"]["follower_exceptions"]);
  EXPECT_EQ(orig["zk"]["session_expirations"], sim["zk"]["session_expirations"]);
}

std::vector<std::string> whats(const json& fault) {
  std::vector<std::string> out;
  for (const auto& e : fault["evidence"]) out.push_back(e.value("what", ""));
  return out;
}
bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

// One test per bundled scenario (ctest runs them in parallel; under the sanitizers the longest,
// incident-2025-07-20-pair2888 with its 23 minutes and 998 key events, would otherwise hold the
// whole loop).
class ReplayRoundTripEach : public ::testing::TestWithParam<std::string> {};

TEST_P(ReplayRoundTripEach, InferredFaultsReproduceKeyEventsWithin1ms) {
  const std::string s = GetParam();
  RoundTrip rt = round_trip(s, "logs");
  // Key events within 1 ms; metrics computed from the logs are equal; the simulator's own
  // counts are equal too.
  expect_exact(rt);
  if (fs::path(s).stem() == "incident-2025-07-20-port2888") {
    // The quorum port of .153 black-holed from 120.5 s to 1380 s: one port fault (besides the
    // GC log's pauses), not a whole-host partition and a string of leader "isolations".
    std::vector<json> net;
    for (const auto& f : rt.report["scenario"]["faults"])
      if (f["kind"] != "pause") net.push_back(f);
    ASSERT_EQ(net.size(), 1u) << rt.report["scenario"]["faults"].dump(1);
    EXPECT_EQ(net[0]["kind"], "partition");
    EXPECT_EQ(net[0]["host"], "n153");
    EXPECT_EQ(net[0]["port"], 2888);
    EXPECT_FALSE(net[0].contains("groups"));
    int64_t at = ns_of(net[0]["at"]), end = at + ns_of(net[0]["for"]);
    EXPECT_GT(at, 119'980'000'000);  // after the followers' last ping, before the next
    EXPECT_LT(at, 120'980'000'000);
    EXPECT_GT(end, 1'377'837'000'000);  // after zk:5's last hanging connect began
    EXPECT_LT(end, 1'380'861'000'000);  // before zk:5 reached broadcast again
    auto w = whats(net[0]);
    EXPECT_TRUE(any_contains(w,
                             "zk:1 elected the leader on n153 (election port reachable) but "
                             "its connect to n153:2888 hung"));
    EXPECT_TRUE(any_contains(w, "zk:5 elected the leader on n148"));
    EXPECT_TRUE(any_contains(w, "zk:5 in broadcast again"));
  }
  if (fs::path(s).stem() == "incident-2025-07-20-pair2888") {
    // Port 2888 cut between .152 and .153 only (120.5 s to 1380 s), the leader zk:5 stalled for
    // 3.3 s at 120.75 s, zk:5 killed at 1383 s and restarted 10 s later: besides the GC log's
    // pauses, one pause, one two-way port cut between the pair, one crash with its restart.
    std::vector<json> other;
    for (const auto& f : rt.report["scenario"]["faults"])
      if (!(f["kind"] == "pause" &&
            f["comment"].get<std::string>().find("GC pause") != std::string::npos))
        other.push_back(f);
    ASSERT_EQ(other.size(), 3u) << json(other).dump(1);
    EXPECT_EQ(other[0]["kind"], "pause");
    EXPECT_EQ(other[0]["target"], "zk:5");
    int64_t p_at = ns_of(other[0]["at"]), p_end = p_at + ns_of(other[0]["for"]);
    EXPECT_GE(p_at, 119'980'000'000);  // after the followers' last ping, before the next
    EXPECT_LT(p_at, 120'980'000'000);
    EXPECT_EQ(p_end, 124'050'000'000);  // the handlers all failed at once on resuming
    EXPECT_TRUE(any_contains(whats(other[0]), "the leader resumed"));
    EXPECT_EQ(other[1]["kind"], "cut");
    EXPECT_EQ(other[1]["port"], 2888);
    EXPECT_EQ(other[1]["both"], true);
    std::set<std::string> pair{other[1]["from"].get<std::string>(),
                               other[1]["to"].get<std::string>()};
    EXPECT_EQ(pair, (std::set<std::string>{"n152", "n153"}));
    int64_t c_end = ns_of(other[1]["at"]) + ns_of(other[1]["for"]);
    EXPECT_GT(c_end, 1'370'000'000'000);
    EXPECT_LT(c_end, 1'383'000'000'000);
    EXPECT_TRUE(any_contains(whats(other[1]), "its connect to n152:2888 hung"));
    EXPECT_EQ(other[2]["kind"], "crash");
    EXPECT_EQ(other[2]["target"], "zk:5");
    EXPECT_EQ(ns_of(other[2]["at"]), 1'383'000'000'000);  // its leader's handler read EOF
    EXPECT_TRUE(other[2].contains("restartAfter"));
  }
}

INSTANTIATE_TEST_SUITE_P(Bundled, ReplayRoundTripEach, ::testing::ValuesIn([] {
                           std::vector<std::string> v;
                           for (const auto& s : bundled())
                             if (inferable(s)) v.push_back(s);
                           return v;
                         }()),
                         [](const auto& info) {
                           std::string n = fs::path(info.param).parent_path().filename().string() +
                                           "_" + fs::path(info.param).stem().string();
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(ReplayRoundTrip, EveryBundledScenarioButTheRandomLossOneIsInTheRoundTrip) {
  // Partitions and the port faults included.
  int inferable_count = 0, all = 0;
  for (const std::string& s : bundled()) {
    ++all;
    inferable_count += inferable(s);
  }
  EXPECT_EQ(all - inferable_count, 1);
  EXPECT_GE(inferable_count, 21);  // 2 seed incidents + port2888 + pair2888 + 9 ZooKeeper + 8 fuzz
}

// ---- a quorum-port fault ---------------------------------------------------------------------

TEST(ReplayPortFault, LeaderQuorumPortIsAPortFaultNotAPartition) {
  // The leader's host loses port 2888 both ways from 20 s to 45 s: the followers re-elect zk:5
  // over the election port and hang connecting to node5:2888 until the heal.
  RoundTrip rt = round_trip(test_data("leader-quorum-port.json"), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 1u) << f.dump(1);
  EXPECT_EQ(f[0]["kind"], "partition");
  EXPECT_EQ(f[0]["host"], "node5");
  EXPECT_EQ(f[0]["port"], 2888);
  EXPECT_FALSE(f[0].contains("groups"));
  // Start: after the followers' last ping (10 s before their read timeouts at 29.979 s), before
  // the next one; end: after their connects began (30.0 s), before zk:5 is in broadcast again.
  int64_t at = ns_of(f[0]["at"]), end = at + ns_of(f[0]["for"]);
  EXPECT_GT(at, 19'979'000'000);
  EXPECT_LT(at, 20'979'000'000);
  EXPECT_GT(end, 30'000'000'000);
  EXPECT_LT(end, 45'500'000'000);
  auto w = whats(f[0]);
  EXPECT_TRUE(any_contains(w, "read timeout on leader zk:5"));
  EXPECT_TRUE(any_contains(w, "its connect to node5:2888 hung"));
  EXPECT_TRUE(any_contains(w, "zk:5 in broadcast again"));
  expect_exact(rt);
}

// ---- one outage read once ----------------------------------------------------------------------

// A longer ifdown of the meta leader's host (9 s, 12 s): after it, TCP's back-off also keeps the
// follower on that host from its leader past syncLimit*tickTime, and the ZooKeeper-side rules read
// that timeout as a second fault (a one-way cut and a second, shorter ifdown: three faults for one
// outage). The host was down (its meta client's ENETUNREACH): its follower's timeout is explained.
TEST(ReplayOneOutage, AFollowerOnTheDownedHostAddsNoFaultOfItsOwn) {
  for (const char* len : {"9s", "12s"}) {
    SCOPED_TRACE(len);
    json one = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "s")["faults"][0];
    one["for"] = len;
    RoundTrip rt = round_trip(
        ifdown_2022_variant(std::string("one-outage-") + len, "300s", json::array({one})), "logs");
    const json& f = rt.report["scenario"]["faults"];
    ASSERT_EQ(f.size(), 1u) << f.dump(1);
    EXPECT_EQ(f[0]["kind"], "ifdown");
    EXPECT_EQ(f[0]["host"], "node2");
    // The run brings the interface back at 70 s + `for`: the inferred end within a second of it.
    int64_t end = ns_of(f[0]["at"]) + ns_of(f[0]["for"]);
    EXPECT_NEAR(static_cast<double>(end), 70e9 + static_cast<double>(ns_of(json(len))), 1e9);
    expect_exact(rt);
  }
}

// ---- a meta process killed ----------------------------------------------------------------------

// zbs-metad killed on the meta leader's host and started again 20 s (or 3 s) later: nothing logs
// the kill, but the new process's QuorumCluster starts from Stopped while the old one's last state
// was Running (a meta that stops itself logs "--> Stopped" first), and the ZooKeeper leader expires
// the old session one session timeout after the kill. Before this rule replay inferred no fault and
// missed 4 of 21 key events.
TEST(ReplayMetaRestart, KilledMetaIsReadFromItsFreshStartAndTheExpiryOfItsSession) {
  for (const char* after : {"20s", "3s"}) {
    SCOPED_TRACE(after);
    json faults = json::array({json{
        {"at", "70s"}, {"kind", "crash"}, {"target", "meta:leader"}, {"restartAfter", after}}});
    RoundTrip rt = round_trip(
        ifdown_2022_variant(std::string("meta-restart-") + after, "150s", faults), "logs");
    const json& f = rt.report["scenario"]["faults"];
    ASSERT_EQ(f.size(), 1u) << f.dump(1);
    EXPECT_EQ(f[0]["kind"], "crash");
    EXPECT_EQ(f[0]["target"], "meta:node2");  // the meta leader at 70 s
    int64_t at = ns_of(f[0]["at"]);
    int64_t restart = at + ns_of(f[0]["restartAfter"]);
    int64_t want = 70'000'000'000 + ns_of(json(after));
    // The restart is its first line (to the microsecond); the kill within the tick-wide window
    // the session's expiry leaves (6 s session, 2 s tick).
    EXPECT_LE(std::abs(restart - want), 1'000'000) << restart;
    EXPECT_GE(at, 67'000'000'000);
    EXPECT_LE(at, 71'000'000'000);
    auto w = whats(f[0]);
    EXPECT_TRUE(any_contains(w, "starts from Stopped: a new process"));
    EXPECT_TRUE(any_contains(w, "expired the session the killed process had"));
    expect_exact(rt);
  }
}

// A killed meta on the ZooKeeper leader's host whose client sat on a follower: the leader expires
// its session while nothing on that host says the client went away (the process is dead), and the
// client's next state change comes only with a later fault (here an ifdown of that host at 180 s).
// The session rule read that as a client "still connected" to a follower the leader missed, and,
// the client being on the leader's host, as a pause of the leader (5 of seeds 1..6, read without a
// configuration). A client counts as still connected only if the follower closed it within
// syncLimit*tickTime of the expiry and its meta did not start anew.
TEST(ReplayMetaRestart, KilledMetaOnTheLeadersHostIsNotAPauseOfItsZooKeeper) {
  json iso = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "s")["faults"][0];
  iso["at"] = "180s";
  iso["target"] = "meta:node3";
  json faults = json::array(
      {json{{"at", "100s"}, {"kind", "crash"}, {"target", "meta:node3"}, {"restartAfter", "20s"}},
       iso});
  std::string path = ifdown_2022_variant("meta-kill-on-leader-host", "250s", faults);
  fs::path logs = run_to_logs(path, "meta-kill-on-leader-host-logs");
  Options o;
  o.input = logs.string();  // no --config
  json r = zksim::replay::replay(o, nullptr);
  const json& f = r["scenario"]["faults"];
  ASSERT_EQ(f.size(), 2u) << f.dump(1);
  EXPECT_EQ(f[0]["kind"], "crash");
  EXPECT_EQ(f[0]["target"], "meta:node3");
  EXPECT_EQ(f[1]["kind"], "ifdown");
  EXPECT_EQ(f[1]["host"], "node3");
  EXPECT_EQ(r["baseline"]["missing"].get<int>(), 0);
  EXPECT_EQ(r["baseline"]["extra"].get<int>(), 0);
  EXPECT_GE(r["baseline"]["matched"].get<int>(), 35);
}

// ---- long folders ----------------------------------------------------------------------------

// An hour of logs with four isolations 15 minutes apart (the 2022 ifdown, repeated). Replay fits a
// fault's candidates by simulating only up to 5 minutes past its windows and skips the faults whose
// stretch already matches, and still reproduces every key event exactly. (Before, each candidate
// simulated the whole hour: 32 s for this folder against 0.5 s, more with every fault added.)
TEST(ReplayLongFolder, CandidatesStopAtTheirHorizonAndExactStretchesAreNotSearched) {
  json one = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "s")["faults"][0];
  json faults = json::array();
  for (const char* at : {"70s", "970s", "1870s", "2770s"}) {
    one["at"] = at;
    faults.push_back(one);
  }
  RoundTrip rt = round_trip(ifdown_2022_variant("long-folder", "3600s", faults), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 4u) << f.dump(1);
  for (const auto& x : f) EXPECT_EQ(x["kind"], "ifdown");
  const json& fit = rt.report["fit"];
  ASSERT_TRUE(fit.is_object());
  int sims = fit["simulations"].get<int>();
  double simulated = fit["simulated_s"].get<double>();
  EXPECT_GT(sims, 20);
  // Whole-hour runs only at the end of each round; candidates run 6 to 57 minutes.
  EXPECT_LT(simulated, 0.5 * sims * 3600);
  EXPECT_GE(fit["fault_searches_skipped_exact"].get<int>(), 1);
  EXPECT_GE(fit["fault_searches"].get<int>(), 1);
  EXPECT_EQ(fit["horizon_s"].get<double>(), 300.0);
  expect_exact(rt);
}

// Fitting candidates are simulated --jobs at a time and taken in order: the fit, the inferred
// times and the comparison are the same with 1 thread and with 3 (batches of 3 split the grids
// unevenly, and an exact candidate ends a search in the middle of a batch).
TEST(ReplayJobs, TheFitDoesNotDependOnTheNumberOfThreads) {
  json one = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "s")["faults"][0];
  json faults = json::array();
  for (const char* at : {"70s", "430s"}) {
    one["at"] = at;
    faults.push_back(one);
  }
  std::string s = ifdown_2022_variant("jobs", "800s", faults);
  fs::path logs = run_to_logs(s, "jobs-logs");
  std::vector<json> reports;
  for (int jobs : {1, 3}) {
    Options o;
    o.input = logs.string();
    o.jobs = jobs;
    o.fit_steps = 6;  // fewer candidates (a third of the time under the sanitizers), same logic
    reports.push_back(zksim::replay::replay(o, nullptr));
  }
  const json& fit = reports[0]["fit"];
  ASSERT_TRUE(fit.is_object());
  EXPECT_GE(fit["fault_searches"].get<int>(), 1);
  EXPECT_GT(fit["simulations"].get<int>(), 20);
  for (const char* k : {"fit", "calibration", "scenario", "baseline", "metrics"})
    EXPECT_EQ(reports[0][k], reports[1][k]) << k;
  EXPECT_EQ(reports[0]["scenario"]["faults"].size(), 2u);
}

// A fault's search looks only up to its horizon; a time that matches that stretch better can still
// spoil what comes after it. With a 5 s horizon, the isolation at 3900 s (fault 6) is fitted to a
// time whose timeline is worse by the next fault's horizon (an extra key event there): the fit
// puts it back, and the whole run matches exactly (139 key events, none missing or extra; without
// the look-ahead one is extra).
TEST(ReplayLongFolder, AFittedTimeThatSpoilsTheNextStretchIsPutBack) {
  json one = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "s")["faults"][0];
  json faults = json::array();
  for (int i = 0; i < 8; ++i) {
    std::string at = std::to_string(300 + i * 600) + "s";
    if (i % 3 == 0) {
      json f = one;
      f["at"] = at;
      faults.push_back(f);
    } else if (i % 3 == 1) {
      faults.push_back({{"at", at}, {"kind", "pause"}, {"target", "zk:leader"}, {"for", "7s"}});
    } else {
      faults.push_back(
          {{"at", at}, {"kind", "crash"}, {"target", "meta:leader"}, {"restartAfter", "20s"}});
    }
  }
  std::string s = ifdown_2022_variant("lookahead", "4860s", faults);
  fs::path logs = run_to_logs(s, "lookahead-logs");
  Options o;
  o.input = logs.string();
  o.fit_horizon_ns = 5'000'000'000;
  o.fit_steps = 6;
  json r = zksim::replay::replay(o, nullptr);
  ASSERT_EQ(r["scenario"]["faults"].size(), 8u) << r["scenario"]["faults"].dump(1);
  EXPECT_GE(r["fit"]["fault_fits_reverted"].get<int>(), 1);
  bool put_back = false;
  for (const auto& c : r["calibration"])
    put_back |=
        c.value("reverted", false) && c["fault"] == 6 && c["worse_by_the_horizon_of_fault"] == 7;
  EXPECT_TRUE(put_back) << r["calibration"].dump(1);
  EXPECT_EQ(r["baseline"]["matched"].get<int>(), 139);
  EXPECT_EQ(r["baseline"]["missing"].get<int>(), 0);
  EXPECT_EQ(r["baseline"]["extra"].get<int>(), 0);
}

// ---- partitions, one-way cuts, chained faults
// -------------------------------------------------------

TEST(ReplayPartition, MinorityIsTheFewestGroupsTheEvidenceAllows) {
  RoundTrip rt = round_trip(bundled_scenario("zk/partition-minority.json"), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 1u) << f.dump(1);
  EXPECT_EQ(f[0]["kind"], "partition");
  EXPECT_EQ(f[0]["groups"], json::parse(R"([["node1","node2","node3"],["node4","node5"]])"));
  // Start: after the last ping the followers got (10 s before their read timeouts at 29.979 s)
  // and before the next one; end: before zk:4 joins zk:3 at 43.612 s. (The run's: 20 s and 40 s.)
  int64_t at = ns_of(f[0]["at"]), end = at + ns_of(f[0]["for"]);
  EXPECT_GT(at, 19'979'000'000);
  EXPECT_LT(at, 20'979'000'000);
  EXPECT_GT(end, 30'979'000'000);
  EXPECT_LT(end, 43'612'000'000);
  auto w = whats(f[0]);
  EXPECT_TRUE(any_contains(w, "only synced with sids: [ [4, 5] ]"));  // 4 still heard 5
  EXPECT_TRUE(any_contains(w, "zk:4 stayed LOOKING"));                // 4 could not reach 3
  EXPECT_TRUE(any_contains(w, "formed a quorum with sids [[1, 2, 3]]"));
  EXPECT_TRUE(any_contains(w, "read timeout on leader zk:5"));
  expect_exact(rt);
}

TEST(ReplayPartition, NoQuorumSplitsTheLookingPeersByLockstepTimeouts) {
  RoundTrip rt = round_trip(bundled_scenario("zk/partition-no-quorum.json"), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 1u) << f.dump(1);
  EXPECT_EQ(f[0]["kind"], "partition");
  // zk:5 lost everyone; nobody elected for 25 s (no group holds 3 of 5); zk:1/zk:2 and zk:3/zk:4
  // time out in lockstep while LOOKING, so they talk: the only 3-group split consistent.
  EXPECT_EQ(f[0]["groups"], json::parse(R"([["node1","node2"],["node3","node4"],["node5"]])"));
  auto w = whats(f[0]);
  EXPECT_TRUE(any_contains(w, "zk:1 and zk:2 time out in lockstep"));
  EXPECT_TRUE(any_contains(w, "zk:3 and zk:4 time out in lockstep"));
  EXPECT_TRUE(any_contains(w, "no group held a quorum"));
  expect_exact(rt);
}

TEST(ReplayOneWayCut, FollowerToLeaderIsACutNotAPartition) {
  RoundTrip rt = round_trip(test_data("cut-follower-to-leader.json"), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 1u) << f.dump(1);
  EXPECT_EQ(f[0]["kind"], "cut");
  EXPECT_EQ(f[0]["from"], "node1");
  EXPECT_EQ(f[0]["to"], "node5");
  auto w = whats(f[0]);
  EXPECT_TRUE(any_contains(w, "LearnerHandler for node1 timed out"));
  EXPECT_TRUE(any_contains(w, "zk:1 saw leader zk:5 close the connection"));
  expect_exact(rt);
}

TEST(ReplayChain, FourZooKeeperFaultsInSequence) {
  RoundTrip rt = round_trip(test_data("chain-zk.json"), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 4u) << f.dump(1);
  EXPECT_EQ(f[0]["kind"], "partition");
  EXPECT_EQ(f[0]["groups"], json::parse(R"([["node1","node2","node3"],["node4","node5"]])"));
  EXPECT_EQ(f[1]["kind"], "pause");
  EXPECT_EQ(f[1]["target"], "zk:3");
  EXPECT_EQ(f[2]["kind"], "cut");
  EXPECT_EQ(f[2]["from"], "node1");
  EXPECT_EQ(f[2]["to"], "node5");
  EXPECT_EQ(f[3]["kind"], "crash");
  EXPECT_EQ(f[3]["target"], "zk:5");
  // The record agrees on who the roles were when the faults fired.
  const json& applied = rt.report["run_record_faults"];
  ASSERT_GE(applied.size(), 5u);
  EXPECT_EQ(applied[2]["node"], "zk:3");
  expect_exact(rt);
}

TEST(ReplayChain, PartitionThenInterfaceDownWithMetas) {
  RoundTrip rt = round_trip(test_data("chain-meta.json"), "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 2u) << f.dump(1);
  // node3 alone: no ENETUNREACH of its own and its meta kept its own host's server, so a
  // partition; later its meta client reports "Network is unreachable": its interface.
  EXPECT_EQ(f[0]["kind"], "partition");
  EXPECT_EQ(f[0]["groups"], json::parse(R"([["node1","node2"],["node3"]])"));
  EXPECT_EQ(f[1]["kind"], "ifdown");
  EXPECT_EQ(f[1]["host"], "node3");
  expect_exact(rt);
}

// The 2025 storm: the first fault (a partition of .153) is inferred from the logs; the second, 20
// minutes of packet loss on .153's links, shows as a series of short one-link stalls that replay
// folds into one loss fault whose rate is fitted, not reproduced: which packets were lost is not
// in the logs (each is a random draw), so the round trip of this scenario uses the run record.
TEST(ReplayIncident2025, PartitionThenLossInferredFromTheLogs) {
  std::string s = bundled_scenario("incident-2025-07-20.json");
  scenario::Scenario sc = scenario::load(s);
  fs::path logs = tmp("incident-infer");
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  world::run(sc, ro);
  zksim::ingest::Timeline tl = zksim::replay::load_timeline(logs.string(), "+08:00", 2025, false);
  json doc = sim::read_json_file(s, "scenario");
  auto all = zksim::replay::infer_faults(tl, doc, sc.wall_epoch_ns);
  // The ZooKeeper JVMs' GC logs give every finished pause exactly; the network faults are the rest.
  std::vector<zksim::replay::InferredFault> faults, gc;
  for (const auto& f : all) {
    bool from_gc_log = f.fault["kind"] == "pause" && f.fault["evidence"].size() == 1 &&
                       f.fault["evidence"][0].value("what", "") == "GC log pause";
    (from_gc_log ? gc : faults).push_back(f);
  }
  int64_t gc_events = 0;
  for (const auto& e : tl.events) gc_events += e.type == zksim::ingest::EventType::kGcPause;
  EXPECT_EQ(static_cast<int64_t>(gc.size()), gc_events);
  EXPECT_GT(gc.size(), 300u);  // one pause per ~27 s on each of 5 JVMs over 1800 s
  ASSERT_GE(faults.size(), 2u);
  const auto& p = faults[0];
  EXPECT_EQ(p.fault["kind"], "partition");
  EXPECT_EQ(p.fault["groups"], json::parse(R"([["n146","n147","n148","n152"],["n153"]])"));
  // The scenario's partition (120.5 s to 124.8 s) lies in the windows the evidence allows.
  ASSERT_TRUE(p.at_window && p.end_window);
  EXPECT_LE(p.at_window->first, 120'500'000'000);
  EXPECT_GE(p.at_window->second, 120'500'000'000);
  EXPECT_LE(p.end_window->first, 124'800'000'000);
  EXPECT_GE(p.end_window->second, 124'800'000'000);
  EXPECT_LE(p.at_window->second - p.at_window->first, 1'000'000'000);  // one ping period
  // The rest: packet loss on n153, one fault per run of stalls (stalls more than 5 minutes apart
  // start another), each with its rate fitted and at least three stalls as evidence, together
  // spanning the lossy period (10+ minutes).
  for (size_t i = 1; i < faults.size(); ++i) {
    const auto& l = faults[i];
    EXPECT_EQ(l.fault["kind"], "loss");
    EXPECT_EQ(l.fault["host"], "n153");
    EXPECT_EQ(l.fit_param, "loss");
    EXPECT_GE(l.fault["evidence"].size(), 3u);
  }
  ASSERT_TRUE(faults.back().end_ns);
  EXPECT_GT(*faults.back().end_ns - faults[1].at_ns, 600'000'000'000);
  // Nothing else: no crashes, restarts, pauses or cuts invented for the loss's stalls.
  EXPECT_LE(faults.size(), 3u);
  for (const auto& f : faults) EXPECT_NE(f.fault["kind"], "crash");
}

// `zksim ingest` of a simulated folder with its defaults (no --year, no --tz): the glog header
// the meta writes gives the year, and the GC logs' +0800 date stamps are named in a note saying
// that zone-less lines were read as UTC.
TEST(IngestSimulated, NeedsNoYearAndNamesTheZoneOfTheGcLogs) {
  auto sc = scenario::load(bundled_scenario("incident-2025-07-20.json"));
  sc.duration = sim::Duration::s(200);
  fs::path logs = tmp("incident-ingest");
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  ro.keep_records = true;
  auto r = world::run(sc, ro);
  size_t resumes = 0, meta_lines = 0;
  for (const auto& rec : r.records_kept) resumes += rec.type == "gc.resume";
  for (const auto& rec : r.records_kept) meta_lines += rec.node.rfind("meta:", 0) == 0;
  zksim::ingest::IngestOptions o;  // tz UTC, no year
  zksim::ingest::Timeline tl = zksim::ingest::ingest_dir(logs, o);
  size_t gc = 0, meta = 0, zoned_notes = 0;
  for (const auto& e : tl.events) {
    gc += e.type == zksim::ingest::EventType::kGcPause;
    meta += e.process == zksim::ingest::Process::kMeta;
  }
  for (const auto& f : tl.files) {
    if (f.kind == zksim::ingest::FileKind::kMeta) {
      EXPECT_EQ(f.unknown, 0u) << f.path;
    }
    for (const auto& n : f.notes) zoned_notes += n.find("stamped +08:00") != std::string::npos;
  }
  EXPECT_EQ(gc, resumes);
  EXPECT_GT(gc, 20u);
  EXPECT_GT(meta, 20u);
  EXPECT_GT(meta_lines, 0u);
  EXPECT_EQ(zoned_notes, 5u);  // one per ZooKeeper host's GC log
  o.tz = "+08:00";
  tl = zksim::ingest::ingest_dir(logs, o);
  for (const auto& f : tl.files) {
    for (const auto& n : f.notes) {
      EXPECT_EQ(n.find("stamped"), std::string::npos) << n;
    }
  }
}

// A server silent for its clients while no ZooKeeper peer lost its leader (its host cut off for
// less than syncLimit*tickTime): the clients on other hosts time out reading from it. Inferred as
// that host cut off from the others, start and end fitted; seed 1 with 5 s reproduces the
// co-located dual leader (1144 ms) from the logs alone.
// scenarios/fuzz/colocated-partition-meta-leader.json with a 5 s partition and `seed`: run with
// logs, then replay them with the scenario's configuration (faults inferred).
json replay_colocated_5s(uint64_t seed, world::RunResult& orig) {
  std::string s = bundled_scenario("fuzz/colocated-partition-meta-leader.json");
  scenario::Scenario sc = scenario::load(s);
  sc.faults[0].duration = sim::Duration::s(5);
  fs::path logs = tmp("colocated-5s-" + std::to_string(seed));
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  ro.seed = seed;
  orig = world::run(sc, ro);
  Options o;
  o.input = logs.string();
  o.config = s;
  return zksim::replay::replay(o, nullptr);
}

TEST(ReplayPartition, ServerSilentForItsClientsOnly) {
  world::RunResult orig;
  json rep = replay_colocated_5s(1, orig);
  ASSERT_EQ(orig.metrics.meta_dual.count, 1);
  ASSERT_EQ(rep["faults"].size(), 1u);
  const json& f = rep["faults"][0];
  EXPECT_EQ(f["kind"], "partition");
  EXPECT_EQ(f["groups"], json::parse(R"([["node1"],["node2","node3"]])"));
  EXPECT_GE(f["evidence"].size(), 2u);  // the read timeouts of node2's and node3's clients
  // 60 s and 65 s lie in the windows; the fitted times reproduce every key event.
  int64_t at = ns_of(f["at"]), end = at + ns_of(f["for"]);
  EXPECT_NEAR(static_cast<double>(at), 60e9, 2e9);
  EXPECT_GT(end, 61'000'000'000);
  EXPECT_LT(end, 70'000'000'000);  // shorter than syncLimit*tickTime after the start
  const json& b = rep["baseline"];
  EXPECT_EQ(b["missing"].get<int>(), 0);
  EXPECT_EQ(b["extra"].get<int>(), 0);
  EXPECT_LE(b["max_abs_delta_ms"].get<double>(), 1.0);
  EXPECT_EQ(rep["metrics"]["recorded_logs"]["meta"]["dual_leader"],
            rep["metrics"]["baseline_logs"]["meta"]["dual_leader"]);
}

// The co-located partition of scenarios/fuzz/colocated-partition-meta-leader.json (5 s) with two
// other kinds of evidence: seed 2 (meta:node2 leads on its own host's follower; no client on
// another host used that server) leaves only the leader's expiry of a session whose client stayed
// connected; seed 35 (node1 cut off, its meta's client on node2's server) leaves one client's
// read timeout on node2 while a client on node3 kept node2: node1 was the one cut off. Both are
// inferred as that host cut off and replay exactly, the dual leader of seed 2 included.
TEST(ReplayPartition, ExpiryOfAConnectedSessionAndTheSideOfAOneClientSilence) {
  struct Case {
    uint64_t seed;
    const char* groups;
    const char* evidence;
  };
  // 2: the client on the cut-off follower's own host kept it (docs/fuzz.md's co-located case).
  // 35: one client host timed out on a server that a third host's client kept. 4 and 12: the
  // leader's host was cut off (the truth); its expired session's client sat on a third host and
  // stayed connected to the follower, so the follower was reachable. 37: the leader's host was
  // cut off; the expired session's client was on the follower's own host, but a third host's
  // client timed out on the leader's server in the same window.
  for (const Case& c :
       {Case{2, R"([["node2"],["node1","node3"]])", "stayed connected until"},
        Case{35, R"([["node1"],["node2","node3"]])", "was reachable"},
        Case{4, R"([["node3"],["node1","node2"]])", "node1 was reachable, node3 cut off"},
        Case{12, R"([["node3"],["node1","node2"]])", "node1 was reachable, node3 cut off"},
        Case{37, R"([["node3"],["node1","node2"]])", "timed out reading from node3's server"}}) {
    SCOPED_TRACE(c.seed);
    world::RunResult orig;
    json rep = replay_colocated_5s(c.seed, orig);
    ASSERT_EQ(rep["faults"].size(), 1u);
    const json& f = rep["faults"][0];
    EXPECT_EQ(f["kind"], "partition");
    EXPECT_EQ(f["groups"], json::parse(c.groups));
    EXPECT_TRUE(any_contains(whats(f), c.evidence)) << f["evidence"].dump();
    const json& b = rep["baseline"];
    EXPECT_GT(b["matched"].get<int>(), 15);
    EXPECT_EQ(b["missing"].get<int>(), 0);
    EXPECT_EQ(b["extra"].get<int>(), 0);
    EXPECT_LE(b["max_abs_delta_ms"].get<double>(), 1.0);
    json sim = rep["metrics"]["baseline_run"];
    json rec = world::to_json(orig)["metrics"];
    EXPECT_EQ(rec["meta"]["dual_leader"]["count"], sim["meta"]["dual_leader"]["count"]);
    EXPECT_EQ(rec["zk"]["session_expirations"], sim["zk"]["session_expirations"]);
    if (c.seed == 2) {
      EXPECT_EQ(orig.metrics.meta_dual.count, 1);
    }
  }
}

TEST(ReplayRoundTrip, RunRecordReproducesTheRunExactly) {
  // With --config the scenario, and without: the run record holds the scenario that ran (and
  // where its GC model lies), so the folder alone replays the run.
  for (const std::string& s : bundled()) {
    for (bool with_config : {true, false}) {
      SCOPED_TRACE(s + (with_config ? " --config" : " (no --config)"));
      RoundTrip rt = round_trip(s, "record", with_config);
      if (!with_config) {
        EXPECT_EQ(rt.report["config"], "the run record zksim-run.json");
      }
      EXPECT_EQ(rt.report["baseline_trace_hash"], rt.original.trace_hash);
      EXPECT_EQ(rt.report["baseline"]["missing"].get<int>(), 0);
      EXPECT_EQ(rt.report["baseline"]["extra"].get<int>(), 0);
      EXPECT_EQ(rt.report["baseline"]["max_abs_delta_ms"].get<double>(), 0.0);
      EXPECT_EQ(world::to_json(rt.original)["metrics"], rt.report["metrics"]["baseline_run"]);
      EXPECT_EQ(rt.report["metrics"]["recorded_run"], rt.report["metrics"]["baseline_run"]);
    }
  }
}

TEST(ReplayRoundTrip, InferredLeaderPauseHasEvidenceAndRightTarget) {
  RoundTrip rt =
      round_trip(std::string(ZKSIM_SOURCE_DIR) + "/scenarios/zk/leader-pause-12s.json", "logs");
  const json& f = rt.report["scenario"]["faults"];
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]["kind"], "pause");
  EXPECT_EQ(f[0]["target"], "zk:5");
  // Start: 10 s (syncLimit 5 x tick 2 s) before the followers' read timeouts at 29.979 s, i.e.
  // just after the last ping the leader sent before its pause at 20 s.
  EXPECT_EQ(f[0]["at"], "19980ms");
  EXPECT_EQ(f[0]["for"], "12020ms");  // resume at 32 s: the leader's first line again
  EXPECT_GE(f[0]["evidence"].size(), 4u);
  EXPECT_NE(f[0]["evidence"][0]["line"].get<std::string>().find("zookeeper.log:"),
            std::string::npos);
}

TEST(ReplayCounterfactual, LocalTimerChangesTheSeedIncident) {
  // Seed 1: dual meta leader with the 3600 ms local timer; a 1 s timer stops the old leader first.
  std::string s = std::string(ZKSIM_SOURCE_DIR) + "/scenarios/ifdown-2022-08-04.json";
  scenario::Scenario sc = scenario::load(s);
  fs::path logs = tmp("cf-ifdown");
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  world::RunResult orig = world::run(sc, ro);
  Options o;
  o.input = logs.string();
  o.config = s;
  o.sets = {"meta.localTimer=1s"};
  json r = zksim::replay::replay(o, nullptr);
  const json& m = r["metrics"];
  EXPECT_EQ(m["recorded_logs"]["meta"]["dual_leader"]["count"],
            m["baseline_logs"]["meta"]["dual_leader"]["count"]);
  EXPECT_EQ(orig.metrics.meta_dual.count,
            m["baseline_run"]["meta"]["dual_leader"]["count"].get<uint64_t>());
  EXPECT_GE(m["baseline_run"]["meta"]["dual_leader"]["count"].get<int>(), 1);
  EXPECT_EQ(m["counterfactual_run"]["meta"]["dual_leader"]["count"].get<int>(), 0);
}

// ---- bad inputs
// ----------------------------------------------------------------------------------

std::string error_of(const Options& o) {
  try {
    zksim::replay::replay(o, nullptr);
  } catch (const ReplayError& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- a folder without its configuration ------------------------------------------------------

namespace {

// leader-quorum-port.json on hosts in +08:00, GC on every JVM (one pause per ~5 s), and the
// leader elected after the heal (zk:2) killed at 50 s and restarted 3 s later. Its logs without
// zksim-run.json: what an engineer brings from a cluster.
fs::path logs_without_run_record(const std::string& dir) {
  json d = json::parse(read_text(test_data("leader-quorum-port.json")));
  d["logs"]["tz"] = "+08:00";
  d["gc"] = json::parse(R"({"zk": {"model": ")" + std::string(ZKSIM_SOURCE_DIR) +
                        R"(/scenarios/gc-models/jdk8-g1-gcspike.json",
                                    "interval": {"dist": "exponential", "mean": "5s"}}})");
  d["faults"].push_back(
      json::parse(R"({"at": "50s", "kind": "crash", "target": "zk:2", "restartAfter": "3s"})"));
  fs::path logs = tmp(dir);
  world::RunOptions ro;
  ro.logs_dir = logs.string();
  world::run(scenario::from_json(d, "leader-quorum-port+", "."), ro);
  fs::remove(logs / "zksim-run.json");
  return logs;
}

std::vector<json> non_gc_faults(const json& report) {
  std::vector<json> out;
  for (const auto& f : report["scenario"]["faults"])
    if (f.value("comment", "").find("GC pause") == std::string::npos) out.push_back(f);
  return out;
}

}  // namespace

TEST(ReplayWithoutConfig, ZoneFromGcStampsLimitsFromStartupLinesAndACrashAfterAPortFault) {
  fs::path logs = logs_without_run_record("no-config-zone");
  Options o;
  o.input = logs.string();
  json r = zksim::replay::replay(o, nullptr);
  // ZooKeeper's lines carry no zone; every GC log stamps +08:00: the folder ran in +08:00 (read
  // in UTC, the GC pauses would land 8 hours before the ensemble started).
  EXPECT_EQ(r["tz"], "+08:00");
  EXPECT_NE(r["tz_source"].get<std::string>().find("GC logs"), std::string::npos);
  // tickTime / initLimit / syncLimit from QuorumPeer's "set to" lines.
  EXPECT_NE(r["config"].get<std::string>().find("set to"), std::string::npos) << r["config"];
  EXPECT_EQ(r["scenario"]["zk"]["tickTime"], "2000ms");
  EXPECT_EQ(r["scenario"]["zk"]["syncLimit"], 5);
  auto f = non_gc_faults(r);
  ASSERT_EQ(f.size(), 2u) << json(f).dump(1);
  EXPECT_EQ(f[0]["kind"], "partition");
  EXPECT_EQ(f[0]["host"], "node5");
  EXPECT_EQ(f[0]["port"], 2888);
  // The port rule replaces only what was read into the hanging rounds: the crash of the leader
  // elected after the heal stays, from its followers' EOFs to its startup line.
  EXPECT_EQ(f[1]["kind"], "crash");
  EXPECT_EQ(f[1]["target"], "zk:2");
  EXPECT_NEAR(static_cast<double>(ns_of(f[1]["at"])), 50e9, 2e6);
  EXPECT_NEAR(static_cast<double>(ns_of(f[1]["restartAfter"])), 3e9, 2e6);
  EXPECT_GT(r["scenario"]["faults"].size(), 10u);  // the GC pauses, from the GC logs
  const json& b = r["baseline"];
  EXPECT_GE(b["matched"].get<int>(), 70);
  EXPECT_EQ(b["missing"].get<int>(), 0);
  EXPECT_EQ(b["extra"].get<int>(), 0);
  EXPECT_LE(b["max_abs_delta_ms"].get<double>(), 2.0);  // log lines have millisecond stamps
  EXPECT_FALSE(r.contains("faults_before_start"));
}

// Two 7 s SIGSTOPs of the ZooKeeper leader (100 s and 200 s), read without a configuration. Shorter
// than syncLimit*tickTime, no follower notices: the logs show only clients timing out on the
// leader and, at its resume, the expiry of the sessions its followers had kept alive — what a
// cut-off leader host would give too (read as partitions before). What tells the pause is proof
// that the leader's host could talk: seed 4 at 200 s, the meta on the leader's own host timed out
// on it over loopback; seed 3 at 200 s, a client on the leader's host stayed connected, through a
// silence long enough to expire sessions, to the follower whose client had timed out on the leader;
// both at 100 s, a client on the leader's host stayed connected to the follower whose touches the
// leader missed. The metas start where their first lines say (meta.startAt): the recorded 20 s,
// 35 s and 50 s (before, a drawn start put every ping elsewhere).
TEST(ReplayWithoutConfig, LeaderPausesAndMetaStartTimesAreReadFromTheLogs) {
  struct Case {
    uint64_t seed;
    const char* proof_at_200s;
  };
  for (const Case& c : {Case{4, "from the server on its own host: loopback"},
                        Case{3, "own client stayed connected to node2's server through the"}}) {
    SCOPED_TRACE(c.seed);
    json d = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "scenario");
    d["duration"] = "300s";
    d["seed"] = c.seed;
    d["meta"]["startAt"] = json::parse(R"({"node1": "20s", "node2": "35s", "node3": "50s"})");
    d["faults"] = json::parse(R"([
      {"at": "100s", "kind": "pause", "target": "zk:leader", "for": "7s"},
      {"at": "200s", "kind": "pause", "target": "zk:leader", "for": "7s"}])");
    const std::string name = "leader-pauses-" + std::to_string(c.seed);
    fs::path logs = tmp(name);
    world::RunOptions ro;
    ro.logs_dir = logs.string();
    world::run(scenario::from_json(d, name, "."), ro);
    Options o;
    o.input = logs.string();  // no --config: the scenario is built from the logs
    json r = zksim::replay::replay(o, nullptr);

    const json& at = r["scenario"]["meta"]["startAt"];
    ASSERT_EQ(at.size(), 3u) << r["scenario"]["meta"].dump();
    // t=0 of the rebuilt scenario is half a second before the first peer's start line, a few ms
    // from the recorded run's; the metas' starts keep their recorded spacing to the microsecond.
    EXPECT_NEAR(static_cast<double>(ns_of(at["node1"])), 20e9, 0.2e9);
    EXPECT_EQ(ns_of(at["node2"]) - ns_of(at["node1"]), 15'000'000'000);
    EXPECT_EQ(ns_of(at["node3"]) - ns_of(at["node1"]), 30'000'000'000);

    const json& f = r["scenario"]["faults"];
    ASSERT_EQ(f.size(), 2u) << f.dump(1);
    for (int i = 0; i < 2; ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(f[i]["kind"], "pause");
      EXPECT_EQ(f[i]["target"], "zk:3");  // the leader
      int64_t start = ns_of(f[i]["at"]), end = start + ns_of(f[i]["for"]);
      int64_t want = (i + 1) * 100'000'000'000LL;
      // The start is only bounded (after the clients' last receive); the resume is pinned by the
      // expiries it gives.
      EXPECT_GE(start, want - 2'000'000'000);
      EXPECT_LE(start, want + 500'000'000);
      EXPECT_NEAR(static_cast<double>(end), static_cast<double>(want + 7'000'000'000), 0.1e9);
    }
    EXPECT_TRUE(any_contains(whats(f[0]), "a client on node3 stayed connected to node"))
        << f[0]["evidence"].dump(1);
    EXPECT_TRUE(any_contains(whats(f[1]), c.proof_at_200s)) << f[1]["evidence"].dump(1);
    const json& b = r["baseline"];
    EXPECT_GE(b["matched"].get<int>(), 55);
    EXPECT_EQ(b["missing"].get<int>(), 0);
    EXPECT_EQ(b["extra"].get<int>(), 0);
  }
}

// GC pauses (7 s, 12 s) every ~100 s on every ZooKeeper JVM, logged, and nothing else: the GC log
// says what happened, so every rule that reads a silence (a leader's from its clients' timeouts or
// its expiries, a follower's from a LearnerHandler timeout, a server's from its clients' timeouts)
// leaves the silences those pauses explain to the GC log's rule. Before, zk:1's pause at ~104.6 s
// came out twice (the GC log's, and a fitted pause from its clients' read timeouts), then a
// partition of the leader's host and a 14 s follower pause where logged pauses overlapped.
TEST(ReplayWithoutConfig, AFolderOfLoggedGcPausesIsReadAsThosePausesOnly) {
  // 7 s: shorter than syncLimit*tickTime (10 s), longer than a session's 2/3 (4 s); 12 s: longer
  // than both (the followers lose the paused leader: the leader-loss rule must leave it too).
  for (const char* len : {"7s", "12s"}) {
    SCOPED_TRACE(len);
    json d = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "scenario");
    d["duration"] = "300s";
    d["seed"] = uint64_t{4};
    d["faults"] = json::array();
    d["gc"] = json::parse(R"({"zk": {"pause": {"dist": "constant", "value": "7s"},
                                   "interval": {"dist": "uniform", "min": "90s", "max": "110s"}}})");
    d["gc"]["zk"]["pause"]["value"] = len;
    fs::path logs = tmp(std::string("gc-pauses-not-twice-") + len);
    world::RunOptions ro;
    ro.logs_dir = logs.string();
    world::run(scenario::from_json(d, "gc-pauses-not-twice", "."), ro);
    Options o;
    o.input = logs.string();
    json r = zksim::replay::replay(o, nullptr);
    const json& faults = r["scenario"]["faults"];
    size_t gc = 0;
    for (const auto& f : faults) {
      EXPECT_EQ(f["kind"], "pause") << f.dump();
      EXPECT_NE(f.value("comment", "").find(std::string("GC pause ") + len + " of zk:"),
                std::string::npos)
          << f.dump();
      gc += f.value("comment", "").find("GC pause") != std::string::npos;
    }
    EXPECT_EQ(gc, 6u) << faults.dump(1);  // two per JVM in 300 s with this seed
    EXPECT_EQ(faults.size(), gc);
    // t=0 of the rebuilt scenario moves to align the first leader's broadcast (by ~0.1 s here): the
    // metas' start times read from their logs move with it, so each meta's first session lands
    // where it was recorded (before they moved too, every meta line came ~0.1 s late).
    ASSERT_FALSE(r["calibration"].empty());
    EXPECT_GT(std::abs(r["calibration"][0]["shift_ms"].get<double>()), 20.0) << r["calibration"];
    int metas = 0;
    for (const auto& e : r["baseline"]["events"]) {
      // The first session of each meta (all three start before the first pause, at ~98 s).
      std::string key = e.value("key", "");
      if (key.rfind("meta:", 0) != 0 || key.find("CONNECTED_STATE") == std::string::npos) continue;
      if (++metas > 3) break;
      ASSERT_TRUE(e.contains("delta_ms") && e["delta_ms"].is_number()) << e.dump();
      EXPECT_LE(std::abs(e["delta_ms"].get<double>()), 5.0) << e.dump();
    }
    EXPECT_EQ(metas, 4);
    EXPECT_GE(r["baseline"]["matched"].get<int>(), 55);
    // A start given with --base-set is the user's, relative to t=0: it stays as given while the
    // ones read from the logs move.
    Options o2 = o;
    o2.base_sets = {"meta.startAt.node1=25s"};
    o2.fit_steps = 0;
    json r2 = zksim::replay::replay(o2, nullptr);
    EXPECT_EQ(r2["scenario"]["meta"]["startAt"]["node1"], "25s");
    EXPECT_EQ(r2["scenario"]["meta"]["startAt"]["node2"],
              r["scenario"]["meta"]["startAt"]["node2"]);
  }
}

// Long logged GC pauses (60..140 s apart on each of 3 JVMs, 10 min) whose effects reach other
// peers: each case was misread before (tools/studies/replay_gc_study.sh found them).
//  - 12 s, seed 4: zk:1 resumes to find its leader gone (the leader dropped it while it was
//    stopped): read as the leader killed.
//  - 20 s, seed 6: the leader's handler for zk:1 times out while the leader itself is stopped:
//    read as a 13 s pause of zk:1.
//  - 15 s, seed 9: the new leader zk:2 cannot commit a session while its one follower is in GC and
//    the third peer is electing: clients time out on node2, read as node2 cut off.
//  - 30 s, seed 15: the leader's last pause outlasts the run (no GC line: JDK 8 logs a pause when
//  it
//    ends): read as a pause to the end, which had no length and made the replay fail
//    ("faults[15]: a pause fault needs \"for\"").
TEST(ReplayWithoutConfig, LongGcPausesAreReadAsThePausesNotAsWhatTheyCause) {
  struct Case {
    const char* len;
    uint64_t seed;
  };
  for (const Case& c : {Case{"12s", 4}, Case{"20s", 6}, Case{"15s", 9}, Case{"30s", 15}}) {
    SCOPED_TRACE(std::string(c.len) + " seed " + std::to_string(c.seed));
    json d = sim::read_json_file(bundled_scenario("ifdown-2022-08-04.json"), "scenario");
    d["duration"] = "600s";
    d["seed"] = c.seed;
    d["faults"] = json::array();
    d["gc"] = json::parse(R"({"zk": {"pause": {"dist": "constant", "value": "1s"},
                                     "interval": {"dist": "uniform", "min": "60s", "max": "140s"}}})");
    d["gc"]["zk"]["pause"]["value"] = c.len;
    const std::string name = std::string("long-gc-") + c.len + "-" + std::to_string(c.seed);
    fs::path logs = tmp(name);
    world::RunOptions ro;
    ro.logs_dir = logs.string();
    world::run(scenario::from_json(d, name, "."), ro);
    Options o;
    o.input = logs.string();
    json r = zksim::replay::replay(o, nullptr);
    int gc = 0;
    for (const auto& f : r["scenario"]["faults"]) {
      std::string comment = f.value("comment", "");
      if (comment.find("GC pause") != std::string::npos) {
        ++gc;
        continue;
      }
      // Only the unlogged pause at the end of the run is read from its effects, to the end.
      EXPECT_EQ(std::string(c.len), "30s") << f.dump();
      EXPECT_EQ(f["kind"], "pause") << f.dump();
      EXPECT_NE(comment.find("paused to the end"), std::string::npos) << f.dump();
      EXPECT_TRUE(f.contains("for") && ns_of(f["at"]) + ns_of(f["for"]) >= 600'000'000'000)
          << f.dump();
    }
    EXPECT_GE(gc, 12);  // 4 to 6 per JVM
  }
}

TEST(ReplayWithoutConfig, FaultsBeforeTheStartAreLeftOutAndNamedNotAnError) {
  // The same folder read with a wrong --tz: the GC pauses land 8 hours before the first
  // ZooKeeper line. They cannot be simulated; the replay says so and goes on.
  fs::path logs = logs_without_run_record("no-config-wrong-tz");
  Options o;
  o.input = logs.string();
  o.tz = "UTC";
  o.fit_steps = 0;
  std::string text;
  json r = zksim::replay::replay(o, &text);
  EXPECT_EQ(r["tz_source"], "--tz");
  ASSERT_TRUE(r.contains("faults_before_start"));
  EXPECT_GT(r["faults_before_start"].size(), 10u);
  EXPECT_NE(r["faults_before_start"][0].get<std::string>().find("left out"), std::string::npos);
  for (const auto& f : r["scenario"]["faults"]) EXPECT_GE(ns_of(f["at"]), 0) << f.dump();
  EXPECT_NE(text.find("before the simulation's t=0"), std::string::npos);
}

TEST(ReplayBadInput, EmptyFolder) {
  Options o;
  o.input = tmp("empty").string();
  EXPECT_NE(error_of(o).find("no log files found (empty folder)"), std::string::npos)
      << error_of(o);
}

TEST(ReplayBadInput, BinaryFile) {
  fs::path d = tmp("binary");
  fs::create_directories(d / "node1");
  std::ofstream(d / "node1" / "zookeeper.log", std::ios::binary) << std::string(
      "\x7f"
      "ELF\0\0\x01\x02\0\xff",
      10);
  Options o;
  o.input = d.string();
  std::string e = error_of(o);
  EXPECT_NE(e.find("zookeeper.log"), std::string::npos) << e;
  EXPECT_TRUE(e.find("binary") != std::string::npos ||
              e.find("no recognizable log file") != std::string::npos)
      << e;
}

TEST(ReplayBadInput, TruncatedLine) {
  fs::path d = tmp("truncated");
  scenario::Scenario sc =
      scenario::load(std::string(ZKSIM_SOURCE_DIR) + "/scenarios/zk/leader-crash.json");
  world::RunOptions ro;
  ro.logs_dir = d.string();
  world::run(sc, ro);
  std::ofstream(d / "node1" / "zookeeper.log", std::ios::app)
      << "2025-07-20T00:00:5";  // cut mid-timestamp
  Options o;
  o.input = d.string();
  o.config = std::string(ZKSIM_SOURCE_DIR) + "/scenarios/zk/leader-crash.json";
  std::string e = error_of(o);
  EXPECT_NE(e.find("node1/zookeeper.log"), std::string::npos) << e;
  EXPECT_NE(e.find("line "), std::string::npos) << e;
  EXPECT_NE(e.find("--lenient"), std::string::npos) << e;
  o.lenient = true;  // accepted when asked: the damaged line is skipped
  EXPECT_EQ(zksim::replay::replay(o, nullptr)["baseline"]["missing"].get<int>(), 0);
}

TEST(ReplayBadInput, UnknownTimeZone) {
  fs::path d = tmp("tz");
  scenario::Scenario sc =
      scenario::load(std::string(ZKSIM_SOURCE_DIR) + "/scenarios/zk/leader-crash.json");
  world::RunOptions ro;
  ro.logs_dir = d.string();
  world::run(sc, ro);
  Options o;
  o.input = d.string();
  o.tz = "Asia/Shanghai";
  std::string e = error_of(o);
  EXPECT_NE(e.find("unknown time zone 'Asia/Shanghai'"), std::string::npos) << e;
}

TEST(ReplayBadInput, FlagsOutOfRange) {
  fs::path d = tmp("flags");
  auto err = [&](auto set) {
    Options o;
    o.input = d.string();
    set(o);
    return error_of(o);
  };
  EXPECT_NE(err([](Options& o) {
              o.tolerance_ns = -1'000'000'000;
            }).find("--tolerance -1s: must be positive"),
            std::string::npos)
      << err([](Options& o) { o.tolerance_ns = -1'000'000'000; });
  EXPECT_NE(err([](Options& o) { o.tolerance_ns = 0; }).find("--tolerance"), std::string::npos);
  EXPECT_NE(err([](Options& o) { o.fit_steps = -1; }).find("--fit-steps -1: expected 0..1000"),
            std::string::npos);
  EXPECT_NE(err([](Options& o) { o.fit_steps = 1001; }).find("--fit-steps 1001"),
            std::string::npos);
  EXPECT_NE(err([](Options& o) { o.calibrate_iterations = -1; }).find("--calibrate -1"),
            std::string::npos);
  EXPECT_NE(err([](Options& o) { o.year = -1; }).find("--year: -1 is outside 1970..9999"),
            std::string::npos);
  std::string e = err([&](Options& o) { o.config = d.string(); });
  EXPECT_NE(e.find("--config " + d.string() + ": not a regular file"), std::string::npos) << e;
  // A scenario nested 70,000 deep: refused by name (copying it overflowed the stack).
  fs::path deep = d / "deep.json";
  std::ofstream(deep) << R"({"comment":)" << std::string(70000, '[') << std::string(70000, ']')
                      << "}";
  e = err([&](Options& o) { o.config = deep.string(); });
  EXPECT_NE(e.find("--config " + deep.string() + ": invalid JSON: nested deeper than 200"),
            std::string::npos)
      << e;
}

TEST(ReplayBadInput, EditedTimelineJsonNamesFileEventAndField) {
  fs::path d = tmp("timeline-edits");
  const std::string good =
      R"({"t_ns": 1753000000000000000, "host": "node1", "myid": 1, "process": "zookeeper",)"
      R"( "type": "peer_state", "file": 0, "line": 7, "state": "looking", "phase": ""})";
  auto err_of = [&](const std::string& name, const std::string& event) {
    fs::path p = d / name;
    std::ofstream(p)
        << R"({"schema": "zksim.timeline/1", "files": [{"path": "node1/zookeeper.log"}],)"
        << R"( "events": [)" << good << ", " << event << "]}";
    Options o;
    o.input = p.string();
    return std::make_pair(p.string(), error_of(o));
  };
  auto expect = [&](const std::string& name, std::string event, const std::string& what) {
    auto [path, e] = err_of(name, event);
    EXPECT_NE(e.find(path + ": events[1]." + what), std::string::npos) << name << ": " << e;
  };
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string ev = good;
    size_t pos = ev.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return ev.replace(pos, from.size(), to);
  };
  expect("tns-str.json", edit(R"("t_ns": 1753000000000000000)", R"("t_ns": "abc")"), "t_ns");
  expect("tns-neg.json", edit(R"("t_ns": 1753000000000000000)", R"("t_ns": -5)"), "t_ns");
  expect("tns-float.json", edit(R"("t_ns": 1753000000000000000)", R"("t_ns": 1.5)"), "t_ns");
  expect("myid-str.json", edit(R"("myid": 1)", R"("myid": "x")"), "myid");
  expect("myid-neg.json", edit(R"("myid": 1)", R"("myid": -7)"), "myid");
  expect("myid-big.json", edit(R"("myid": 1)", R"("myid": 256)"), "myid");
  expect("host-null.json", edit(R"("host": "node1")", R"("host": null)"), "host");
  expect("type-num.json", edit(R"("type": "peer_state")", R"("type": 5)"), "type");
  expect("file-oob.json", edit(R"("file": 0)", R"("file": 999)"), "file");
  expect("state.json", edit(R"("state": "looking")", R"("state": "bogus")"), "state");
  auto [path, e] = err_of("event-num.json", "5");
  EXPECT_NE(e.find(path + ": events[1]: expected an event object"), std::string::npos) << e;
  // A valid timeline whose server id the model cannot take (myid 0): the ensemble built from it
  // is refused, naming the input and the key.
  std::string node2 = edit(R"("host": "node1")", R"("host": "node2")");
  node2.replace(node2.find(R"("myid": 1)"), 9, R"("myid": 0)");
  auto [path0, e0] = err_of("myid-0.json", node2);
  EXPECT_NE(e0.find(path0 + ": the scenario built from the logs (settings from defaults"),
            std::string::npos)
      << e0;
  EXPECT_NE(e0.find("zk.peers[0].id: 0 is out of range [1, 255]"), std::string::npos) << e0;
}

TEST(ReplayBadInput, ConfigEpochAfterTheLogsAndFaultsFileWithUnknownHost) {
  fs::path d = tmp("epoch-after-logs");
  const std::string src = std::string(ZKSIM_SOURCE_DIR) + "/scenarios/zk/leader-crash.json";
  scenario::Scenario sc = scenario::load(src);
  world::RunOptions ro;
  ro.logs_dir = (d / "logs").string();
  world::run(sc, ro);
  json doc = json::parse(read_text(src));
  doc["logs"]["epoch"] = "2025-07-21T00:00:00";
  std::ofstream(d / "late.json") << doc.dump();
  Options o;
  o.input = (d / "logs").string();
  o.config = (d / "late.json").string();
  o.fit_steps = 0;
  std::string e = error_of(o);
  EXPECT_NE(e.find("the scenario's logs.epoch (2025-07-21T00:00:00"), std::string::npos) << e;
  EXPECT_NE(e.find("is after the logs' first line (2025-07-20T00:00:"), std::string::npos) << e;
  EXPECT_NE(e.find("fix logs.epoch"), std::string::npos) << e;
  EXPECT_EQ(e.find("must not be negative"), std::string::npos) << e;
  // Without logs.epoch the default (2025-01-01) is before these logs: fine. A faults file naming
  // a host the configuration does not have is refused naming that file.
  o.config = src;
  std::ofstream(d / "faults.json")
      << R"({"faults": [{"at": "5s", "kind": "ifdown", "host": "nodeX", "for": "2s"}]})";
  o.faults = (d / "faults.json").string();
  e = error_of(o);
  EXPECT_NE(e.find("--faults " + o.faults + ": "), std::string::npos) << e;
  EXPECT_NE(e.find("nodeX"), std::string::npos) << e;
}

TEST(ReplayBadInput, MissingInputAndBadTimelineJson) {
  Options o;
  o.input = "/nonexistent/zksim-logs";
  EXPECT_NE(error_of(o).find("no such file or folder"), std::string::npos);
  fs::path d = tmp("json");
  std::ofstream(d / "timeline.json") << "{\"schema\": \"zksim.timeline/1\", \"events\": [";
  o.input = (d / "timeline.json").string();
  EXPECT_NE(error_of(o).find("not a timeline JSON"), std::string::npos) << error_of(o);
}

// ---- real ZooKeeper 3.8 logs
// ---------------------------------------------------------------------

struct Real {
  const char* run;
  const char* kind;  // expected inferred fault
  const char* target;
};

class ReplayReal : public ::testing::TestWithParam<Real> {};

TEST_P(ReplayReal, InfersTheFaultAndLandsWithinZkMeasuredTolerance) {
  fs::path dir =
      fs::path(ZKSIM_SHARED_DIR) / "data/zk-server-logs/real-3.8-loopback" / GetParam().run;
  if (!fs::exists(dir)) GTEST_SKIP() << "shared data absent: " << dir;
  Options o;
  o.input = dir.string();  // config from the logs: "tickTime/initLimit/syncLimit set to" lines
  json r = zksim::replay::replay(o, nullptr);
  const json& f = r["scenario"]["faults"];
  ASSERT_GE(f.size(), 1u) << r["scenario"].dump(1);
  EXPECT_EQ(f[0]["kind"], GetParam().kind);
  EXPECT_EQ(f[0]["target"], GetParam().target);
  EXPECT_EQ(r["scenario"]["zk"]["peers"].size(), 5u);
  EXPECT_EQ(r["scenario"]["zk"]["tickTime"], "2000ms");
  EXPECT_EQ(r["scenario"]["zk"]["syncLimit"], 5);
  // ZK-MEASURED milestones after the fault (whoever wins): first follower exception, first
  // LOOKING, first LEADING, first `leading - broadcast`, last `following - broadcast`. Each within
  // +-200 ms, or 10 % of its time since the fault when that is wider.
  auto keys_after = [&](const json& events, const char* side, const std::string& what,
                        int64_t after) {
    std::vector<int64_t> ts;
    for (const auto& e : events) {
      if (!e.contains(side)) continue;
      std::string key = e["key"];
      if (key.size() < what.size() || key.compare(key.size() - what.size(), what.size(), what) != 0)
        continue;
      std::string t = e[side];  // 2026-11-23T00:27:55.743000Z
      int64_t ns =
          ((std::stoll(t.substr(11, 2)) * 60 + std::stoll(t.substr(14, 2))) * 60) * 1000000000LL +
          static_cast<int64_t>(std::stod(t.substr(17, 9)) * 1e9 + 0.5);
      if (ns >= after) ts.push_back(ns);
    }
    std::sort(ts.begin(), ts.end());
    return ts;
  };
  const json& ev = r["baseline"]["events"];
  auto first_exc = keys_after(ev, "recorded", "follower_exception", 0);
  ASSERT_FALSE(first_exc.empty());
  int64_t fault = keys_after(ev, "recorded", "follower_exception", 0).front() - 10'000'000'000LL;
  if (std::string(GetParam().kind) == "crash") fault = first_exc.front();
  int checked = 0;
  for (const char* what : {"follower_exception", "state looking", "state leading",
                           "broadcast leading", "broadcast following"}) {
    auto rt = keys_after(ev, "recorded", what, first_exc.front() - 1);
    auto st = keys_after(ev, "simulated", what, first_exc.front() - 2'000'000'000LL);
    if (rt.empty()) continue;
    ASSERT_FALSE(st.empty()) << what;
    bool last = std::string(what) == "broadcast following";
    int64_t rv = last ? rt.back() : rt.front(), sv = last ? st.back() : st.front();
    double tol = std::max(200.0, 0.1 * static_cast<double>(rv - fault) / 1e6);
    EXPECT_LE(std::abs(static_cast<double>(sv - rv) / 1e6), tol)
        << what << " recorded vs simulated";
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

INSTANTIATE_TEST_SUITE_P(Runs, ReplayReal,
                         ::testing::Values(Real{"E1-run2", "pause", "zk:5"},
                                           Real{"E3-run1", "crash", "zk:5"},
                                           Real{"E4-run1", "pause", "zk:1"}),
                         [](const auto& info) {
                           std::string n = info.param.run;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });
