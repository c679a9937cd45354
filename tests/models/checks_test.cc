// The checks observer on hand-built record streams: ZooKeeper safety, availability from the
// model's own view (paused leaders serve nobody), and scenario checks turned into violations.
// The window arithmetic itself is tested in tests/meta/metrics_test.cc.
#include <gtest/gtest.h>

#include "models/checks/checks.h"

namespace {

sim::Time ms(int64_t v) {
  return sim::Time::zero() + sim::Duration::ms(v);
}

void zk_state(sim::Trace& tr, int64_t t, int id, const char* state, const char* phase, int leader,
              int epoch) {
  sim::Rec(tr, ms(t), "zk.state", "zk:" + std::to_string(id))
      .f("state", state)
      .f("phase", phase)
      .f("epoch", epoch)
      .f("leader", leader)
      .emit();
}

scenario::Scenario three_peers() {
  scenario::Scenario sc;
  sc.zk.peers = {{1, "a"}, {2, "b"}, {3, "c"}};
  return sc;
}

TEST(Observer, TwoZkLeadersWithTheSameEpochIsAViolation) {
  auto sc = three_peers();
  checks::Observer obs(sc);
  sim::Trace tr;
  tr.add_sink(&obs);
  zk_state(tr, 1, 1, "LEADING", "broadcast", 1, 3);
  EXPECT_FALSE(obs.unsafe());
  zk_state(tr, 2, 2, "LEADING", "broadcast", 2, 4);
  EXPECT_FALSE(obs.unsafe());
  zk_state(tr, 3, 3, "LEADING", "broadcast", 3, 4);
  EXPECT_TRUE(obs.unsafe());
  obs.finish(ms(10));
  ASSERT_EQ(obs.violations().size(), 1u);
  EXPECT_NE(obs.violations()[0].find("epoch 4"), std::string::npos);
  EXPECT_EQ(obs.metrics().zk_elections, 3);
}

TEST(Observer, PausedLeaderServesNobody) {
  auto sc = three_peers();
  checks::Observer obs(sc);
  sim::Trace tr;
  tr.add_sink(&obs);
  zk_state(tr, 100, 1, "LEADING", "broadcast", 1, 1);
  zk_state(tr, 101, 2, "FOLLOWING", "broadcast", 1, 1);  // quorum (2 of 3) from here
  zk_state(tr, 102, 3, "FOLLOWING", "broadcast", 1, 1);
  sim::Rec(tr, ms(5000), "gc.pause", "zk:1").f("ms", 800.0).emit();
  sim::Rec(tr, ms(5800), "gc.resume", "zk:1").emit();
  // A follower pause does not cost the quorum.
  sim::Rec(tr, ms(6000), "fault.start", "zk:3").f("kind", "pause").f("what", "pause zk:3").emit();
  sim::Rec(tr, ms(7000), "fault.end", "zk:3").f("what", "pause zk:3").emit();
  // Both followers leave: no quorum from 9000 to 9300.
  zk_state(tr, 9000, 2, "LOOKING", "election", -1, 1);
  zk_state(tr, 9000, 3, "LOOKING", "election", -1, 1);
  zk_state(tr, 9300, 2, "FOLLOWING", "broadcast", 1, 1);
  obs.finish(ms(10000));
  const auto& m = obs.metrics();
  ASSERT_EQ(m.zk_unavailable.count, 2);
  EXPECT_EQ(m.zk_gap_windows[0].begin, ms(5000));
  EXPECT_EQ(m.zk_gap_windows[0].length(), sim::Duration::ms(800));
  EXPECT_EQ(m.zk_gap_windows[1].length(), sim::Duration::ms(300));
  EXPECT_EQ(m.gc_pauses, 1);
}

TEST(Observer, ChecksBecomeViolations) {
  scenario::Scenario sc;
  sc.checks.max_meta_leaders = 1;
  sc.checks.max_meta_unavailable = sim::Duration::ms(100);
  checks::Observer obs(sc);
  sim::Trace tr;
  tr.add_sink(&obs);
  sim::Rec(tr, ms(0), "meta.leader", "meta:a").f("leading", true).emit();
  sim::Rec(tr, ms(50), "meta.leader", "meta:b").f("leading", true).emit();
  sim::Rec(tr, ms(60), "meta.leader", "meta:a").f("leading", false).emit();
  sim::Rec(tr, ms(100), "meta.leader", "meta:b").f("leading", false).emit();
  sim::Rec(tr, ms(350), "meta.leader", "meta:a").f("leading", true).emit();
  obs.finish(ms(400));
  EXPECT_EQ(obs.metrics().meta_dual.count, 1);
  EXPECT_EQ(obs.metrics().meta_dual.max, sim::Duration::ms(10));
  EXPECT_EQ(obs.metrics().meta_unavailable.max, sim::Duration::ms(250));
  EXPECT_EQ(obs.violations().size(), 2u);
}

// Checks over `sc`'s bounds, the last fault healed at 2 s: meta:a leads from 0 and steps down at
// 1 s, before the heal.
struct LeaderLostBeforeHeal {
  explicit LeaderLostBeforeHeal(scenario::Scenario s) : sc(std::move(s)), obs(sc) {
    obs.set_last_heal(ms(2000));
    tr.add_sink(&obs);
    sim::Rec(tr, ms(0), "meta.leader", "meta:a").f("leading", true).emit();
    sim::Rec(tr, ms(1000), "meta.leader", "meta:a").f("leading", false).emit();
  }
  scenario::Scenario sc;
  checks::Observer obs;
  sim::Trace tr;
};

TEST(Observer, RecoveryAfterHeal) {
  scenario::Scenario sc;
  sc.checks.meta_leader_within_after_heal = sim::Duration::ms(500);
  LeaderLostBeforeHeal run(sc);
  sim::Rec(run.tr, ms(2700), "meta.leader", "meta:b").f("leading", true).emit();
  run.obs.finish(ms(9000));
  const checks::Observer& obs = run.obs;
  ASSERT_TRUE(obs.metrics().meta_recovery_after_heal.has_value());
  EXPECT_EQ(*obs.metrics().meta_recovery_after_heal, sim::Duration::ms(700));
  ASSERT_EQ(obs.violations().size(), 1u);
  EXPECT_NE(obs.violations()[0].find("took 700.000 ms"), std::string::npos) << obs.violations()[0];
}

// No leader by the end fails the bound either way, but the message says whether the run lasted
// the bound after the heal (a fuzz campaign's bound can exceed what its runs have left).
TEST(Observer, NoRecoveryByTheEndSaysHowLongTheRunWentOn) {
  for (int64_t end : {9000, 2300}) {
    SCOPED_TRACE(end);
    scenario::Scenario sc;
    sc.checks.meta_leader_within_after_heal = sim::Duration::ms(500);
    sc.checks.zk_leader_within_after_heal = sim::Duration::ms(500);
    LeaderLostBeforeHeal run(sc);
    run.obs.finish(ms(end));
    const checks::Observer& obs = run.obs;
    EXPECT_FALSE(obs.metrics().meta_recovery_after_heal.has_value());
    ASSERT_EQ(obs.violations().size(), 2u);
    const std::string& meta = obs.violations()[0];
    const std::string& zk = obs.violations()[1];
    EXPECT_NE(meta.find("no meta leader within 500.000 ms after the last fault healed"),
              std::string::npos)
        << meta;
    EXPECT_NE(zk.find("no ZooKeeper leader within 500.000 ms"), std::string::npos) << zk;
    if (end == 9000) {
      EXPECT_TRUE(meta.ends_with(": none by the end")) << meta;
    } else {
      EXPECT_TRUE(meta.ends_with(
          ": none in the 300.000 ms the run went on after it (shorter than the bound)"))
          << meta;
    }
  }
}

}  // namespace
