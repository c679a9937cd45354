// Sessions, ephemeral sequential znodes, watches, revalidation and expiry (ZK-SEMANTICS.md §4-5).
#include <gtest/gtest.h>

#include <set>

#include "tests/zk/cluster.h"

namespace zktest {
namespace {

struct Env {
  Cluster c;
  std::vector<std::unique_ptr<TestClient>> clients;
  explicit Env(zk::Config cfg = {}) : c(5, cfg) { c.run_until(s(10)); }
  TestClient& client(const std::string& name, int host_id) {
    clients.push_back(std::make_unique<TestClient>(c.sim, name, fmt::format("node{}", host_id)));
    return *clients.back();
  }
  int follower(int nth) {  // the nth follower id (0-based)
    int k = 0;
    for (int i = 1; i <= 5; ++i) {
      if (i == c.leader()) continue;
      if (k++ == nth) return i;
    }
    return -1;
  }
};

TEST(zkSession, NegotiationIsClampedTo2And20Ticks) {
  Env e;
  auto& a = e.client("cA", 1);
  auto& b = e.client("cB", 2);
  auto& d = e.client("cD", 3);
  a.connect(1, s(1));
  b.connect(2, s(100));
  d.connect(3, s(10));
  e.c.run_for(s(1));
  ASSERT_TRUE(a.connected && b.connected && d.connected);
  EXPECT_EQ(a.negotiated, s(4));
  EXPECT_EQ(b.negotiated, s(40));
  EXPECT_EQ(d.negotiated, s(10));
  // Session ids carry the creating server's id in the high byte.
  EXPECT_EQ(a.session >> 56, 1);
  EXPECT_EQ(b.session >> 56, 2);
  auto created = e.c.records("zk.session.create");
  EXPECT_EQ(created.size(), 3u);
}

TEST(zkSession, LookingServerAcceptsThenClosesWithoutResponse) {
  Env e;
  int l = e.c.leader();
  int f = e.follower(0);
  std::vector<int> rest;
  for (int i = 1; i <= 5; ++i) {
    if (i != f) rest.push_back(i);
  }
  e.c.partition({{f}, rest}, s(60));
  e.c.run_for(s(12));
  ASSERT_EQ(e.c.peer(f).state(), Peer::State::Looking);
  ASSERT_EQ(e.c.leader(), l);
  auto& a = e.client("cA", f);  // same host: not cut by the partition
  Time t = e.c.now();
  a.connect(f, s(10));
  e.c.run_for(ms(100));
  EXPECT_TRUE(a.closed);
  EXPECT_TRUE(a.responses.empty());
  ASSERT_EQ(a.close_times.size(), 1u);
  EXPECT_LT(a.close_times[0] - t, ms(5));
}

// Scenario 7: a silent client expires within (ST, ST+tick] of its last touch at the leader; its
// ephemeral znodes go in the same transaction and watchers on other servers see NodeDeleted.
TEST(zkSession, SilentClientExpiresAndEphemeralsVanishInOneTxn) {
  Env e;
  int f0 = e.follower(0), f1 = e.follower(1), f2 = e.follower(2);
  auto& a = e.client("cA", f0);
  auto& b = e.client("cB", f1);
  auto& w = e.client("cW", f2);
  a.connect(f0, s(6));
  b.connect(f1, s(6));
  w.connect(f2, s(20));
  e.c.run_for(s(1));
  ASSERT_TRUE(a.connected && b.connected && w.connected);
  a.create("/election", false, false);
  e.c.run_for(ms(50));
  a.create("/election/n_", true, true);
  a.create("/election/m_", true, true);
  e.c.run_for(ms(50));
  b.create("/election/n_", true, true);
  e.c.run_for(ms(50));
  ASSERT_EQ(a.replies.size(), 3u);
  EXPECT_EQ(a.replies[1].path, "/election/n_0000000000");
  EXPECT_EQ(a.replies[2].path, "/election/m_0000000001");
  ASSERT_EQ(b.replies.size(), 1u);
  EXPECT_EQ(b.replies[0].path, "/election/n_0000000002");
  zk::Request ex;
  ex.op = zk::Op::Exists;
  ex.path = "/election/n_0000000000";
  ex.watch = true;
  w.request(ex);
  zk::Request gc;
  gc.op = zk::Op::GetChildren;
  gc.path = "/election";
  gc.watch = true;
  w.request(gc);
  e.c.run_for(ms(50));
  ASSERT_EQ(w.replies.size(), 2u);
  EXPECT_EQ(w.replies[1].children.size(), 3u);

  // A stops pinging (its TCP connection stays open).
  a.set_pinging(false);
  Time last = a.last_send;
  Time from = e.c.now();
  e.c.run_for(s(12));
  auto exp = e.c.records("zk.session.expire", from);
  ASSERT_EQ(exp.size(), 1u);
  EXPECT_EQ(exp[0]->get_str("session"), zk::hex(a.session));
  Duration st = s(6), tick = e.c.cfg.tick;
  // Last touch at the leader is the follower's next ping reply, within tickTime/2 of `last`.
  EXPECT_GT(exp[0]->t - last, st);
  EXPECT_LE(exp[0]->t - last, st + tick + tick / 2 + ms(1));
  // Expiry happens on a bucket boundary of the leader's own clock (plus the commit round trip).
  Duration origin = e.c.peer(e.c.leader()).clock_origin();
  EXPECT_LT(((exp[0]->t.since_start() + origin) % tick), ms(10));
  auto dels = e.c.records("zk.znode.delete", from);
  ASSERT_EQ(dels.size(), 2u);
  for (auto* d : dels) EXPECT_EQ(d->get_int("zxid"), exp[0]->get_int("zxid"));
  // Watches fire on W's server as it applies the commit.
  ASSERT_EQ(w.watches.size(), 2u);
  int deleted = -1, children = -1;
  for (int i = 0; i < 2; ++i) {
    if (w.watches[i].type == zk::WatchType::NodeDeleted) deleted = i;
    if (w.watches[i].type == zk::WatchType::NodeChildrenChanged) children = i;
  }
  ASSERT_GE(deleted, 0);
  ASSERT_GE(children, 0);
  EXPECT_EQ(w.watches[deleted].path, "/election/n_0000000000");
  EXPECT_EQ(w.watches[children].path, "/election");
  EXPECT_LT(w.watch_times[deleted] - exp[0]->t, ms(20));
  EXPECT_GE(w.watch_times[deleted], exp[0]->t);
  // B is untouched; the sequence counter is never reused.
  EXPECT_EQ(e.c.peer(f2).tree().nodes.count("/election/n_0000000002"), 1u);
  b.create("/election/n_", true, true);
  e.c.run_for(ms(50));
  EXPECT_EQ(b.replies.back().path, "/election/n_0000000003");
  // A reconnect with the expired session is told so (session 0, timeout 0) and closed.
  a.disconnect();
  a.connect(f1, s(6), a.session);
  e.c.run_for(ms(100));
  ASSERT_EQ(a.responses.size(), 2u);
  EXPECT_EQ(a.responses[1].session_id, 0);
  EXPECT_EQ(a.responses[1].timeout, Duration::zero());
  EXPECT_TRUE(a.closed);
}

TEST(zkSession, RevalidationOnLearnerAndUnansweredWhileLeaderPaused) {
  Env e;
  int l = e.c.leader();
  int f0 = e.follower(0), f1 = e.follower(1);
  auto& a = e.client("cA", f0);
  a.connect(f0, s(20));
  e.c.run_for(s(1));
  ASSERT_TRUE(a.connected);
  int64_t sid = a.session;
  a.disconnect();
  a.connect(f1, s(20), sid);
  e.c.run_for(ms(50));
  ASSERT_TRUE(a.connected);
  EXPECT_EQ(a.session, sid);
  // Leader paused: the REVALIDATE round trip waits for it.
  a.disconnect();
  e.c.pause(l, s(4));
  Time t0 = e.c.now();
  a.connect(f0, s(20), sid);
  e.c.run_for(s(3));
  EXPECT_FALSE(a.connected);
  EXPECT_EQ(a.responses.size(), 2u);
  e.c.run_for(s(2));
  EXPECT_TRUE(a.connected);
  EXPECT_EQ(a.session, sid);
  EXPECT_TRUE(e.c.records("zk.election", t0).empty());
}

// Scenario 2: leader paused 5 s < T*Sy: no election. Sessions follow the facts: the leader's
// tracker expires, at resume, every session whose bucket passed during the pause, because
// follower touches only reach it in ping replies (ZK-SEMANTICS.md §4, inference from code).
void leader_pause_sessions(Duration pause) {
  Env e;
  int l = e.c.leader();
  int f0 = e.follower(0);
  auto& a = e.client("cA", f0);
  auto& b = e.client("cB", f0);
  a.connect(f0, s(4));
  b.connect(f0, s(20));
  e.c.run_for(s(2) + ms(300));
  ASSERT_TRUE(a.connected && b.connected);
  Time t0 = e.c.now();
  auto expiry_a = e.c.peer(l).session_expiry(a.session);
  ASSERT_TRUE(expiry_a);
  e.c.pause(l, pause);
  e.c.run_for(s(8));
  Time resume = t0 + pause;
  EXPECT_TRUE(e.c.records("zk.election", t0).empty());
  EXPECT_TRUE(e.c.records("zk.follower.exception", t0).empty());
  EXPECT_EQ(e.c.leader(), l);
  auto exp = e.c.records("zk.session.expire", t0);
  bool should_expire = *expiry_a <= resume;
  ASSERT_EQ(exp.size(), should_expire ? 1u : 0u);
  if (should_expire) {
    EXPECT_EQ(exp[0]->get_str("session"), zk::hex(a.session));
    EXPECT_LT(exp[0]->t - resume, ms(10));  // right after resume, before any ping reply
  }
  EXPECT_TRUE(e.c.peer(l).session_expiry(b.session).has_value());
}

TEST(zkScenario, LeaderPaused5sNoElection) {
  leader_pause_sessions(s(5));
}
TEST(zkScenario, LeaderPaused7sExpiresShortSessionsAtResume) {
  // 7 s > ST + T: the 4 s session's bucket has certainly passed.
  leader_pause_sessions(s(7));
}

TEST(zkSession, NewLeaderRearmsEverySessionAtActivation) {
  Env e;
  int l = e.c.leader();
  int f0 = e.follower(0);
  auto& a = e.client("cA", f0);
  a.connect(f0, s(30));
  e.c.run_for(s(1));
  ASSERT_TRUE(a.connected);
  a.set_pinging(false);
  Time t0 = e.c.now();
  e.c.pause(l, s(12));
  e.c.run_for(s(11));
  Peer* nl = e.c.leader_in_broadcast();
  ASSERT_NE(nl, nullptr);
  ASSERT_NE(nl->myid(), l);
  auto act = e.c.first_state("LEADING", "broadcast", t0);
  auto exp = nl->session_expiry(a.session);
  ASSERT_TRUE(act && exp);
  EXPECT_GT(*exp - *act, s(30));
  EXPECT_LE(*exp - *act, s(32));
}

// Regression (model bug): a server that applies a closeSession which did not come through its own
// connection -- here the leader's expiry applied on a follower -- closes the session's client
// connection (FinalRequestProcessor -> ServerCnxnFactory.closeSession). Before the fix the silent
// client's connection to the follower stayed open forever, serving reads of an expired session.
TEST(zkSession, ExpiryAppliedOnFollowerClosesTheSessionsConnection) {
  Env e;
  int f0 = e.follower(0);
  auto& a = e.client("cA", f0);
  a.connect(f0, s(4));
  e.c.run_for(s(1));
  ASSERT_TRUE(a.connected);
  a.create("/eph", true, false);
  e.c.run_for(ms(50));
  a.set_pinging(false);  // silent, TCP connection left open
  Time from = e.c.now();
  e.c.run_for(s(8));
  auto exp = e.c.records("zk.session.expire", from);
  ASSERT_EQ(exp.size(), 1u);
  EXPECT_EQ(e.c.peer(f0).tree().nodes.count("/eph"), 0u);
  ASSERT_TRUE(a.closed);
  ASSERT_EQ(a.close_times.size(), 1u);
  EXPECT_GE(a.close_times[0], exp[0]->t);
  EXPECT_LT(a.close_times[0] - exp[0]->t, ms(10));  // as the follower applies the commit
}

// The same when the session is closed through another server: the client that moved its session
// to f1 closes it there; f0, still holding the old connection of that session, closes it too.
TEST(zkSession, CloseSessionThroughAnotherServerClosesTheOldConnection) {
  Env e;
  int f0 = e.follower(0), f1 = e.follower(1);
  auto& a = e.client("cA", f0);
  auto& b = e.client("cB", f1);
  auto& c = e.client("cC", f0);  // another session on f0: untouched
  a.connect(f0, s(20));
  c.connect(f0, s(20));
  e.c.run_for(s(1));
  ASSERT_TRUE(a.connected && c.connected);
  b.connect(f1, s(20), a.session);  // same session, revalidated on f1
  e.c.run_for(ms(50));
  ASSERT_TRUE(b.connected);
  ASSERT_TRUE(a.connected);
  zk::Request cs;
  cs.op = zk::Op::CloseSession;
  b.request(cs);
  e.c.run_for(ms(50));
  EXPECT_EQ(e.c.records("zk.session.close").size(), 1u);
  EXPECT_TRUE(b.closed);
  EXPECT_TRUE(a.closed);
  EXPECT_FALSE(c.closed);
  EXPECT_TRUE(c.connected);
}

// Session buckets are multiples of tickTime on each JVM's own elapsed-time clock, whose origin
// is random per seed (and per restart): the phase between bucket boundaries and simulated time
// (hence pings and elections) differs across seeds.
TEST(zkSession, ExpiryBucketsFollowARandomPerSeedClockOrigin) {
  {  // Off (the default): buckets aligned to simulated time 0.
    Cluster c(5, {}, 3);
    EXPECT_EQ(c.peer(1).clock_origin(), Duration::zero());
  }
  std::set<int64_t> origins, phases;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    zk::Config cfg;
    cfg.random_clock_origin = true;
    Cluster c(5, cfg, seed);
    c.run_until(s(10));
    Peer* l = c.leader_in_broadcast();
    ASSERT_NE(l, nullptr);
    Duration tick = c.cfg.tick;
    for (int id = 1; id <= 5; ++id) {
      Duration o = c.peer(id).clock_origin();
      EXPECT_GE(o, Duration::zero());
      EXPECT_LT(o, tick);
      origins.insert(o.count_ns());
    }
    TestClient a(c.sim, "cA", fmt::format("node{}", l->myid()));
    Time t_conn = c.now();
    a.connect(l->myid(), s(6));
    c.run_for(s(1));
    ASSERT_TRUE(a.connected);
    auto exp = l->session_expiry(a.session);
    ASSERT_TRUE(exp);
    // On the leader's clock the bucket is a multiple of tickTime, in (ST, ST + T] of the touch.
    EXPECT_EQ((exp->since_start() + l->clock_origin()) % tick, Duration::zero());
    EXPECT_GT(*exp - t_conn, s(6));  // touched at session creation, just after t_conn
    EXPECT_LE(*exp - t_conn, s(6) + tick + ms(5));
    phases.insert((exp->since_start() % tick).count_ns());
    // A restarted JVM has a new clock origin.
    int f = l->myid() == 1 ? 2 : 1;
    Duration before = c.peer(f).clock_origin();
    c.crash(f, ms(100));
    c.run_for(s(1));
    EXPECT_NE(c.peer(f).clock_origin(), before);
  }
  EXPECT_EQ(origins.size(), 40u);
  EXPECT_GE(phases.size(), 7u);
}

}  // namespace
}  // namespace zktest
