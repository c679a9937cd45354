// Scenario loading: valid files, overrides, and one test per kind of bad input. Every error must
// name the key path (and the file when loaded from disk).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "models/scenario/scenario.h"
#include "models/world/world.h"
#include "sim/config.h"

using nlohmann::json;
using scenario::from_json;

namespace {

json minimal() {
  return json::parse(
      R"({"name":"t","duration":"30s","zk":{"tickTime":"2s","initLimit":10,"syncLimit":5}})");
}

// Expects from_json to fail with a message containing every fragment.
void expect_error(const json& doc, std::initializer_list<std::string> fragments) {
  try {
    from_json(doc, "x.json", ".");
    FAIL() << "no error for " << doc.dump();
  } catch (const sim::ConfigError& e) {
    for (const auto& f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

// The scenario with another local timer, its records kept.
world::RunResult run_with_local_timer(scenario::Scenario sc, int64_t lt_ms) {
  sc.meta.local_timer = sim::Duration::ms(lt_ms);
  world::RunOptions opt;
  opt.keep_records = true;
  return world::run(sc, opt);
}

TEST(Scenario, DefaultsToFivePeers) {
  auto sc = from_json(minimal(), "x.json", ".");
  ASSERT_EQ(sc.zk.peers.size(), 5u);
  EXPECT_EQ(sc.zk.peers[4].host, "node5");
  EXPECT_EQ(sc.zk.tick, sim::Duration::s(2));
  EXPECT_EQ(sc.duration, sim::Duration::s(30));
  EXPECT_EQ(sc.hosts.size(), 5u);
  EXPECT_FALSE(sc.meta.enabled);
}

TEST(Scenario, BundledSeedScenarioLoads) {
  auto sc = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/ifdown-2022-08-04.json");
  EXPECT_EQ(sc.zk.peers.size(), 3u);
  EXPECT_TRUE(sc.meta.enabled);
  EXPECT_EQ(sc.meta.local_timer, sim::Duration::ms(3600));
  ASSERT_EQ(sc.faults.size(), 1u);
  EXPECT_EQ(sc.faults[0].kind, "ifdown");
  EXPECT_EQ(sc.faults[0].target, "meta:leader");
  // 4 s of `sleep` plus ~3 s until ifup-eth re-adds the address (see the fault's evidence).
  EXPECT_EQ(*sc.faults[0].duration, sim::Duration::s(7));
  EXPECT_EQ(sc.faults[0].evidence["sleep"], "4s");
  EXPECT_EQ(sc.find_host("node2")->address, "172.16.91.2");
  // 2022-08-04T13:22:18.123 UTC: the run's clock lines up with the seed's wall-clock times.
  EXPECT_EQ(sc.wall_epoch_ns, 1659619338123LL * 1000'000);
  EXPECT_EQ(sc.tz_offset_s, 8 * 3600);
}

// An ensemble with an even number of servers and the meta leader's interface down: the C
// client's connects fail at once and its cursor never takes the delay (ZOOKEEPER-2466). zksim
// used to loop at one instant forever (found by mutating the seed scenario: peer 2 removed). The
// run now ends, the spin is in the trace and the probes, and the incident still reproduces.
TEST(Scenario, EvenEnsembleWithTheMetaLeadersInterfaceDownEnds) {
  for (int n : {2, 4}) {
    auto sc = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/fuzz/perf-5x5-gc-120s.json",
                             {"zk.count=" + std::to_string(n),
                              R"(faults=[{"at":"40s","kind":"ifdown","target":"meta:leader",)"
                              R"("for":"7s"}])"});
    world::RunOptions opt;
    opt.keep_records = true;
    world::RunResult r = world::run(sc, opt);
    EXPECT_EQ(r.sim_time, sim::Duration::s(120)) << n;
    EXPECT_LT(r.events, 100'000u) << n;  // about 20,000: a burst of 2n+3 failures per ms
    int spins = 0;
    for (const auto& rec : r.records_kept) {
      if (rec.type != "client.spin") continue;
      ++spins;
      EXPECT_EQ(rec.get_int("servers"), n);
      EXPECT_GE(rec.t, sim::Time::from_ns(40'000'000'000));
      EXPECT_LE(rec.t, sim::Time::from_ns(47'000'000'000));
    }
    EXPECT_EQ(spins, 1) << n;
    auto probes = r.probes.by_name();
    auto it = std::find_if(probes.begin(), probes.end(),
                           [](const auto& p) { return p.first == "client.connect.spin"; });
    ASSERT_NE(it, probes.end());
    EXPECT_GT(it->second, 100u) << n;
  }
}

TEST(Scenario, EveryBundledScenarioLoads) {
  int n = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(ZKSIM_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() != ".json" || e.path().parent_path().filename() == "gc-models")
      continue;
    EXPECT_NO_THROW(scenario::load(e.path().string())) << e.path();
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(Scenario, OverridesSetAnyField) {
  json d = minimal();
  scenario::apply_override(d, "zk.tickTime=500ms");
  scenario::apply_override(d, "zk.syncLimit=2");
  scenario::apply_override(
      d, "faults[0]={\"at\":\"1s\",\"kind\":\"pause\",\"target\":\"zk:1\",\"for\":\"2s\"}");
  scenario::apply_override(d, "faults.0.for=3s");
  auto sc = from_json(d, "x.json", ".");
  EXPECT_EQ(sc.zk.tick, sim::Duration::ms(500));
  EXPECT_EQ(sc.zk.sync_limit, 2);
  ASSERT_EQ(sc.faults.size(), 1u);
  EXPECT_EQ(*sc.faults[0].duration, sim::Duration::s(3));
}

TEST(Scenario, OverrideErrors) {
  json d = minimal();
  EXPECT_THROW(scenario::apply_override(d, "novalue"), sim::ConfigError);
  d["faults"] = json::array();
  try {
    scenario::apply_override(d, "faults[3].at=1s");
    FAIL();
  } catch (const sim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("past the end"), std::string::npos) << e.what();
  }
  // A path into something that is not an array or object is refused.
  EXPECT_THROW(scenario::apply_override(d, "name.x=1"), sim::ConfigError);
}

TEST(Scenario, UnknownTopLevelKey) {
  json d = minimal();
  d["tickTime"] = "2s";
  expect_error(d, {"tickTime", "unknown key"});
}

TEST(Scenario, UnknownNestedKey) {
  json d = minimal();
  d["zk"]["synclimit"] = 5;
  expect_error(d, {"zk.synclimit", "unknown key"});
}

TEST(Scenario, BadDurationUnit) {
  json d = minimal();
  d["zk"]["tickTime"] = "2 seconds";
  expect_error(d, {"zk.tickTime", "2 seconds"});
}

TEST(Scenario, DurationWithoutUnit) {
  json d = minimal();
  d["duration"] = 30;
  expect_error(d, {"duration", "unit"});
}

TEST(Scenario, OutOfRangeInteger) {
  json d = minimal();
  d["zk"]["syncLimit"] = 0;
  expect_error(d, {"zk.syncLimit", "out of range"});
}

TEST(Scenario, WrongType) {
  json d = minimal();
  d["zk"]["initLimit"] = "ten";
  expect_error(d, {"zk.initLimit", "integer"});
}

TEST(Scenario, UnknownFaultKind) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"1s","kind":"meteor","host":"node1"}])");
  expect_error(d, {"faults[0].kind", "meteor"});
}

TEST(Scenario, FaultMissingField) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"1s","kind":"pause","target":"zk:1"}])");
  expect_error(d, {"faults[0]", "\"for\""});
}

TEST(Scenario, PartitionGroupsOrOneIsolatedHost) {
  json d = minimal();
  // Groups, a host, or a target process whose host is cut off from all the others.
  for (const char* ok : {R"({"at":"1s","kind":"partition","for":"1s","groups":[["node1"]]})",
                         R"({"at":"1s","kind":"partition","for":"1s","host":"node2"})",
                         R"({"at":"1s","kind":"partition","for":"1s","target":"zk:leader"})"}) {
    d["faults"] = json::array({json::parse(ok)});
    EXPECT_EQ(from_json(d, "x.json", ".").faults.size(), 1u) << ok;
  }
  d["faults"] = json::parse(R"([{"at":"1s","kind":"partition","for":"1s"}])");
  expect_error(d, {"faults[0]", "exactly one of \"groups\", \"host\""});
  d["faults"] = json::parse(
      R"([{"at":"1s","kind":"partition","for":"1s","host":"node1","target":"zk:leader"}])");
  expect_error(d, {"faults[0]", "exactly one of"});
  d["faults"] = json::parse(R"([{"at":"1s","kind":"partition","for":"1s","host":"node9"}])");
  expect_error(d, {"faults[0].host", "node9"});
  d["faults"] = json::parse(R"([{"at":"1s","kind":"partition","for":"1s","target":"meta:x"}])");
  expect_error(d, {"faults[0].target", "meta:x"});
}

TEST(Scenario, FaultUnknownHost) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"1s","kind":"ifdown","host":"node9","for":"1s"}])");
  expect_error(d, {"faults[0].host", "node9"});
}

TEST(Scenario, FaultUnknownTarget) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"1s","kind":"pause","target":"zk:9","for":"1s"}])");
  expect_error(d, {"faults[0].target", "zk:9"});
}

TEST(Scenario, FaultAfterEnd) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"31s","kind":"pause","target":"zk:1","for":"1s"}])");
  expect_error(d, {"faults[0].at", "after the end"});
}

TEST(Scenario, DuplicatePeerId) {
  json d = minimal();
  d["zk"]["peers"] = json::parse(R"([{"id":1,"host":"a"},{"id":1,"host":"b"}])");
  expect_error(d, {"zk.peers[1].id", "duplicate"});
}

TEST(Scenario, BadDistribution) {
  json d = minimal();
  d["network"] = json::parse(R"({"latency":{"dist":"lognormal","median":"1ms","p99":"100us"}})");
  expect_error(d, {"network.latency.p99"});
  d["network"] = json::parse(R"({"latency":{"dist":"zipf"}})");
  expect_error(d, {"network.latency.dist", "zipf"});
}

TEST(Scenario, BadTimeZone) {
  json d = minimal();
  d["logs"] = json::parse(R"({"epoch":"2025-07-20T00:00:00","tz":"Mars/Olympus"})");
  expect_error(d, {"logs.tz", "Mars/Olympus"});
}

TEST(Scenario, BadEpoch) {
  json d = minimal();
  d["logs"] = json::parse(R"({"epoch":"yesterday"})");
  expect_error(d, {"logs.epoch", "yesterday"});
}

TEST(Scenario, MetaTargetWithoutMetas) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"1s","kind":"ifdown","target":"meta:leader","for":"1s"}])");
  expect_error(d, {"faults[0].target", "no meta"});
}

TEST(Scenario, FileErrorsNameTheFileAndLine) {
  auto dir = std::filesystem::temp_directory_path() / "zksim-scenario-test";
  std::filesystem::create_directories(dir);
  auto p = dir / "broken.json";
  std::ofstream(p) << "{\n  \"name\": \"x\",\n  \"duration\": \"1s\"\n  \"seed\": 3\n}\n";
  try {
    scenario::load(p.string());
    FAIL();
  } catch (const sim::ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("broken.json:4"), std::string::npos) << m;
  }
  auto q = dir / "badkey.json";
  std::ofstream(q) << R"({"duration":"1s","zk":{"tickTime":"1x"}})";
  try {
    scenario::load(q.string());
    FAIL();
  } catch (const sim::ConfigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("badkey.json: zk.tickTime"), std::string::npos) << m;
  }
  EXPECT_THROW(scenario::load((dir / "missing.json").string()), sim::ConfigError);
}

TEST(Scenario, FaultRoundTripsToJson) {
  json d = minimal();
  d["faults"] = json::parse(
      R"([{"at":"1500ms","kind":"partition","groups":[["node1"],["node2","node3"]],"for":"2s","reject":true}])");
  auto sc = from_json(d, "x.json", ".");
  json back = scenario::fault_to_json(sc.faults[0]);
  EXPECT_EQ(back["at"], "1500ms");
  EXPECT_EQ(back["for"], "2s");
  EXPECT_EQ(back["reject"], true);
  json d2 = minimal();
  d2["faults"] = json::array({back});
  auto sc2 = from_json(d2, "x.json", ".");
  EXPECT_EQ(sc2.faults[0].groups, sc.faults[0].groups);
  EXPECT_EQ(sc2.faults[0].at, sc.faults[0].at);
}

}  // namespace

TEST(Scenario, PortSelectiveFaultRoundTripsToJson) {
  json d = minimal();
  d["faults"] = json::parse(
      R"([{"at":"20500ms","kind":"partition","host":"node3","port":2888,"for":"1260s"},
          {"at":"2s","kind":"cut","from":"node1","to":"node2","port":3888,"reject":true,"for":"1s"}])");
  auto sc = from_json(d, "x.json", ".");
  ASSERT_EQ(sc.faults.size(), 2u);
  EXPECT_EQ(sc.faults[0].port, 2888);
  EXPECT_EQ(sc.faults[1].port, 3888);
  EXPECT_TRUE(sc.faults[1].reject);
  json d2 = minimal();
  d2["faults"] = json::array();
  for (const auto& f : sc.faults) d2["faults"].push_back(scenario::fault_to_json(f));
  EXPECT_EQ(d2["faults"][0]["port"], 2888);
  EXPECT_EQ(d2["faults"][0]["for"], "1260s");
  EXPECT_EQ(d2["faults"][1]["port"], 3888);
  auto sc2 = from_json(d2, "x.json", ".");
  ASSERT_EQ(sc2.faults.size(), 2u);
  EXPECT_EQ(sc2.faults[0].port, 2888);
  EXPECT_EQ(sc2.faults[0].host, "node3");
  EXPECT_EQ(sc2.faults[0].at, sim::Duration::ms(20'500));
  EXPECT_EQ(sc2.faults[1].port, 3888);
  EXPECT_EQ(sc2.faults[1].from, "node1");
  EXPECT_TRUE(sc2.faults[1].reject);
  // A whole-link fault writes no port.
  d["faults"] = json::parse(R"([{"at":"1s","kind":"partition","host":"node3","for":"1s"}])");
  EXPECT_FALSE(scenario::fault_to_json(from_json(d, "x.json", ".").faults[0]).contains("port"));
}

TEST(Scenario, BadPortNamesTheField) {
  json d = minimal();
  d["faults"] = json::parse(R"([{"at":"1s","kind":"partition","host":"node1","port":0}])");
  expect_error(d, {"faults[0].port"});
  d["faults"] = json::parse(R"([{"at":"1s","kind":"partition","host":"node1","port":65536}])");
  expect_error(d, {"faults[0].port"});
  d["faults"] =
      json::parse(R"([{"at":"1s","kind":"cut","from":"node1","to":"node2","port":"2888"}])");
  expect_error(d, {"faults[0].port"});
  d["faults"] =
      json::parse(R"([{"at":"1s","kind":"pause","target":"zk:1","for":"1s","port":2888}])");
  expect_error(d, {"faults[0].port", "only partition and cut"});
}

TEST(Scenario, GcModelWithInlineGapOverride) {
  json d = minimal();
  d["gc"] = json::parse(
      R"({"zk":{"model":"m.json","interval":{"dist":"exponential","mean":"27s"},"comment":"c"}})");
  auto sc = from_json(d, "x.json", ".");
  EXPECT_TRUE(sc.gc_zk.enabled);
  EXPECT_EQ(sc.gc_zk.model_file, "m.json");
  EXPECT_FALSE(sc.gc_zk.has_pause);
  ASSERT_TRUE(sc.gc_zk.has_interval);
  EXPECT_NEAR(sc.gc_zk.interval.mean(), 27.0, 1e-9);
  // Without a model, both halves are needed.
  d["gc"] = json::parse(R"({"zk":{"interval":{"dist":"exponential","mean":"27s"}}})");
  expect_error(d, {"gc.zk", "pause"});
}

TEST(Scenario, IncidentUsesTheFittedGcModel) {
  // Issue #5: the incident's ZooKeeper GC pauses come from a model fitted by `zksim gcfit` from a
  // real log; only the gap is the seed's own rate.
  auto sc = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/incident-2025-07-20.json");
  ASSERT_TRUE(sc.gc_zk.enabled);
  EXPECT_EQ(sc.gc_zk.model_file, "gc-models/jdk8-g1-gcspike.json");
  EXPECT_FALSE(sc.gc_zk.has_pause);
  EXPECT_TRUE(sc.gc_zk.has_interval);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(ZKSIM_SOURCE_DIR "/scenarios") /
                                      sc.gc_zk.model_file));
}

TEST(Scenario, FittedPausesWithOverriddenGapDriveTheRun) {
  // 600 s of the incident scenario without faults: pause lengths follow gcspike's young fit
  // (lognormal, median ~0.16 s), and the start-to-start gaps the seed's 27 s mean, not gcspike's
  // ~0.5 s. Asserted on the gc.pause records of the trace.
  auto sc = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/incident-2025-07-20.json");
  sc.faults.clear();
  sc.duration = sim::Duration::s(600);
  world::RunOptions opt;
  opt.keep_records = true;
  auto r = world::run(sc, opt);
  std::vector<double> ms;
  std::map<std::string, std::vector<int64_t>> starts;
  for (const auto& rec : r.records_kept) {
    if (rec.type != "gc.pause") continue;
    ms.push_back(std::get<double>(*rec.get("ms")));
    starts[rec.node].push_back(rec.t.ns());
  }
  // 5 JVMs x 600 s / 27 s = ~111 pauses expected; gcspike's own gaps would give ~6000.
  ASSERT_GT(ms.size(), 70u);
  ASSERT_LT(ms.size(), 160u);
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2];
  EXPECT_GT(median, 100.0);
  EXPECT_LT(median, 260.0);
  double gaps = 0;
  size_t n = 0;
  for (auto& [node, v] : starts)
    for (size_t i = 1; i < v.size(); ++i, ++n) gaps += static_cast<double>(v[i] - v[i - 1]) / 1e9;
  ASSERT_GT(n, 50u);
  EXPECT_NEAR(gaps / static_cast<double>(n), 27.0, 8.0);
}

TEST(World, GcLogHoldsEveryFinishedPauseExactly) {
  // `--logs` writes each ZooKeeper JVM's pauses to <host>/zookeeper_gc.log in JDK 8's layout
  // (PrintGCDateStamps + PrintGCTimeStamps): the start's local date to the millisecond with the
  // zone offset, the JVM's uptime, the length in seconds. Pauses start on whole milliseconds and
  // last whole microseconds, so every line gives its pause exactly. zk:2 crashes at 200 s and
  // restarts at 230 s: its uptime counts from the restart.
  json d = sim::read_json_file(ZKSIM_SOURCE_DIR "/scenarios/incident-2025-07-20.json", "s");
  d["duration"] = "400s";
  d["faults"] =
      json::parse(R"([{"at":"200s","kind":"crash","target":"zk:2","restartAfter":"30s"}])");
  auto sc = from_json(d, "incident.json", ZKSIM_SOURCE_DIR "/scenarios");
  auto dir = std::filesystem::temp_directory_path() / "zksim-gclog-test";
  std::filesystem::remove_all(dir);
  world::RunOptions opt;
  opt.keep_records = true;
  opt.logs_dir = dir.string();
  auto r = world::run(sc, opt);
  std::map<std::string, std::vector<std::pair<int64_t, double>>> pauses;  // node -> (start, ms)
  std::map<std::string, size_t> resumes;
  for (const auto& rec : r.records_kept) {
    if (rec.type == "gc.pause")
      pauses[rec.node].emplace_back(rec.t.ns(), std::get<double>(*rec.get("ms")));
    if (rec.type == "gc.resume") ++resumes[rec.node];
  }
  ASSERT_EQ(pauses.size(), 5u);
  const std::map<std::string, std::string> host = {
      {"zk:1", "n146"}, {"zk:2", "n147"}, {"zk:3", "n148"}, {"zk:4", "n152"}, {"zk:5", "n153"}};
  size_t lines = 0;
  for (const auto& [node, ps] : pauses) {
    std::ifstream in(dir / host.at(node) / "zookeeper_gc.log");
    ASSERT_TRUE(in) << node;
    std::string line;
    size_t i = 0;
    while (std::getline(in, line)) {
      SCOPED_TRACE(line);
      int Y, M, D, h, m, sec, ms, up_s, up_ms, len_s, len_frac;
      char tz[6] = {};
      ASSERT_EQ(std::sscanf(line.c_str(),
                            "%d-%d-%dT%d:%d:%d.%3d%5c: %d.%3d: [GC pause (G1 Evacuation Pause) "
                            "(young), %d.%7d secs]",
                            &Y, &M, &D, &h, &m, &sec, &ms, tz, &up_s, &up_ms, &len_s, &len_frac),
                12);
      EXPECT_STREQ(tz, "+0800");
      ASSERT_LT(i, ps.size());
      // The scenario's t=0 is 2025-07-20 00:00:00 local.
      int64_t start_ms =
          ((static_cast<int64_t>(D - 20) * 24 + h) * 60 + m) * 60000 + sec * 1000 + ms;
      EXPECT_EQ(Y * 100 + M, 202507);
      EXPECT_EQ(start_ms * 1000000, ps[i].first);  // exact: pauses start on whole milliseconds
      EXPECT_EQ(static_cast<int64_t>(len_s) * 10000000 + len_frac,
                std::llround(ps[i].second * 1e4));  // exact to 0.1 us
      int64_t up = static_cast<int64_t>(up_s) * 1000 + up_ms;
      int64_t born = node == "zk:2" && ps[i].first > 200'000'000'000 ? 230'000 : 0;
      EXPECT_EQ(up, start_ms - born);
      ++i;
    }
    // Every pause that ended is logged; one still running when the run stops is not (yet).
    EXPECT_EQ(i, resumes[node]) << node;
    EXPECT_GE(resumes[node] + 1, ps.size());
    lines += i;
  }
  EXPECT_GT(lines, 50u);  // 5 JVMs x 400 s / 27 s
  // zk:2 paused after its restart too (the crash does not stop its GC for good).
  EXPECT_TRUE(std::any_of(pauses["zk:2"].begin(), pauses["zk:2"].end(),
                          [](const auto& p) { return p.first > 230'000'000'000; }));
  std::filesystem::remove_all(dir);
}

TEST(World, PartitionOfTheMetaLeadersHostResolvesTheRoleWhenItFires) {
  // scenarios/fuzz/colocated-partition-meta-leader.json: at 60 s the host of whichever meta leads
  // is cut off from every other host (its loopback traffic goes on). Seed 1, 5 s: meta:node1
  // leads, its client is on zk:1 of its own host, and the finding of docs/fuzz.md follows: the
  // leader expires the session while the client stays connected; 1144 ms of two leaders whatever
  // the local timer.
  auto base =
      scenario::load(ZKSIM_SOURCE_DIR "/scenarios/fuzz/colocated-partition-meta-leader.json");
  base.faults[0].duration = sim::Duration::s(5);
  for (int64_t lt_ms : {200, 3600}) {
    SCOPED_TRACE(lt_ms);
    auto r = run_with_local_timer(base, lt_ms);
    std::string leader_at_60s, start_node, what;
    for (const auto& rec : r.records_kept) {
      if (rec.type == "meta.leader" && rec.t.since_start() < sim::Duration::s(60) &&
          std::get<bool>(*rec.get("leading")))
        leader_at_60s = rec.node;
      if (rec.type == "fault.start") {
        start_node = rec.node;
        what = rec.str("what");
      }
    }
    EXPECT_EQ(leader_at_60s, "meta:node1");
    EXPECT_EQ(start_node, "node1");
    EXPECT_EQ(what, "partition node1 | node2,node3,detector");
    ASSERT_EQ(r.metrics.meta_dual.count, 1);
    EXPECT_NEAR(r.metrics.meta_dual.max.to_ms_f(), 1144.0, 5.0);
  }
}

TEST(World, QuorumPortFaultKeepsElectionsWorkingButNoLeaderServes) {
  // Five peers (tick 2 s, initLimit 10, syncLimit 5), myid 5 leads on node5. At 20 s the leader's
  // host loses ZooKeeper's quorum port 2888 both ways for 25 s; its election port 3888 works.
  // The followers' reads time out T*syncLimit after the last ping; they re-elect myid 5 over the
  // election port (out of election: myid 5 is still LEADING, a quorum still following it), but
  // their connects to node5:2888 go unanswered, so no leader serves until the heal: one window of
  // 16.0 s. The same fault on the whole link instead elects myid 4 at once (352 ms window).
  json d = minimal();
  d["duration"] = "60s";
  d["faults"] = json::parse(
      R"([{"at":"20s","kind":"partition","target":"zk:leader","port":2888,"for":"25s"}])");
  for (bool port : {true, false}) {
    SCOPED_TRACE(port);
    if (!port) d["faults"][0].erase("port");
    world::RunOptions opt;
    opt.keep_records = true;
    auto r = world::run(from_json(d, "x.json", "."), opt);
    std::string what;
    std::vector<int64_t> timeouts_ms;
    std::map<int64_t, int> elected_in_fault;  // leader -> elections it won in [20 s, 45 s)
    std::vector<int64_t> followed_5_ms;       // a peer's election ends following myid 5
    for (const auto& rec : r.records_kept) {
      int64_t t_ms = rec.t.since_start().count_ns() / 1'000'000;
      if (rec.type == "fault.start") what = rec.str("what");
      if (rec.type == "zk.follower.exception" && rec.str("cause") == "read timeout")
        timeouts_ms.push_back(t_ms);
      if (rec.type == "zk.election" && rec.str("role") == "LEADING" && t_ms >= 20'000 &&
          t_ms < 45'000)
        ++elected_in_fault[rec.get_int("leader")];
      if (rec.type == "zk.election" && rec.get_int("leader") == 5 && t_ms >= 20'000)
        followed_5_ms.push_back(t_ms);
    }
    EXPECT_EQ(timeouts_ms, (std::vector<int64_t>{29'979, 29'979, 29'979, 29'979}));
    ASSERT_EQ(r.metrics.zk_unavailable.count, 1);
    if (port) {
      EXPECT_EQ(what, "partition node5 | node1,node2,node3,node4 port 2888");
      // myid 5 stays elected: it never had to win a new round (it was still LEADING).
      EXPECT_TRUE(elected_in_fault.empty());
      EXPECT_EQ(followed_5_ms, (std::vector<int64_t>{30'009, 30'012, 30'019, 30'022}));
      EXPECT_NEAR(r.metrics.zk_unavailable.max.to_ms_f(), 16'005.6, 0.1);
      // The followers give up on node5:2888 only when the healed port answers the SYN with a
      // refusal (myid 5 has stopped leading): four connect failures at ~45.4 s.
      int refused = 0;
      for (const auto& rec : r.records_kept)
        refused += rec.type == "zk.follower.exception" && rec.str("cause") == "connect failed";
      EXPECT_EQ(refused, 4);
    } else {
      EXPECT_EQ(what, "partition node5 | node1,node2,node3,node4");
      EXPECT_EQ(elected_in_fault, (std::map<int64_t, int>{{4, 1}}));
      EXPECT_TRUE(followed_5_ms.empty());
      EXPECT_NEAR(r.metrics.zk_unavailable.max.to_ms_f(), 352.0, 0.1);
    }
  }
}

TEST(World, DetectorIsAPureObserver) {
  // Fuzz and sweep campaigns run without the detector (RunOptions::detector = false). That is only
  // sound if the detector changes nothing else: every other record, in order and byte for byte,
  // and every metric must be the same with and without it. Checked on the scenarios where it
  // matters most: the dual-leader seed (the detector sees [L L]), the incident (21 minutes of
  // faults and pauses) and the fuzz speed scenario (GC on every JVM), plus a fault schedule with
  // the meta leader paused, so the detector's RPCs queue in a paused meta.
  std::vector<scenario::Scenario> cases;
  for (const char* f : {"/scenarios/ifdown-2022-08-04.json", "/scenarios/incident-2025-07-20.json",
                        "/scenarios/fuzz/perf-5x5-gc-120s.json"}) {
    cases.push_back(scenario::load(std::string(ZKSIM_SOURCE_DIR) + f));
    cases.back().detector.enabled = true;  // the incident's scenario has it off
  }
  {
    auto sc = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/fuzz/perf-5x5-gc-120s.json");
    scenario::FaultSpec pause;
    pause.kind = "pause";
    pause.target = "meta:leader";
    pause.at = sim::Duration::s(40);
    pause.duration = sim::Duration::s(9);
    sc.faults.push_back(pause);
    cases.push_back(sc);
  }
  for (const auto& sc : cases) {
    SCOPED_TRACE(sc.name);
    world::RunOptions on, off;
    on.keep_records = off.keep_records = true;
    off.detector = false;
    auto a = world::run(sc, on);
    auto b = world::run(sc, off);
    std::vector<std::string> la, lb;
    size_t detector_records = 0;
    for (const auto& r : a.records_kept) {
      if (r.node == "detector") {
        ++detector_records;
        continue;
      }
      la.push_back(sim::to_json_line(r));
    }
    for (const auto& r : b.records_kept) {
      EXPECT_NE(r.node, "detector");
      lb.push_back(sim::to_json_line(r));
    }
    // At one matrix per 300 ms tick, the detector is a large share of the run's records.
    EXPECT_GT(detector_records, static_cast<size_t>(sc.duration.count_ns() / 400'000'000));
    ASSERT_EQ(la.size(), lb.size());
    for (size_t i = 0; i < la.size(); ++i) ASSERT_EQ(la[i], lb[i]) << "record " << i;
    EXPECT_EQ(world::to_json(a)["metrics"], world::to_json(b)["metrics"]);
    EXPECT_EQ(a.violations, b.violations);
    EXPECT_LT(b.events, a.events);
  }
}

TEST(World, CoLocatedPartitionOfTheMetaLeaderBeatsAnyLocalTimer) {
  // Finding of the P1 campaigns on co-located ZooKeeper (docs/fuzz.md, findings): a two-way
  // partition of the meta leader's host (node1, also ZooKeeper follower zk:1) for 3.13 s, about
  // ST/2. The meta's client talks to the zk:1 on its own host and never loses it, so its local
  // timer never starts. The leader zk:3 only hears of zk:1's sessions in zk:1's answers to its
  // pings; TCP's retransmission back-off (0.2, 0.4, 0.8, 1.6, 3.2 s) keeps the link to zk:1
  // silent until ~6 s after the first loss, well after the heal, so zk:3 expires the sessions
  // held at zk:1 and meta:node3 leads, while meta:node1 leads on until the expiry reaches zk:1,
  // which closes its connection. The dual-leader window is the same for any local timer; a
  // partition of 3.0 s (one back-off step less) gives none.
  auto base = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/fuzz/ifdown-2022-timer1500.json");
  base.seed = 1;
  scenario::FaultSpec part;
  part.kind = "partition";
  part.at = sim::Duration::ms(50'839);
  part.duration = sim::Duration::ms(3'130);
  part.groups = {{"node1"}, {"node2", "node3"}};
  base.faults = {part};
  for (int64_t lt_ms : {50, 200, 1500, 3600}) {
    SCOPED_TRACE(lt_ms);
    auto r = run_with_local_timer(base, lt_ms);
    ASSERT_EQ(r.metrics.meta_dual.count, 1);
    EXPECT_NEAR(r.metrics.meta_dual.max.to_ms_f(), 1142.5, 20.0);
    // zk:3 expires the sessions held at zk:1 at 56.0 s, ~2 s after the heal (53.969 s).
    int expired = 0;
    bool timer_started = false, stopped_by_expiry = false;
    for (const auto& rec : r.records_kept) {
      if (rec.type == "zk.session.expire") {
        ++expired;
        EXPECT_EQ(rec.node, "zk:3");
        EXPECT_NEAR(rec.t.since_start().to_ms_f(), 56'002.0, 5.0);
      }
      if (rec.node == "meta:node1" && rec.type == "meta.timer" && rec.str("action") == "start" &&
          rec.t.since_start() < sim::Duration::ms(57'000)) {
        timer_started = true;
      }
      if (rec.node == "meta:node1" && rec.type == "meta.stop") {
        stopped_by_expiry = rec.str("cause") == "session_expired";
      }
    }
    EXPECT_GE(expired, 1);  // meta:node1's session (and any other held at zk:1)
    EXPECT_FALSE(timer_started) << "the local timer should not even start before the expiry";
    EXPECT_TRUE(stopped_by_expiry);
  }
  // One back-off step less: the retransmission at +3.0 s lands after the heal, touches arrive.
  auto shorter = base;
  shorter.faults[0].duration = sim::Duration::ms(3'000);
  auto r = world::run(shorter, world::RunOptions{});
  EXPECT_EQ(r.metrics.meta_dual.count, 0);
}

TEST(Scenario, CutBothWaysRoundTripsAndOnlyCutsTakeIt) {
  json d = minimal();
  d["faults"] = json::parse(
      R"([{"at":"2s","kind":"cut","from":"node4","to":"node5","both":true,"port":2888,"for":"1s"}])");
  auto sc = from_json(d, "x.json", ".");
  ASSERT_EQ(sc.faults.size(), 1u);
  EXPECT_TRUE(sc.faults[0].both);
  json back = scenario::fault_to_json(sc.faults[0]);
  EXPECT_EQ(back["both"], true);
  EXPECT_EQ(back["port"], 2888);
  d["faults"] = json::array({back});
  EXPECT_TRUE(from_json(d, "x.json", ".").faults[0].both);
  // One direction writes no "both".
  d["faults"] = json::parse(R"([{"at":"2s","kind":"cut","from":"node4","to":"node5"}])");
  EXPECT_FALSE(scenario::fault_to_json(from_json(d, "x.json", ".").faults[0]).contains("both"));
  d["faults"] =
      json::parse(R"([{"at":"1s","kind":"partition","host":"node1","both":true,"for":"1s"}])");
  expect_error(d, {"faults[0].both", "only a cut fault"});
  d["faults"] = json::parse(R"([{"at":"1s","kind":"cut","from":"node1","to":"node2","both":1}])");
  expect_error(d, {"faults[0].both"});
}

TEST(World, QuorumPortCutBetweenOneFollowerAndTheLeaderStrandsThatFollowerOnly) {
  // Port 2888 cut both ways between node4 and the leader's node5 from 20 s to 45 s (the election
  // port works, every other pair too). zk:4's read times out T*syncLimit after its last ping; it
  // re-elects myid 5 (still LEADING with a quorum) and its connect to node5:2888 hangs until the
  // heal lets the SYN through: one exception, zk:4 back in broadcast 35 ms after the heal, and
  // the ensemble serves all along. Then `restart` of the running zk:1 at 50 s kills and boots it.
  json d = minimal();
  d["duration"] = "60s";
  d["faults"] = json::parse(
      R"([{"at":"20s","kind":"cut","from":"node4","to":"node5","both":true,"port":2888,"for":"25s"},
          {"at":"50s","kind":"restart","target":"zk:1"}])");
  world::RunOptions opt;
  opt.keep_records = true;
  auto r = world::run(from_json(d, "x.json", "."), opt);
  std::vector<std::string> whats;
  std::vector<std::pair<std::string, int64_t>> exceptions;
  int64_t zk4_back_ms = -1, zk1_crashed_ms = -1, zk1_looking_ms = -1, zk1_follows = -1;
  for (const auto& rec : r.records_kept) {
    int64_t t_ms = rec.t.since_start().count_ns() / 1'000'000;
    if (rec.type == "fault.start") whats.emplace_back(rec.str("what"));
    if (rec.type == "zk.follower.exception") exceptions.push_back({rec.node, t_ms});
    if (rec.type == "zk.state" && rec.node == "zk:4" && t_ms > 20'000 && zk4_back_ms < 0 &&
        rec.str("phase") == "broadcast")
      zk4_back_ms = t_ms;
    if (rec.type == "zk.state" && rec.node == "zk:1" && t_ms >= 50'000) {
      if (rec.get("crashed") && zk1_crashed_ms < 0)
        zk1_crashed_ms = t_ms;
      else if (rec.str("state") == "LOOKING" && zk1_looking_ms < 0)
        zk1_looking_ms = t_ms;
      else if (rec.str("state") == "FOLLOWING" && zk1_follows < 0)
        zk1_follows = rec.get_int("leader");
    }
  }
  EXPECT_EQ(whats, (std::vector<std::string>{"cut node4 <-> node5 port 2888", "restart zk:1"}));
  EXPECT_EQ(exceptions, (std::vector<std::pair<std::string, int64_t>>{{"zk:4", 29'979}}));
  EXPECT_EQ(zk4_back_ms, 45'035);
  EXPECT_EQ(r.metrics.zk_unavailable.count, 0);
  EXPECT_EQ(zk1_crashed_ms, 50'000);
  EXPECT_GE(zk1_looking_ms, 50'350);  // the JVM boots again: 350..700 ms
  EXPECT_LE(zk1_looking_ms, 50'700);
  EXPECT_EQ(zk1_follows, 5);
}

// meta.startAt pins a meta's start (replay reads it from each meta's first line); the others
// still draw theirs from startJitter, on their own streams, so pinning one moves no other.
TEST(World, MetaStartAtPinsThatMetaAndLeavesTheOthersDrawn) {
  auto first_quorum = [](const world::RunResult& r) {
    std::map<std::string, int64_t> at;
    for (const auto& rec : r.records_kept)
      if (rec.type == "meta.quorum") at.emplace(rec.node, rec.t.ns());
    return at;
  };
  scenario::Scenario sc = scenario::load(ZKSIM_SOURCE_DIR "/scenarios/ifdown-2022-08-04.json");
  sc.faults.clear();
  sc.duration = sim::Duration::s(80);
  world::RunOptions opt;
  opt.keep_records = true;
  auto drawn = first_quorum(world::run(sc, opt));
  ASSERT_EQ(drawn.size(), 3u);
  sc.meta.start_at["node2"] = sim::Duration::ms(12345);
  auto pinned = first_quorum(world::run(sc, opt));
  ASSERT_EQ(pinned.size(), 3u);
  EXPECT_EQ(pinned["meta:node2"], 12'345'000'000);
  EXPECT_NE(drawn["meta:node2"], 12'345'000'000);
  EXPECT_EQ(pinned["meta:node1"], drawn["meta:node1"]);
  EXPECT_EQ(pinned["meta:node3"], drawn["meta:node3"]);
}

TEST(Scenario, MetaStartAtNamesTheBadField) {
  json d = minimal();
  d["meta"] = json::parse(R"({"hosts":["node1","node2"],"startAt":{"node9":"1s"}})");
  expect_error(d, {"meta.startAt.node9", "no meta on host"});
  d["meta"]["startAt"] = json::parse(R"({"node1":"-1s"})");
  expect_error(d, {"meta.startAt.node1"});
  d["meta"]["startAt"] = json::parse(R"({"node1":"soon"})");
  expect_error(d, {"meta.startAt.node1"});
  d["meta"]["startAt"] = json::parse(R"({"node1":"30s"})");  // the run is 30 s long
  expect_error(d, {"meta.startAt.node1", "after the end"});
  d["meta"]["startAt"] = json::parse(R"(["node1"])");
  expect_error(d, {"meta.startAt", "expected an object"});
  d["meta"]["startAt"] = json::parse(R"({"node2":"1500ms"})");
  EXPECT_EQ(from_json(d, "x.json", ".").meta.start_at.at("node2"), sim::Duration::ms(1500));
}

// Values the loader used to accept and the run then hung on, failed an internal invariant with,
// or ran as nonsense (found by an adversarial pass over the CLI, 2026-12-07).
TEST(Scenario, ValuesThatCannotRunAreRefusedByName) {
  auto with = [](const char* key_path, const json& v) {
    json d = minimal();
    d["meta"] = json::object();
    scenario::apply_override(d, std::string(key_path) + "=" + v.dump());
    return d;
  };
  expect_error(with("zk.count", 1), {"zk.count", "at least 2 peers", "standalone"});
  expect_error(with("zk.peers", json::array()), {"zk.peers", "at least 2 peers"});
  expect_error(with("zk.tickTime", "2h"), {"zk.tickTime", "at most 1h"});
  expect_error(with("zk.maxSessionTimeout", "1ms"),
               {"zk.maxSessionTimeout", "below the minimum session timeout (4s, 2 x tickTime)"});
  json d = with("zk.minSessionTimeout", "10s");
  d["zk"]["maxSessionTimeout"] = "5s";
  expect_error(d, {"zk.maxSessionTimeout", "5s is below the minimum session timeout (10s)"});
  expect_error(with("meta.localTimer", "0"), {"meta.localTimer", "positive"});
  expect_error(with("meta.electionPath", ""), {"meta.electionPath", "not a znode path"});
  expect_error(with("meta.electionPath", "/zbs//meta"), {"meta.electionPath"});
  expect_error(with("meta.hosts", json::array()), {"meta.hosts", "empty"});
  expect_error(with("meta.startJitter", "30s"), {"meta.startJitter", "not shorter than the run"});
  expect_error(with("gc.zk", ""), {"gc.zk", "empty path"});
  expect_error(with("gc.zk", json{{"model", ""}}), {"gc.zk.model", "empty path"});
  expect_error(with("gc.zk", json{{"pause", "0"}, {"interval", "0"}}),
               {"gc.zk.interval", "median gap must be more than 0"});
  expect_error(with("logs.epoch", "2022-02-31T00:00:00"), {"logs.epoch", "no such date-time"});
  expect_error(with("logs.epoch", "2023-02-29T00:00:00"), {"logs.epoch", "no such date-time"});
  EXPECT_NO_THROW(from_json(with("logs.epoch", "2024-02-29T00:00:00"), "x.json", "."));
}

TEST(Scenario, FaultsThatMeanNothingAreRefusedByName) {
  auto fault = [](const char* f) {
    json d = minimal();
    d["faults"] = json::array({json::parse(f)});
    return d;
  };
  expect_error(fault(R"({"at":"1s","kind":"ifdown","host":"*","for":"1s"})"),
               {"faults[0].host", "\"*\"", "ifdown"});
  expect_error(fault(R"({"at":"1s","kind":"partition","host":"*","for":"1s"})"),
               {"faults[0].host", "\"*\"", "partition"});
  expect_error(fault(R"({"at":"1s","kind":"crash","target":"zk:1","for":"5s"})"),
               {"faults[0].for", "restartAfter"});
  expect_error(
      fault(R"({"at":"1s","kind":"pause","target":"zk:1","for":"1s","restartAfter":"1s"})"),
      {"faults[0].restartAfter", "only a crash"});
  expect_error(fault(R"({"at":"1s","kind":"cut","from":"node1","to":"node1","for":"1s"})"),
               {"faults[0].to", "cut from itself"});
  expect_error(fault(R"({"at":"1s","kind":"partition","groups":[[],[]],"for":"1s"})"),
               {"faults[0].groups[0]", "empty group"});
  expect_error(fault(R"({"at":"1s","kind":"partition","groups":[["node1"],["node1","node2"]],
                         "for":"1s"})"),
               {"faults[0].groups[1]", "\"node1\" is in two groups"});
  // Still accepted: "*" for the ends of a cut and for latency/loss links; one group against the
  // rest.
  for (const char* ok :
       {R"({"at":"1s","kind":"cut","from":"node1","to":"*","for":"1s"})",
        R"({"at":"1s","kind":"latency","host":"*","latency":"5ms","for":"1s"})",
        R"({"at":"1s","kind":"partition","groups":[["node1","node2"]],"for":"1s"})"})
    EXPECT_NO_THROW(from_json(fault(ok), "x.json", ".")) << ok;
}

// The message of scenario::load's error on `path` ("" if it loads).
std::string load_error(const std::filesystem::path& path) {
  try {
    scenario::load(path.string());
  } catch (const sim::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Scenario, JsonInputsThatWouldCrashTheLoaderAreErrors) {
  auto dir = std::filesystem::temp_directory_path() / "zksim-scenario-test";
  std::filesystem::create_directories(dir);
  // 70,000 nested arrays: copying the parsed document would recurse that deep (a segfault).
  auto deep = dir / "deep.json";
  std::ofstream(deep) << R"({"duration":"1s","comment":)" << std::string(70000, '[')
                      << std::string(70000, ']') << "}";
  EXPECT_NE(load_error(deep).find("deep.json: invalid JSON: nested deeper than"), std::string::npos)
      << load_error(deep);
  auto big = dir / "big-number.json";
  std::ofstream(big) << R"({"duration":"1s","seed":1e400})";
  EXPECT_NE(load_error(big).find("big-number.json: invalid JSON"), std::string::npos)
      << load_error(big);
  EXPECT_NE(load_error(dir).find("a folder, not a scenario file"), std::string::npos)
      << load_error(dir);
  json d = minimal();
  EXPECT_THROW(scenario::apply_override(d, ".=5"), sim::ConfigError);
  EXPECT_THROW(
      scenario::apply_override(d, "comment=" + std::string(300, '[') + std::string(300, ']')),
      sim::ConfigError);
}

// A GC model whose pauses outlast its gaps, on a JVM that crashes: the next pause was due at the
// instant the JVM was found down, over and over (the run never ended). Pauses now start at least
// a millisecond apart.
TEST(World, GcPausesLongerThanTheirGapsOnACrashedJvmStillEnd) {
  json d = minimal();
  d["gc"] = json{{"zk", {{"pause", "2s"}, {"interval", "1s"}}}};
  d["faults"] = json::parse(R"([{"at":"5s","kind":"crash","target":"zk:1","restartAfter":"10s"}])");
  scenario::Scenario sc = from_json(d, "x.json", ".");
  world::RunResult r = world::run(sc, {});
  EXPECT_EQ(r.sim_time, sim::Duration::s(30));
  EXPECT_LT(r.events, 20000u);
  // Back-to-back 2 s pauses: 15 per JVM in 30 s, 5 fewer on zk:1 while it is down for 10 s.
  EXPECT_EQ(r.metrics.gc_pauses, 70u);
}

// A latency draw past a day is clamped there (it used to overflow the clock: an internal failure).
TEST(World, AbsurdLatencyTailsAreClampedNotOverflowed) {
  json d = minimal();
  d["network"] = json{{"latency", {{"dist", "lognormal"}, {"mu", 100}, {"sigma", 20}}}};
  scenario::Scenario sc = from_json(d, "x.json", ".");
  world::RunResult r = world::run(sc, {});
  EXPECT_EQ(r.sim_time, sim::Duration::s(30));
  EXPECT_EQ(r.metrics.zk_elections, 0u);  // no message arrives within the run
}

// Unavailability counts from the first leader on; an ensemble that never elects one breaks
// maxZkUnavailable on its own (it used to pass with "no zk leader 0 windows").
TEST(World, AServiceThatNeverComesUpBreaksItsUnavailabilityBound) {
  json d = minimal();
  d["network"] = json{{"latency", "1h"}};
  d["meta"] = json::object();
  d["checks"] = json{{"maxZkUnavailable", "1s"}, {"maxMetaUnavailable", "1s"}};
  world::RunResult r = world::run(from_json(d, "x.json", "."), {});
  ASSERT_EQ(r.violations.size(), 2u);
  EXPECT_NE(r.violations[0].find("no meta leader in the whole run"), std::string::npos);
  EXPECT_NE(r.violations[1].find("no ZooKeeper leader in broadcast in the whole run"),
            std::string::npos);
  d["network"] = json{{"latency", "1ms"}};
  EXPECT_TRUE(world::run(from_json(d, "x.json", "."), {}).violations.empty());
}
