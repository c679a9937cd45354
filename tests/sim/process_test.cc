#include <gtest/gtest.h>

#include "sim/sim.h"
#include "tests/sim/sim_test_util.h"

namespace sim {
namespace {

using testutil::at;
using testutil::ms;
using testutil::TestProc;

struct Hit {
  std::string what;
  int64_t t_ns;
  bool operator==(const Hit&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Hit& h) {
  return os << h.what << "@" << h.t_ns;
}

class sim_process : public ::testing::Test {
 protected:
  sim_process() {
    LinkParams lp;
    lp.latency = Dist::constant(0.001);  // 1 ms one way
    sim.net.set_default_link(lp);
    h0 = sim.net.add_host("h0");
    h1 = sim.net.add_host("h1");
  }
  void record(std::string what, Process& p) { hits.push_back(Hit{std::move(what), p.now().ns()}); }
  Sim sim{7};
  HostId h0, h1;
  std::vector<Hit> hits;
};

TEST_F(sim_process, PausedInputsRunInArrivalOrderAtResume) {
  TestProc server(sim, "server", h1), client(sim, "client", h0);
  Timer ta(server), tb(server);
  ConnId sconn = UINT64_MAX;
  sim.net.listen(server, 9, [&](ConnId c, ProcId) { sconn = c; });
  ConnId c = sim.net.connect(client, h1, 9, [](ConnId, NetError e) { ASSERT_EQ(e, NetError::Ok); });
  at(sim, ms(5), [&] { server.pause(); });
  ta.arm_at(ms(10), [&] { record("timerA", server); });
  at(sim, ms(14), [&] { sim.net.send(c, client, [&] { record("data1", server); }); });
  tb.arm_at(ms(20), [&] { record("timerB", server); });
  at(sim, ms(25), [&] { sim.net.send(c, client, [&] { record("data2", server); }); });
  at(sim, ms(100), [&] {
    EXPECT_EQ(server.state(), Process::State::Paused);
    EXPECT_TRUE(hits.empty());
    server.resume();
  });
  sim.engine.run(ms(200));
  EXPECT_NE(sconn, UINT64_MAX);
  EXPECT_EQ(hits, (std::vector<Hit>{{"timerA", ms(100).ns()},
                                    {"data1", ms(100).ns()},
                                    {"timerB", ms(100).ns()},
                                    {"data2", ms(100).ns()}}));
  EXPECT_EQ(server.hooks, (std::vector<std::string>{"pause@5000000", "resume@100000000"}));
  EXPECT_EQ(server.paused_since(), ms(5));
  EXPECT_FALSE(ta.armed());
  EXPECT_FALSE(tb.armed());
}

// Data for a paused receiver waits on its connection; the process's queue only says "take the
// next one". A handler that closes its connection drops the rest of that connection's data
// without disturbing another connection's, and a crash drops everything held.
TEST_F(sim_process, HeldDataAfterAReceiverCloseIsDroppedPerConnection) {
  TestProc server(sim, "server", h1), client(sim, "client", h0);
  std::vector<ConnId> accepted;
  sim.net.listen(server, 9, [&](ConnId c, ProcId) { accepted.push_back(c); });
  ConnId a = sim.net.connect(client, h1, 9, [](ConnId, NetError) {});
  ConnId b = sim.net.connect(client, h1, 9, [](ConnId, NetError) {});
  at(sim, ms(5), [&] { server.pause(); });
  at(sim, ms(10), [&] {
    sim.net.send(a, client, [&] {
      record("a1", server);
      sim.net.close(accepted.at(0), server);
    });
    sim.net.send(b, client, [&] { record("b1", server); });
    sim.net.send(a, client, [&] { record("a2", server); });
    sim.net.send(b, client, [&] { record("b2", server); });
  });
  at(sim, ms(20), [&] { server.resume(); });
  // Held again, then lost with the process.
  at(sim, ms(30), [&] { server.pause(); });
  at(sim, ms(31), [&] { sim.net.send(b, client, [&] { record("b3", server); }); });
  at(sim, ms(40), [&] { server.crash(); });
  at(sim, ms(41), [&] { server.restart(); });
  sim.engine.run(ms(100));
  ASSERT_EQ(accepted.size(), 2u);
  EXPECT_EQ(hits,
            (std::vector<Hit>{{"a1", ms(20).ns()}, {"b1", ms(20).ns()}, {"b2", ms(20).ns()}}));
}

TEST_F(sim_process, NestedPausesRunOnlyWhenAllEnd) {
  TestProc p(sim, "p", h0);
  Timer t(p);
  t.arm_at(ms(8), [&] { record("timer", p); });
  at(sim, ms(5), [&] { p.pause(); });
  at(sim, ms(6), [&] { p.pause(); });  // e.g. a GC pause inside a SIGSTOP
  at(sim, ms(10), [&] {
    p.resume();
    EXPECT_EQ(p.state(), Process::State::Paused);
  });
  at(sim, ms(20), [&] { p.resume(); });
  at(sim, ms(30), [&] { p.resume(); });  // unbalanced resume: ignored
  sim.engine.run(ms(100));
  EXPECT_EQ(hits, (std::vector<Hit>{{"timer", ms(20).ns()}}));
  EXPECT_EQ(p.hooks, (std::vector<std::string>{"pause@5000000", "resume@20000000"}));
  EXPECT_EQ(p.paused_since(), ms(5));
  EXPECT_TRUE(p.running());
}

TEST_F(sim_process, HandlerThatPausesAgainLeavesTheRestQueued) {
  TestProc p(sim, "p", h0);
  at(sim, ms(1), [&] { p.pause(); });
  at(sim, ms(2), [&] {
    p.deliver([&] {
      record("a", p);
      p.pause();
    });
  });
  at(sim, ms(3), [&] { p.deliver([&] { record("b", p); }); });
  at(sim, ms(10), [&] { p.resume(); });
  at(sim, ms(11), [&] { p.deliver([&] { record("c", p); }); });
  at(sim, ms(20), [&] { p.resume(); });
  sim.engine.run(ms(100));
  EXPECT_EQ(hits, (std::vector<Hit>{{"a", ms(10).ns()}, {"b", ms(20).ns()}, {"c", ms(20).ns()}}));
}

TEST_F(sim_process, CrashDropsDeferredInputsAndTimers) {
  TestProc p(sim, "p", h0);
  Timer early(p), late(p);
  early.arm_at(ms(10), [&] { record("early", p); });  // expires during the pause: deferred
  late.arm_at(ms(50), [&] { record("late", p); });    // pending in the engine at the crash
  at(sim, ms(5), [&] { p.pause(); });
  at(sim, ms(12), [&] { p.deliver([&] { record("input", p); }); });
  at(sim, ms(20), [&] {
    EXPECT_EQ(p.incarnation(), 0u);
    p.crash();
    EXPECT_EQ(p.incarnation(), 1u);
    EXPECT_FALSE(p.alive());
    p.resume();  // no effect on a crashed process
    p.pause();
    p.deliver([&] { record("after-crash", p); });
  });
  at(sim, ms(30), [&] {
    p.restart();
    EXPECT_TRUE(p.running());
  });
  at(sim, ms(31), [&] { p.deliver([&] { record("after-restart", p); }); });
  sim.engine.run(ms(100));
  EXPECT_EQ(hits, (std::vector<Hit>{{"after-restart", ms(31).ns()}}));
  EXPECT_EQ(p.hooks,
            (std::vector<std::string>{"pause@5000000", "crash@20000000", "restart@30000000"}));
  EXPECT_EQ(p.restarts, 1);
  EXPECT_EQ(p.starts, 0);
}

TEST_F(sim_process, DefaultRestartCallsOnStart) {
  struct P : Process {
    using Process::Process;
    int starts = 0;
    void on_start() override { ++starts; }
  } p(sim, "p", h0);
  p.restart();  // not crashed: nothing
  EXPECT_EQ(p.starts, 0);
  p.crash();
  p.crash();  // twice: one incarnation bump
  EXPECT_EQ(p.incarnation(), 1u);
  p.restart();
  EXPECT_EQ(p.starts, 1);
  EXPECT_TRUE(p.running());
}

TEST_F(sim_process, TimerRearmReplacesTheDeadline) {
  TestProc p(sim, "p", h0);
  Timer t(p);
  t.arm_at(ms(10), [&] { record("first", p); });
  at(sim, ms(5), [&] {
    t.arm(Duration::ms(25), [&] { record("second", p); });  // later: 30 ms
    EXPECT_EQ(t.deadline(), ms(30));
  });
  sim.engine.run(ms(100));
  EXPECT_EQ(hits, (std::vector<Hit>{{"second", ms(30).ns()}}));

  hits.clear();
  t.arm_at(ms(200), [&] { record("late", p); });
  t.arm_at(ms(150), [&] { record("earlier", p); });
  EXPECT_TRUE(t.armed());
  sim.engine.run(ms(300));
  EXPECT_EQ(hits, (std::vector<Hit>{{"earlier", ms(150).ns()}}));
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(sim.engine.pending(), 0u);  // the replaced expiry was cancelled, not left to rot
}

TEST_F(sim_process, TimerRearmedFromItsOwnCallbackFiresAgain) {
  TestProc p(sim, "p", h0);
  Timer t(p);
  int n = 0;
  std::function<void()> tick = [&] {
    record("tick", p);
    if (++n < 3) t.arm(Duration::ms(10), tick);
  };
  t.arm(Duration::ms(10), tick);
  sim.engine.run(ms(100));
  EXPECT_EQ(hits, (std::vector<Hit>{
                      {"tick", ms(10).ns()}, {"tick", ms(20).ns()}, {"tick", ms(30).ns()}}));
}

TEST_F(sim_process, TimerCancelledOrRearmedWhileDeferredDoesNotFire) {
  TestProc p(sim, "p", h0);
  Timer cancelled(p), rearmed(p);
  cancelled.arm_at(ms(10), [&] { record("cancelled", p); });
  rearmed.arm_at(ms(10), [&] { record("old", p); });
  at(sim, ms(5), [&] { p.pause(); });
  at(sim, ms(15), [&] {
    // Both expiries are already waiting in the paused process's queue.
    cancelled.cancel();
    rearmed.arm_at(ms(50), [&] { record("new", p); });
  });
  at(sim, ms(20), [&] { p.resume(); });
  sim.engine.run(ms(100));
  EXPECT_EQ(hits, (std::vector<Hit>{{"new", ms(50).ns()}}));
}

}  // namespace
}  // namespace sim

namespace sim {
namespace {

// A Timer destroyed while its expiry waits in a paused process's inputs must not run (nor touch
// freed memory: ASan checks this test in the sanitizer build).
TEST(sim_timer, DestroyedWhileDeferredNeverFires) {
  Sim s{3};
  HostId h = s.net.add_host("h");
  testutil::TestProc p(s, "p", h);
  int fired = 0;
  auto t = std::make_unique<Timer>(p);
  t->arm(Duration::ms(10), [&] { ++fired; });
  s.engine.at(Time::zero() + Duration::ms(5), [&] { p.pause(); });
  s.engine.at(Time::zero() + Duration::ms(20), [&] { t.reset(); });  // expiry is queued now
  s.engine.at(Time::zero() + Duration::ms(30), [&] { p.resume(); });
  s.engine.run(Time::zero() + Duration::ms(100));
  EXPECT_EQ(fired, 0);
}

TEST(sim_timer, NotArmedAfterCrash) {
  Sim s{3};
  HostId h = s.net.add_host("h");
  testutil::TestProc p(s, "p", h);
  Timer t(p);
  int fired = 0;
  t.arm(Duration::ms(10), [&] { ++fired; });
  EXPECT_TRUE(t.armed());
  p.crash();
  EXPECT_FALSE(t.armed());
  p.restart();
  s.engine.run(Time::zero() + Duration::ms(100));
  EXPECT_EQ(fired, 0);
  t.arm(Duration::ms(10), [&] { ++fired; });
  s.engine.run(Time::zero() + Duration::ms(200));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.armed());
}

}  // namespace
}  // namespace sim
