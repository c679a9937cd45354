// Fault scenarios on a 5-peer ensemble (tickTime 2000, initLimit 10, syncLimit 5 unless said),
// asserting times against ZK-SEMANTICS.md / ZK-MEASURED.md.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/zk/cluster.h"

namespace zktest {
namespace {

// Times of the first record of `type` per node at/after `since`.
std::map<std::string, Time> first_per_node(const Cluster& c, const std::string& type, Time since) {
  std::map<std::string, Time> out;
  for (const auto* r : c.records(type, since)) {
    if (!out.count(r->node)) out[r->node] = r->t;
  }
  return out;
}

// The peer FLE must pick among `live`: highest (epoch, zxid, sid).
int expected_winner(Cluster& c, const std::vector<int>& live) {
  int best = -1;
  for (int id : live) {
    auto& p = c.peer(id);
    if (best < 0) {
      best = id;
      continue;
    }
    auto& b = c.peer(best);
    auto k1 = std::make_tuple(p.epoch(), p.last_zxid(), id);
    auto k2 = std::make_tuple(b.epoch(), b.last_zxid(), best);
    if (k1 > k2) best = id;
  }
  return best;
}

TEST(zkStartup, FiveIdlePeersElectAndBroadcast) {
  Cluster c(5);
  c.run_until(s(3));
  ASSERT_TRUE(c.stable());
  // All boot within 0.35-0.7 s; election 200 ms finalize; activation ~150 ms.
  auto t = c.first_state("LEADING", "broadcast", Time::zero());
  ASSERT_TRUE(t);
  EXPECT_GT(t->since_start(), ms(550));
  EXPECT_LT(t->since_start(), ms(1500));
  EXPECT_EQ(c.leader(), 5);  // all zxids 0 at start: the highest sid wins
  EXPECT_EQ(c.peer(5).epoch(), 1);
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(c.peer(i).serving()) << i;
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
}

// Scenario 1: leader paused 12 s. Returns false (after checking safety and eventual recovery)
// when FLE hit its real race: the best peer went LOOKING first, its first notifications reached
// peers still FOLLOWING (which do not keep them), and a worse proposal reached a quorum before the
// best peer's 200 ms re-send (ZK-SEMANTICS.md §3; the failed leader then waits initLimit ticks).
bool leader_pause_12s(uint64_t seed, zk::Config cfg = {}, bool strict = true) {
  Cluster c(5, cfg, seed);
  c.run_until(s(20));
  EXPECT_TRUE(c.stable());
  if (!c.stable()) return false;
  int old = c.leader();
  std::vector<int> live;
  for (int i = 1; i <= 5; ++i) {
    if (i != old) live.push_back(i);
  }
  int winner = expected_winner(c, live);
  Time t0 = c.now();
  Duration tsy = cfg.tick * cfg.sync_limit;
  c.pause(old, s(12));
  c.run_for(s(30));

  auto exc = first_per_node(c, "zk.follower.exception", t0);
  EXPECT_EQ(exc.size(), 4u);
  Time last_exc = t0;
  for (const auto& [node, t] : exc) {
    // The last ping reached the follower at most tickTime/2 before the pause.
    EXPECT_GE(t - t0, tsy - cfg.tick / 2) << node;
    EXPECT_LE(t - t0, tsy + ms(1)) << node;
    last_exc = std::max(last_exc, t);
  }
  auto* rec = c.first_state_rec("LEADING", "broadcast", t0);
  EXPECT_NE(rec, nullptr);
  if (!rec) return false;
  if (!strict && (rec->node != fmt::format("zk:{}", winner) || rec->t - last_exc >= s(1))) {
    c.run_for(cfg.tick * cfg.init_limit * 3);
    EXPECT_TRUE(c.stable());
    EXPECT_EQ(c.two_leaders_same_epoch(), "");
    return false;
  }
  EXPECT_EQ(rec->node, fmt::format("zk:{}", winner));
  EXPECT_LT(rec->t - last_exc, s(1));
  EXPECT_GT(rec->t - last_exc, cfg.finalize_wait);
  EXPECT_EQ(rec->get_int("epoch"), c.peer(winner).epoch());

  // The old leader resumes at t0+12s, fails its next quorum check (within one tick), goes
  // LOOKING and rejoins as a follower of the new leader.
  Time resume = t0 + s(12);
  auto lost = c.records("zk.leader.quorum_lost", resume, fmt::format("zk:{}", old));
  EXPECT_EQ(lost.size(), 1u);
  if (lost.size() != 1) return false;
  EXPECT_LE(lost[0]->t - resume, cfg.tick + ms(1));
  EXPECT_EQ(lost[0]->get_str("synced"), fmt::format("[{}]", old));
  auto looking = c.first_state("LOOKING", "election", resume, fmt::format("zk:{}", old));
  auto back = c.first_state("FOLLOWING", "broadcast", resume, fmt::format("zk:{}", old));
  EXPECT_TRUE(looking && back);
  if (!looking || !back) return false;
  EXPECT_LT(*back - *looking, s(1));
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.leader(), winner);
  EXPECT_EQ(c.peer(old).leader_id(), winner);
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
  return true;
}

TEST(zkScenario, LeaderPaused12s) {
  EXPECT_TRUE(leader_pause_12s(1));
}
TEST(zkScenario, LeaderPaused12sManySeeds) {
  // Most runs elect the best live peer within a second (as all 6 measured runs did); the FLE
  // race above costs some runs initLimit ticks. Both outcomes keep safety.
  int fast = 0;
  for (uint64_t seed = 2; seed <= 21; ++seed) {
    SCOPED_TRACE(seed);
    fast += leader_pause_12s(seed, zk::Config{}, false) ? 1 : 0;
  }
  std::printf("leader pause 12s: %d/20 seeds elected the best peer within 1 s\n", fast);
  EXPECT_GE(fast, 14);
}

// Scenario 3: a follower paused 15 s.
TEST(zkScenario, FollowerPaused15s) {
  Cluster c(5);
  c.run_until(s(20));
  ASSERT_TRUE(c.stable());
  int l = c.leader();
  int f = l == 1 ? 2 : 1;
  Time t0 = c.now();
  c.pause(f, s(15));
  c.run_for(s(14));
  // The ensemble keeps serving; the leader dropped the silent learner after its T*Sy read timeout.
  EXPECT_EQ(c.leader(), l);
  EXPECT_TRUE(c.records("zk.election", t0).empty());
  auto drops = c.records("zk.leader.learner_drop", t0);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0]->get_int("sid"), f);
  EXPECT_GE(drops[0]->t - t0, s(9));
  EXPECT_LE(drops[0]->t - t0, s(10) + ms(1));
  auto synced = c.peer(l).synced_sids();
  EXPECT_EQ(std::count(synced.begin(), synced.end(), f), 0);
  c.run_for(s(5));
  Time resume = t0 + s(15);
  std::string node = fmt::format("zk:{}", f);
  auto exc = c.records("zk.follower.exception", resume, node);
  ASSERT_EQ(exc.size(), 1u);
  EXPECT_LE(exc[0]->t - resume, ms(5));
  auto fol = c.first_state("FOLLOWING", "broadcast", resume, node);
  ASSERT_TRUE(fol);
  // Measured: LOOKING +6-7 ms, FOLLOWING +20 ms, broadcast +33-44 ms (tolerance 200 ms).
  EXPECT_LE(*fol - resume, ms(244));
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.leader(), l);
  EXPECT_EQ(c.records("zk.election", t0).size(), 1u);  // only the resumed follower's
}

// Scenario 4: leader crash (process dead, host up), restarted 20 s later.
TEST(zkScenario, LeaderCrashAndRestart) {
  Cluster c(5);
  c.run_until(s(20));
  ASSERT_TRUE(c.stable());
  int old = c.leader();
  Time t0 = c.now();
  c.crash(old, s(20));
  c.run_for(s(5));
  auto exc = first_per_node(c, "zk.follower.exception", t0);
  ASSERT_EQ(exc.size(), 4u);
  for (const auto& [node, t] : exc) {
    EXPECT_LE(t - t0, ms(5)) << node;
    EXPECT_EQ(c.records("zk.follower.exception", t0, node)[0]->get_str("cause"), "EOF");
  }
  auto lead = c.first_state("LEADING", "election", t0);
  auto bc = c.first_state("LEADING", "broadcast", t0);
  ASSERT_TRUE(lead && bc);
  // Measured: LEADING 271-298 ms, broadcast 344-544 ms after the kill (tolerance 200 ms).
  EXPECT_GE(*lead - t0, ms(71));
  EXPECT_LE(*lead - t0, ms(498));
  EXPECT_GE(*bc - t0, ms(144));
  EXPECT_LE(*bc - t0, ms(744));
  c.run_for(s(20));
  Time restart = t0 + s(20);
  std::string node = fmt::format("zk:{}", old);
  auto fol = c.first_state("FOLLOWING", "election", restart, node);
  auto fb = c.first_state("FOLLOWING", "broadcast", restart, node);
  ASSERT_TRUE(fol && fb);
  // Measured: FOLLOWING 420-786 ms, broadcast 480-916 ms after the restart.
  EXPECT_GE(*fol - restart, ms(220));
  EXPECT_LE(*fol - restart, ms(986));
  EXPECT_LE(*fb - restart, ms(1116));
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
}

// Scenario 5: leader host isolated (ifdown) 30 s.
void leader_ifdown(zk::Config cfg, Duration down) {
  Cluster c(5, cfg);
  c.run_until(s(20));
  ASSERT_TRUE(c.stable());
  int old = c.leader();
  Time t0 = c.now();
  Duration tsy = cfg.tick * cfg.sync_limit;
  c.ifdown(old, down);
  c.run_for(down);
  auto exc = first_per_node(c, "zk.follower.exception", t0);
  ASSERT_EQ(exc.size(), 4u);
  for (const auto& [node, t] : exc) {
    EXPECT_GE(t - t0, tsy - cfg.tick / 2) << node;
    EXPECT_LE(t - t0, tsy + ms(1)) << node;
  }
  auto bc = c.first_state_rec("LEADING", "broadcast", t0);
  ASSERT_NE(bc, nullptr);
  EXPECT_NE(bc->node, fmt::format("zk:{}", old));
  EXPECT_LE(bc->t - t0, tsy + s(1));
  // The isolated leader gives up after about syncLimit ticks and then stays LOOKING.
  auto lost = c.records("zk.leader.quorum_lost", t0, fmt::format("zk:{}", old));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_GE(lost[0]->t - t0, tsy - cfg.tick);
  EXPECT_LE(lost[0]->t - t0, tsy + cfg.tick * 2);
  EXPECT_EQ(c.peer(old).state(), Peer::State::Looking);
  EXPECT_FALSE(c.first_state("FOLLOWING", "", lost[0]->t, fmt::format("zk:{}", old)));
  EXPECT_FALSE(c.first_state("LEADING", "", lost[0]->t, fmt::format("zk:{}", old)));
  // After ifup it rejoins the new leader; the delay is TCP's retransmission back-off on the
  // election connections plus FLE's notification back-off, bounded by maxNotificationInterval.
  Time up = c.now();
  c.run_for(cfg.max_notification_interval + s(5));
  auto fb = c.first_state("FOLLOWING", "broadcast", up, fmt::format("zk:{}", old));
  ASSERT_TRUE(fb);
  ::testing::Test::RecordProperty("rejoin_after_ifup_ms", static_cast<int>((*fb - up).to_ms()));
  std::printf("rejoin after ifup: %lld ms\n", static_cast<long long>((*fb - up).to_ms()));
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
}

TEST(zkScenario, LeaderIfdown30s) {
  leader_ifdown(zk::Config{}, s(30));
}

// Scenario 6: partitions.
TEST(zkScenario, LeaderInMinorityPartition) {
  Cluster c(5);
  c.run_until(s(20));
  ASSERT_TRUE(c.stable());
  int l = c.leader();
  int other = l == 1 ? 2 : 1;
  std::vector<int> majority;
  for (int i = 1; i <= 5; ++i) {
    if (i != l && i != other) majority.push_back(i);
  }
  Time t0 = c.now();
  c.partition({{l, other}, majority}, s(40));
  c.run_for(s(15));
  Peer* nl = c.leader_in_broadcast();
  ASSERT_NE(nl, nullptr);
  EXPECT_NE(std::find(majority.begin(), majority.end(), nl->myid()), majority.end());
  EXPECT_EQ(c.peer(l).state(), Peer::State::Looking);
  EXPECT_EQ(c.peer(other).state(), Peer::State::Looking);
  auto bc = c.first_state("LEADING", "broadcast", t0);
  ASSERT_TRUE(bc);
  EXPECT_LE(*bc - t0, s(11));
  c.run_for(s(25 + 70));
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
}

TEST(zkScenario, FollowerMinorityPartitionKeepsLeader) {
  Cluster c(5);
  c.run_until(s(20));
  int l = c.leader();
  std::vector<int> minority, majority;
  for (int i = 1; i <= 5; ++i) {
    if (i != l && minority.size() < 2) {
      minority.push_back(i);
    } else {
      majority.push_back(i);
    }
  }
  Time t0 = c.now();
  c.partition({minority, majority}, s(30));
  c.run_for(s(25));
  EXPECT_EQ(c.leader(), l);
  EXPECT_TRUE(c.records("zk.leader.quorum_lost", t0).empty());
  for (int m : minority) EXPECT_EQ(c.peer(m).state(), Peer::State::Looking) << m;
  c.run_for(s(70));
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.leader(), l);
}

TEST(zkScenario, NoQuorumPartitionHasNoLeaderUntilHeal) {
  Cluster c(5);
  c.run_until(s(20));
  Time t0 = c.now();
  c.partition({{1, 2}, {3, 4}, {5}}, s(60));
  c.run_for(s(15));
  Time quiet = c.now();
  EXPECT_EQ(c.leader_in_broadcast(), nullptr);
  c.run_for(s(44));
  // Nobody reaches broadcast while the partition lasts.
  EXPECT_FALSE(c.first_state("LEADING", "broadcast", quiet));
  EXPECT_FALSE(c.first_state("FOLLOWING", "broadcast", quiet));
  c.run_for(s(1) + s(70));
  EXPECT_TRUE(c.stable());
  EXPECT_TRUE(c.first_state("LEADING", "broadcast", t0 + s(60)));
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
}

}  // namespace
}  // namespace zktest
