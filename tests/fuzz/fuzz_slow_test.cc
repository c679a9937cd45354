// The "tests that must hold" for zksim fuzz, with the run counts (label: slow).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tools/fuzz/fuzz.h"

namespace {

using namespace zksim::fuzz;
using sim::Duration;

std::string scen(const char* rel) {
  return std::string(ZKSIM_SOURCE_DIR) + "/scenarios/" + rel;
}

std::string dump_failures(const CampaignResult& r) {
  std::string out;
  for (const auto& f : r.failures) {
    out += fmt::format("{} run {}: {}\n{}", property_name(f.property), f.index, f.minimal_violation,
                       describe(f.minimal));
  }
  return out;
}

// Writes the failing scenario, loads it back as `zksim run` would, runs it with no options and
// returns the result.
world::RunResult replay(const scenario::Scenario& base, const Failure& f, const Bounds& b,
                        const std::string& name) {
  std::string dir = std::string(ZKSIM_BINARY_DIR) + "/tests/fuzz/out";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + name + ".json";
  {
    std::ofstream o(path);
    o << failing_scenario(base, f.minimal, f.property, b, "test").dump(2);
  }
  scenario::Scenario sc = scenario::load(path);
  EXPECT_EQ(sc.seed, f.minimal.seed);
  return world::run(sc, world::RunOptions{});
}

// Every one-step simplification of `s` passes: `s` is locally minimal.
void expect_locally_minimal(const scenario::Scenario& base, const Schedule& s, Property p,
                            const Bounds& b, Duration earliest) {
  scenario::Scenario work = base;
  for (const auto& c : shrink_candidates(base, s, earliest)) {
    auto v = check(p, run_schedule(work, c, false), b, !c.faults.empty());
    EXPECT_FALSE(v.has_value()) << "a simpler schedule still fails:\n" << describe(c) << *v;
  }
}

// 2022 configuration (local timer 3600 ms): P1 finds a dual leader within 2000 runs; the
// shrunk schedule is one fault touching the meta leader (an isolation, or a pause of the leader
// process), near the threshold, and replays to the same violation.
void p1_2022(const std::set<std::string>& kinds, const char* name) {
  auto base = scenario::load(scen("ifdown-2022-08-04.json"));
  CampaignConfig c;
  c.properties = {Property::P1};
  c.gen = default_gen_config(base, c.bounds);
  c.gen.kinds = kinds;
  c.seed = 1;
  c.runs = 2000;
  c.jobs = 2;
  c.shrink_per_property = 1;
  CampaignResult r = run_campaign(base, c);
  ASSERT_FALSE(r.failing_runs[0].empty());
  ASSERT_EQ(r.failures.size(), 1u);
  const Failure& f = r.failures[0];
  SCOPED_TRACE(dump_failures(r));
  ASSERT_EQ(f.minimal.faults.size(), 1u);
  const auto& fault = f.minimal.faults[0];
  EXPECT_TRUE(fault.kind == "ifdown" || fault.kind == "pause") << fault.kind;
  EXPECT_EQ(fault.target, "meta:leader");
  ASSERT_TRUE(fault.duration.has_value());
  // The leader is cut off for about the session timeout (6 s): ZooKeeper expires the session
  // ST after the last touch, which can be up to ST/3 before the fault starts.
  EXPECT_GE(*fault.duration, Duration::s(4));
  EXPECT_LE(*fault.duration, Duration::s(10));
  Duration longest, latest;
  for (const auto& o : f.original.faults) {
    longest = std::max(longest, o.duration.value_or(o.restart_after.value_or(Duration::zero())));
    latest = std::max(latest, o.at);
  }
  EXPECT_LE(*fault.duration, longest);
  EXPECT_LE(fault.at, latest);
  EXPECT_GE(fault.at, c.gen.window_from);
  // Near the threshold: 100 ms shorter, 100 ms earlier or any other simplification passes.
  expect_locally_minimal(base, f.minimal, Property::P1, c.bounds, c.gen.window_from);

  world::RunResult rr = replay(base, f, c.bounds, name);
  auto v = check(Property::P1, rr, c.bounds, true);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, f.minimal_violation);
  ASSERT_EQ(rr.violations.size(), 1u);
  EXPECT_EQ(rr.violations[0].rfind("dual meta leaders", 0), 0u) << rr.violations[0];
}

TEST(FuzzSlow, P1Finds2022DualLeaderAndShrinksToOneFault) {
  p1_2022({}, "p1-2022-all");
}

TEST(FuzzSlow, P1Finds2022DualLeaderNetworkFaultsOnly) {
  p1_2022({"ifdown", "partition", "cut"}, "p1-2022-net");
}

// The derived safe local timer (LT < ST/3 - d: 1500 ms for ST 6 s) survives 5000 schedules of
// isolation faults on the metas' side: ifdowns, partitions, one-way cuts of the metas' hosts and
// meta crashes. ZooKeeper runs on hosts of its own. Left out, with reasons (docs/fuzz.md): meta
// pauses (no local timer covers a paused process) and latency/loss spikes (they raise d, the
// one-way latency in the bound: 85 % loss for 5.8 s gives a 251 ms overlap).
TEST(FuzzSlow, P1SafeTimerFindsNothingIn5000Runs) {
  auto base = scenario::load(scen("fuzz/timer1500-separate-hosts.json"));
  CampaignConfig c;
  c.properties = {Property::P1};
  c.gen = default_gen_config(base, c.bounds);
  c.gen.kinds = {"ifdown", "partition", "cut", "crash"};
  c.gen.hosts = {"node1", "node2", "node3"};
  ASSERT_EQ(validate(c.gen, base), "");
  c.seed = 1;
  c.runs = 5000;
  c.jobs = 2;
  c.shrink_per_property = 1;
  CampaignResult r = run_campaign(base, c);
  EXPECT_TRUE(r.failing_runs[0].empty()) << r.failing_runs[0].size() << " failing runs\n"
                                         << dump_failures(r);
  EXPECT_EQ(r.internal_errors, 0u);
  // The mechanism, seen in the rare-path probes: the campaign did reach what the bound is about
  // (leaders' local timers fired, ZooKeeper expired sessions, in over a thousand runs each), and
  // no meta ever learnt of its expiry from ZooKeeper: its own timer always fired first.
  std::map<std::string, uint64_t> probes(r.probe_runs.begin(), r.probe_runs.end());
  EXPECT_GT(probes["meta.timer.fired_leading"], 1000u);
  EXPECT_GT(probes["zk.session.expired"], 1000u);
  EXPECT_EQ(probes["meta.session.expired_by_zookeeper_leading"], 0u);
  EXPECT_EQ(probes["meta.session.expired_by_zookeeper_not_leading"], 0u);
  // The same campaign with the 2022 timer (3600 ms > ST/3) does find dual leaders, and leaders
  // that hear of their expiry from ZooKeeper: the test can fail.
  auto unsafe = base;
  unsafe.meta.local_timer = Duration::ms(3600);
  c.runs = 1000;
  c.shrink_per_property = 0;
  CampaignResult u = run_campaign(unsafe, c);
  EXPECT_FALSE(u.failing_runs[0].empty());
  std::map<std::string, uint64_t> uprobes(u.probe_runs.begin(), u.probe_runs.end());
  EXPECT_GT(uprobes["meta.session.expired_by_zookeeper_leading"], 0u);
}

// The same timer with ZooKeeper co-located (a peer on every meta host, as in the seeds' clusters)
// and every fault kind but meta pauses. The bound LT < ST/3 - d does not hold here, and not
// through a model defect (docs/fuzz.md, findings): a partition or one-way cut between ZooKeeper
// peers of ~ST/2 stalls the leader's link to a follower for ~6 s (TCP back-off), the leader
// expires the sessions held at that follower while their clients, on the same host, stay
// connected, and no local timer starts. The campaign finds such schedules; the first three
// shrink to one fault each (a leader pause of 5.7 s, two one-way cuts node3 -> node1 of ~3.4 s).
// World.CoLocatedPartitionOfTheMetaLeaderBeatsAnyLocalTimer pins one such schedule down.
TEST(FuzzSlow, P1CoLocatedZooKeeperBeatsTheSafeTimer) {
  auto base = scenario::load(scen("fuzz/ifdown-2022-timer1500.json"));
  CampaignConfig c;
  c.properties = {Property::P1};
  c.gen = default_gen_config(base, c.bounds);
  c.gen.meta_pauses = false;
  c.seed = 1;
  c.runs = 5000;
  c.jobs = 2;
  c.shrink_per_property = 3;
  CampaignResult r = run_campaign(base, c);
  EXPECT_EQ(r.internal_errors, 0u);
  // 265 of 5000 on 2026-11-23, 249 since loss is drawn per retransmission, 247 since a refused
  // election connection completes its connect (2026-12-07); a large change either way means the
  // model changed.
  EXPECT_GT(r.failing_runs[0].size(), 100u);
  EXPECT_LT(r.failing_runs[0].size(), 600u);
  // The finding: one partition, cut or ZooKeeper-leader pause is enough. A shrunk schedule may keep
  // a second fault only if it is needed (run 57: 30% loss shifting an ifdown's timing by the ms).
  size_t shrunk = 0, single = 0;
  for (const auto& f : r.failures) {
    if (!f.shrunk) continue;
    ++shrunk;
    single += f.minimal.faults.size() == 1;
    EXPECT_LE(f.minimal.faults.size(), 2u) << dump_failures(r);
    expect_locally_minimal(base, f.minimal, Property::P1, c.bounds, c.gen.window_from);
  }
  EXPECT_EQ(shrunk, 3u);
  EXPECT_GE(single, 2u) << dump_failures(r);
}

// The 200 ms local timer: P2 with a 1 s bound finds the spurious failover, a blip of the meta
// leader's host shorter than the session timeout that outlasts the client's 2/3 ST receive
// timeout; the same schedule is harmless with the 3600 ms timer.
TEST(FuzzSlow, P2Timer200FindsSpuriousFailover) {
  auto base = scenario::load(scen("fuzz/timer200-p2-separate-hosts.json"));
  CampaignConfig c;
  c.properties = {Property::P2};
  ASSERT_EQ(complete_bounds(base, c.properties, c.bounds), "");
  c.gen = default_gen_config(base, c.bounds);
  c.gen.kinds = {"ifdown", "partition", "cut"};
  c.gen.hosts = {"node1", "node2", "node3"};
  c.seed = 1;
  c.runs = 1000;
  c.jobs = 2;
  c.shrink_per_property = 1;
  CampaignResult r = run_campaign(base, c);
  ASSERT_FALSE(r.failing_runs[1].empty());
  ASSERT_EQ(r.failures.size(), 1u);
  const Failure& f = r.failures[0];
  SCOPED_TRACE(dump_failures(r));
  ASSERT_EQ(f.minimal.faults.size(), 1u);
  Duration len = *f.minimal.faults[0].duration;
  // The client times out 2/3 ST = 4 s after its last receive, which can be up to ST/3 = 2 s (the
  // idle ping interval) before the blip starts; the session (ST = 6 s) survives.
  EXPECT_GT(len, Duration::s(2));
  EXPECT_LT(len, Duration::s(6));
  EXPECT_GE(f.minimal.faults[0].at, c.gen.window_from);
  expect_locally_minimal(base, f.minimal, Property::P2, c.bounds, c.gen.window_from);

  world::RunResult rr = replay(base, f, c.bounds, "p2-timer200");
  auto v = check(Property::P2, rr, c.bounds, true);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, f.minimal_violation);
  ASSERT_EQ(rr.violations.size(), 1u);

  // With the 2022 timer (3600 ms) the blip heals before the meta stops.
  scenario::Scenario work = base;
  work.meta.local_timer = Duration::ms(3600);
  EXPECT_FALSE(check(Property::P2, run_schedule(work, f.minimal, false), c.bounds, true));
}

// Liveness, stronger than P4: 35 s after the last fault heals, every ZooKeeper peer is back in
// broadcast (leading or following) and every meta's client is connected, not just a quorum and a
// leader. Over 1000 random schedules (all kinds, 1..4 faults) on two layouts. Before 2026-12-07 the
// network drew every retransmission's fate when a segment was first sent, and a peer whose links
// had been lossy could stay LOOKING to the end of the run: 18 of 1000 runs of the 5x5 scenario.
TEST(FuzzSlow, EveryPeerAndClientRecoversAfterTheLastHeal) {
  for (const char* rel : {"fuzz/perf-5x5-gc-120s.json", "ifdown-2022-08-04.json"}) {
    SCOPED_TRACE(rel);
    auto base = scenario::load(scen(rel));
    GenConfig g = default_gen_config(base, Bounds{});
    g.max_faults = 4;
    g.heal_by = base.duration - Duration::s(35);
    g.window_to = g.heal_by - Duration::ms(100);
    ASSERT_EQ(validate(g, base), "");
    scenario::Scenario work = base;
    int stuck_runs = 0, faults = 0;
    for (uint64_t i = 0; i < 1000; ++i) {
      Schedule s = generate_run(base, g, 7, i);
      faults += static_cast<int>(s.faults.size());
      std::map<std::string, std::string> zk, client;  // last state per process
      sim::FnSink last([&](const sim::Record& r) {
        if (r.type == "zk.state") {
          zk[r.node] = std::string(r.str("phase"));
        } else if (r.type == "client.state") {
          client[r.node] = std::string(r.str("to"));
        }
      });
      work.faults = s.faults;
      world::RunOptions opt;
      opt.seed = s.seed;
      opt.hash = false;
      opt.detector = false;
      opt.extra_sinks = {&last};
      world::run(work, opt);
      std::string bad;
      for (const auto& [node, phase] : zk)
        if (phase != "broadcast") bad += fmt::format(" {} in {};", node, phase);
      for (const auto& [node, state] : client)
        if (state != "CONNECTED_STATE") bad += fmt::format(" {}'s client {};", node, state);
      EXPECT_EQ(zk.size(), base.zk.peers.size());
      if (!bad.empty()) {
        ++stuck_runs;
        ADD_FAILURE() << "run " << i << ":" << bad << "\n" << describe(s);
      }
      if (stuck_runs > 3) break;
    }
    EXPECT_GT(faults, 2000);  // 1..4 faults a run: the runs did break things
  }
}

}  // namespace
