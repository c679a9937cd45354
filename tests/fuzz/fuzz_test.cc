// Fast tests of zksim fuzz: properties, generators, shrinker, determinism across --jobs, and
// rapidcheck properties (RC_GTEST_PROP) over small configurations. On a failure rapidcheck prints
// "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N" to reproduce it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

#include <map>
#include <set>

#include "tools/fuzz/fuzz.h"

namespace {

using namespace zksim::fuzz;
using scenario::FaultSpec;
using sim::Duration;

std::string scen(const char* rel) {
  return std::string(ZKSIM_SOURCE_DIR) + "/scenarios/" + rel;
}

TEST(FuzzProperties, ParseNames) {
  EXPECT_EQ(parse_property("p1"), Property::P1);
  EXPECT_EQ(parse_property("P4"), Property::P4);
  EXPECT_FALSE(parse_property("p5").has_value());
  EXPECT_FALSE(parse_property("").has_value());
  EXPECT_EQ(property_name(Property::P3), "P3");
}

TEST(FuzzProperties, P1CountsWindowsLongerThanTheMinimum) {
  world::RunResult r;
  Bounds b;
  EXPECT_FALSE(check(Property::P1, r, b, true));
  r.metrics.meta_dual.count = 1;
  r.metrics.meta_dual.max = Duration::ms(300);
  r.metrics.meta_dual_windows.push_back(
      checks::Window{sim::Time::zero() + Duration::s(70), sim::Time::zero() + Duration::ms(70300)});
  auto v = check(Property::P1, r, b, true);
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("300.000 ms"), std::string::npos) << *v;
  b.p1_min = Duration::ms(300);
  EXPECT_FALSE(check(Property::P1, r, b, true));  // not longer than X
  b.p1_min = Duration::ms(299);
  EXPECT_TRUE(check(Property::P1, r, b, true));
}

TEST(FuzzProperties, P2AndP4BoundRecoveryAfterHeal) {
  world::RunResult r;
  Bounds b;
  b.p2 = Duration::s(1);
  b.p4 = Duration::s(2);
  // No leader after the heal at all: a violation, but only if there were faults.
  EXPECT_TRUE(check(Property::P2, r, b, true));
  EXPECT_FALSE(check(Property::P2, r, b, false));
  r.metrics.meta_recovery_after_heal = Duration::ms(1000);
  EXPECT_FALSE(check(Property::P2, r, b, true));
  r.metrics.meta_recovery_after_heal = Duration::ms(1001);
  EXPECT_TRUE(check(Property::P2, r, b, true));
  r.metrics.zk_recovery_after_heal = Duration::ms(2000);
  EXPECT_FALSE(check(Property::P4, r, b, true));
  r.metrics.zk_recovery_after_heal = Duration::ms(2500);
  EXPECT_TRUE(check(Property::P4, r, b, true));
}

TEST(FuzzProperties, P3IsTheEpochViolation) {
  world::RunResult r;
  r.violations.push_back("dual meta leaders: 1 window(s)");
  EXPECT_FALSE(check(Property::P3, r, {}, true));
  r.violations.push_back(
      "at 12.000000s: two ZooKeeper leaders in broadcast with epoch 3: zk:1, zk:2");
  EXPECT_TRUE(check(Property::P3, r, {}, true));
}

TEST(FuzzProperties, BoundsComeFromChecksOrFlags) {
  auto sc = scenario::load(scen("fuzz/ifdown-2022-timer200-p2.json"));
  Bounds b;
  EXPECT_EQ(complete_bounds(sc, {Property::P2}, b), "");
  EXPECT_EQ(b.p2, Duration::s(1));
  Bounds none;
  EXPECT_NE(complete_bounds(sc, {Property::P4}, none).find("P4 needs a bound"), std::string::npos);
  Bounds flag;
  flag.p2 = Duration::ms(300);
  complete_bounds(sc, {Property::P2}, flag);
  EXPECT_EQ(flag.p2, Duration::ms(300));  // the flag wins
}

TEST(FuzzGenerator, DeterministicWithinBoundsAndLoadable) {
  auto base = scenario::load(scen("ifdown-2022-08-04.json"));
  GenConfig g = default_gen_config(base, {});
  // startJitter 60 s + session timeout 6 s, capped at half the run.
  EXPECT_EQ(g.window_from, Duration::s(50));
  EXPECT_EQ(g.heal_by, Duration::s(85));
  ASSERT_EQ(validate(g, base), "");
  std::set<std::string> kinds;
  size_t max_n = 0;
  for (uint64_t i = 0; i < 300; ++i) {
    Schedule s = generate_run(base, g, 42, i);
    EXPECT_TRUE(s == generate_run(base, g, 42, i));
    ASSERT_GE(s.faults.size(), 1u);
    ASSERT_LE(s.faults.size(), 3u);
    max_n = std::max(max_n, s.faults.size());
    for (const auto& f : s.faults) {
      kinds.insert(f.kind);
      EXPECT_GE(f.at, g.window_from);
      EXPECT_LE(f.at, g.window_to);
      Duration len = f.restart_after ? *f.restart_after : *f.duration;
      EXPECT_GE(len, g.min_duration);
      EXPECT_LE(len, g.max_duration);
      EXPECT_LE(f.at + len, g.heal_by);
    }
    // Every schedule is a valid scenario once written.
    auto doc = failing_scenario(base, s, Property::P1, {}, "test");
    EXPECT_NO_THROW(scenario::from_json(doc, "gen", ZKSIM_SOURCE_DIR "/scenarios")) << doc.dump();
  }
  EXPECT_EQ(kinds.size(), all_kinds().size());
  EXPECT_EQ(max_n, 3u);
  EXPECT_FALSE(generate_run(base, g, 42, 0) == generate_run(base, g, 43, 0));
}

TEST(FuzzGenerator, HostsRespected) {
  auto base = scenario::load(scen("fuzz/timer1500-separate-hosts.json"));
  GenConfig g = default_gen_config(base, {});
  g.hosts = {"node1", "node2", "node3"};
  ASSERT_EQ(validate(g, base), "");
  std::set<std::string> seen;
  for (uint64_t i = 0; i < 300; ++i) {
    for (const auto& f : generate_run(base, g, 3, i).faults) {
      if (f.kind == "ifdown" || f.kind == "latency" || f.kind == "loss") {
        if (!f.host.empty()) {
          EXPECT_TRUE(g.hosts.count(f.host)) << describe(f);
        }
        if (!f.target.empty()) {
          EXPECT_EQ(f.target, "meta:leader") << describe(f);
        }
      } else if (f.kind == "pause" || f.kind == "crash") {
        EXPECT_EQ(f.target.rfind("meta:", 0), 0u) << describe(f);
      } else if (f.kind == "partition") {
        for (const auto& h : f.groups[0]) EXPECT_TRUE(g.hosts.count(h)) << describe(f);
      } else if (f.kind == "cut") {
        EXPECT_TRUE(g.hosts.count(f.from) || g.hosts.count(f.to)) << describe(f);
      }
      seen.insert(f.kind);
    }
  }
  EXPECT_EQ(seen.size(), all_kinds().size());
  g.hosts = {"nowhere"};
  EXPECT_NE(validate(g, base).find("unknown host"), std::string::npos);
}

TEST(FuzzGenerator, KindsAndMetaPausesRespected) {
  auto base = scenario::load(scen("ifdown-2022-08-04.json"));
  GenConfig g = default_gen_config(base, {});
  g.kinds = {"pause"};
  g.meta_pauses = false;
  for (uint64_t i = 0; i < 200; ++i) {
    for (const auto& f : generate_run(base, g, 1, i).faults) {
      EXPECT_EQ(f.kind, "pause");
      EXPECT_EQ(f.target.rfind("zk:", 0), 0u) << f.target;
    }
  }
  g.kinds = {"bogus"};
  EXPECT_NE(validate(g, base).find("unknown fault kind"), std::string::npos);
}

TEST(FuzzShrink, CandidatesAreSimpler) {
  auto base = scenario::load(scen("ifdown-2022-08-04.json"));
  Schedule s;
  s.seed = 5;
  FaultSpec a;
  a.kind = "partition";
  a.at = Duration::s(70);
  a.duration = Duration::s(8);
  a.groups = {{"node2"}, {"node1", "node3"}};
  FaultSpec b;
  b.kind = "pause";
  b.target = "zk:2";
  b.at = Duration::s(72);
  b.duration = Duration::s(3);
  s.faults = {a, b};
  auto cands = shrink_candidates(base, s);
  ASSERT_GE(cands.size(), 10u);
  EXPECT_EQ(cands[0].faults.size(), 1u);  // drop the last fault first
  EXPECT_EQ(cands[0].faults[0].kind, "partition");
  bool ifdown = false, role = false;
  for (const auto& c : cands) {
    ASSERT_LE(c.faults.size(), 2u);
    if (c.faults.size() == 2 && c.faults[0].kind == "ifdown" && c.faults[0].host == "node2")
      ifdown = true;
    if (c.faults.size() == 2 && c.faults[1].target == "zk:leader") role = true;
    for (size_t i = 0; i < c.faults.size() && c.faults.size() == 2; ++i) {
      EXPECT_LE(c.faults[i].at, s.faults[i].at);
      EXPECT_LE(*c.faults[i].duration, *s.faults[i].duration);
    }
  }
  EXPECT_TRUE(ifdown);
  EXPECT_TRUE(role);
}

// Found by FuzzRc.P3ZooKeeperSafety3Peers (rapidcheck seed 1888835985438293161): a follower in
// discovery, its connect to the new leader refused (the leader's process had just crashed), is
// paused through the 100 ms retry wait for 5 s, past tickTime*initLimit. On resuming it must fail
// discovery at once ("connectToLeader exceeded on retries"), not arm its connect deadline in the
// past (an engine invariant failure before the fix).
TEST(FuzzRegression, FollowerPausedThroughAConnectRetryPastInitLimit) {
  scenario::Scenario sc = scenario::load(scen("fuzz/zk3.json"));
  FaultSpec a, b, c;
  a.kind = "pause";
  a.target = "zk:leader";
  a.at = Duration::ms(4953);
  a.duration = Duration::ms(100);
  b.kind = "pause";
  b.target = "zk:1";
  b.at = Duration::ms(7876);
  b.duration = Duration::ms(4999);
  c.kind = "crash";
  c.target = "zk:3";
  c.at = Duration::ms(7338);
  c.restart_after = Duration::ms(100);
  sc.faults = {a, b, c};
  world::RunOptions ro;
  ro.seed = 0;
  ro.keep_records = true;
  world::RunResult r;
  ASSERT_NO_THROW(r = world::run(sc, ro));
  std::vector<const sim::Record*> exc;
  for (const auto& rec : r.records_kept)
    if (rec.type == "zk.follower.exception" && rec.node == "zk:1") exc.push_back(&rec);
  ASSERT_EQ(exc.size(), 2u);
  EXPECT_EQ(exc[0]->str("cause"), "EOF");                 // the leader zk:3 crashed at 7.338 s
  EXPECT_EQ(exc[1]->t, sim::Time::from_ns(12875000000));  // resumed at 7.876 + 4.999 s
  EXPECT_EQ(exc[1]->str("cause"), "connect timeout");
  EXPECT_EQ(exc[1]->str("phase"), "discovery");
  EXPECT_TRUE(r.violations.empty()) << r.violations.front();
}

TEST(FuzzShrink, DescribeIsShortAndReadable) {
  FaultSpec f;
  f.kind = "ifdown";
  f.target = "meta:leader";
  f.at = Duration::ms(70250);
  f.duration = Duration::ms(7300);
  EXPECT_EQ(describe(f), "at 70.25s ifdown meta:leader for 7.3s");
  f.kind = "crash";
  f.target = "zk:leader";
  f.duration.reset();
  f.restart_after = Duration::s(2);
  EXPECT_EQ(describe(f), "at 70.25s crash zk:leader, restart after 2s");
}

// The same campaign seed gives the same failures and the same shrunk schedules whatever --jobs.
TEST(FuzzCampaign, SameResultsWithOneAndTwoJobs) {
  auto base = scenario::load(scen("ifdown-2022-08-04.json"));
  CampaignConfig c;
  c.properties = {Property::P1, Property::P2};
  c.bounds.p2 = Duration::s(3);
  c.gen = default_gen_config(base, c.bounds);
  c.seed = 2024;
  c.runs = 150;
  c.shrink_per_property = 1;
  c.shrink_max_runs = 40;
  c.jobs = 1;
  CampaignResult one = run_campaign(base, c);
  c.jobs = 2;
  CampaignResult two = run_campaign(base, c);
  EXPECT_EQ(one.events, two.events);
  for (int p = 0; p < kProperties; ++p) EXPECT_EQ(one.failing_runs[p], two.failing_runs[p]);
  // Rare-path coverage is a sum over runs: the same whatever the job count. The 2022 incident's
  // faults reach the paths it is about, in some runs and not all.
  EXPECT_EQ(one.probe_runs, two.probe_runs);
  std::map<std::string, uint64_t> probes(one.probe_runs.begin(), one.probe_runs.end());
  EXPECT_GE(one.probe_runs.size(), 20u);
  for (const char* p : {"meta.timer.fired_leading", "meta.timer.reconnected_in_time",
                        "zk.session.expired", "client.recv_timeout"}) {
    EXPECT_GT(probes[p], 0u) << p;
    EXPECT_LT(probes[p], c.runs) << p;
  }
  // Nothing in 150 runs of faults up to 15 s reaches TCP's own 127 s connect timeout.
  EXPECT_EQ(probes["net.tcp.syn_timeout"], 0u);
  ASSERT_FALSE(one.failing_runs[0].empty()) << "the 2022 timer should give some dual leaders";
  ASSERT_EQ(one.failures.size(), two.failures.size());
  for (size_t i = 0; i < one.failures.size(); ++i) {
    EXPECT_EQ(one.failures[i].index, two.failures[i].index);
    EXPECT_TRUE(one.failures[i].minimal == two.failures[i].minimal);
    EXPECT_EQ(one.failures[i].minimal_violation, two.failures[i].minimal_violation);
  }
}

// ---------------------------------------------------------------------------------------------
// rapidcheck properties. Schedules come from rc::gen, so rapidcheck shrinks them itself.

FaultSpec rc_zk_fault(const scenario::Scenario& sc, Duration heal_by) {
  const int n = static_cast<int>(sc.zk.peers.size());
  FaultSpec f;
  f.kind = *rc::gen::element<std::string>("partition", "pause", "crash", "ifdown", "cut");
  f.at = Duration::ms(*rc::gen::inRange<int64_t>(2000, heal_by.to_ms() - 200));
  Duration len = Duration::ms(*rc::gen::inRange<int64_t>(100, heal_by.to_ms() - f.at.to_ms()));
  auto peer = [&] { return *rc::gen::inRange(1, n + 1); };
  if (f.kind == "partition") {
    std::vector<std::string> a, b;
    for (int i = 1; i <= n; ++i)
      (*rc::gen::arbitrary<bool>() ? a : b).push_back(fmt::format("node{}", i));
    if (a.empty() || b.empty()) a = {"node1"}, b.clear();
    if (b.empty())
      for (int i = 2; i <= n; ++i) b.push_back(fmt::format("node{}", i));
    f.groups = {a, b};
    f.duration = len;
  } else if (f.kind == "pause" || f.kind == "crash") {
    f.target =
        *rc::gen::arbitrary<bool>() ? std::string("zk:leader") : fmt::format("zk:{}", peer());
    if (f.kind == "pause")
      f.duration = len;
    else
      f.restart_after = len;
  } else if (f.kind == "ifdown") {
    f.host = fmt::format("node{}", peer());
    f.duration = len;
  } else {
    int a = peer(), b = peer();
    if (a == b) b = a % n + 1;
    f.from = fmt::format("node{}", a);
    f.to = fmt::format("node{}", b);
    f.duration = len;
  }
  return f;
}

void zk_safety(const char* file) {
  static std::map<std::string, scenario::Scenario> cache;
  if (!cache.count(file)) {
    auto sc = scenario::load(scen(file));
    sc.duration = Duration::s(30);
    cache[file] = sc;
  }
  scenario::Scenario work = cache[file];
  Schedule s;
  s.seed = *rc::gen::inRange<uint64_t>(0, 1u << 20);
  int n = *rc::gen::inRange(1, 5);
  for (int i = 0; i < n; ++i) s.faults.push_back(rc_zk_fault(work, Duration::s(25)));
  RC_LOG() << describe(s);
  auto r = run_schedule(work, s, /*stop_on_unsafe=*/true);
  auto v = check(Property::P3, r, {}, true);
  RC_ASSERT(!v.has_value());
}

RC_GTEST_PROP(FuzzRc, P3ZooKeeperSafety3Peers, ()) {
  zk_safety("fuzz/zk3.json");
}
RC_GTEST_PROP(FuzzRc, P3ZooKeeperSafety5Peers, ()) {
  zk_safety("fuzz/zk5.json");
}

// With the derived safe local timer, isolating the meta leader's host for any time never
// produces two meta leaders (ZooKeeper on hosts of its own: see docs/fuzz.md for what happens
// when the isolated host also runs the ZooKeeper leader).
RC_GTEST_PROP(FuzzRc, P1SafeTimerIsolatingTheLeader, ()) {
  static const scenario::Scenario base = scenario::load(scen("fuzz/timer1500-separate-hosts.json"));
  scenario::Scenario work = base;
  Schedule s;
  s.seed = *rc::gen::inRange<uint64_t>(0, 1u << 20);
  FaultSpec f;
  f.kind = "ifdown";
  f.target = "meta:leader";
  f.at = Duration::ms(*rc::gen::inRange<int64_t>(66000, 75000));
  f.duration = Duration::ms(*rc::gen::inRange<int64_t>(100, 15000));
  s.faults.push_back(f);
  RC_LOG() << describe(s);
  auto r = run_schedule(work, s, false);
  RC_ASSERT(!check(Property::P1, r, {}, true).has_value());
}

}  // namespace
