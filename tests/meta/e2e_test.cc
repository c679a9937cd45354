// End to end: three hosts node1..3, each with a ZooKeeper peer (zk::Peer) and a meta server; the
// seed's fault is an ifdown of the meta leader's host (ZK-SEMANTICS §9, docs/meta-model.md).
#include <gtest/gtest.h>

#include <memory>

#include "models/zbs/meta.h"
#include "models/zbs/metrics.h"
#include "models/zk/config.h"
#include "models/zk/peer.h"
#include "sim/sim.h"

namespace {

using sim::Duration;
using sim::Time;

Time at_ms(int64_t v) {
  return Time::from_ns(v * 1000'000);
}

struct Outcome {
  zbs::LeaderMetrics m;
  bool old_leader_stopped = false;
  std::string old_leader;
};

// Runs one ifdown of the meta leader's host (which is chosen not to be the ZooKeeper leader, as
// in the seed) for `outage`, starting at `t0_ms`.
Outcome run(uint64_t seed, Duration local_timer, Duration outage, int64_t t0_ms) {
  sim::Sim sim(seed);
  sim::VectorSink sink;
  sim.trace.add_sink(&sink);
  zk::Config zc;
  std::vector<zk::PeerSpec> ens = {{1, "node1"}, {2, "node2"}, {3, "node3"}};
  std::vector<std::unique_ptr<zk::Peer>> peers;
  std::vector<std::unique_ptr<zbs::Meta>> metas;
  for (int i = 1; i <= 3; ++i) {
    sim::HostId h = sim.net.add_host("node" + std::to_string(i));
    sim.net.set_host_address(h, "172.16.91." + std::to_string(i));
  }
  for (int i = 1; i <= 3; ++i) peers.push_back(std::make_unique<zk::Peer>(sim, zc, ens, i));
  for (int i = 1; i <= 3; ++i) {
    zbs::MetaConfig mc;
    mc.servers = {{"node1"}, {"node2"}, {"node3"}};
    mc.session_timeout = Duration::s(6);
    mc.local_timer = local_timer;
    metas.push_back(std::make_unique<zbs::Meta>(sim, static_cast<sim::HostId>(i - 1), mc));
  }
  for (auto& p : peers) p->start();
  sim.engine.run(at_ms(8000));
  int zk_leader = -1;
  for (int i = 0; i < 3; ++i) {
    if (peers[i]->state() == zk::Peer::State::Leading && peers[i]->serving()) zk_leader = i;
  }
  EXPECT_GE(zk_leader, 0) << "no ZooKeeper leader after 8 s, seed " << seed;
  // The meta on the next host after the ZK leader boots first and wins the meta election.
  int first = (zk_leader + 1) % 3;
  metas[first]->start();
  sim.engine.run(at_ms(8300));
  for (int i = 0; i < 3; ++i) {
    if (i != first) metas[i]->start();
  }
  sim.engine.run(at_ms(t0_ms));
  EXPECT_TRUE(metas[first]->is_leader()) << "seed " << seed;
  sim::HostId h = static_cast<sim::HostId>(first);
  sim.net.set_host_up(h, false);
  sim.engine.at(at_ms(t0_ms) + outage, [&sim, h] { sim.net.set_host_up(h, true); });
  sim.engine.run(at_ms(t0_ms + 30'000));
  std::vector<zbs::LeaderFlip> flips;
  Outcome o;
  o.old_leader = metas[first]->name();
  for (const auto& r : sink.records) {
    if (r.type == "meta.leader") flips.push_back({r.t, r.node, std::get<bool>(*r.get("leading"))});
    if (r.type == "meta.stop" && r.node == o.old_leader) o.old_leader_stopped = true;
  }
  o.m = zbs::compute_leader_metrics(flips, at_ms(t0_ms + 30'000), at_ms(t0_ms));
  return o;
}

TEST(meta_e2e, IfdownOf4sRarelyExpiresASixSecondSession) {
  // The last touch is within 2 s (ST/3, the ping period) before the ifdown, so the session
  // expires no earlier than ifdown + 4 s: the client is usually back in time (within one
  // recv_timeout/60 delay and a revalidation after the ifup) and nothing fails over. Only when the
  // last touch falls just before ifdown - 2 s does the expiry beat the reconnect.
  int failovers = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    Outcome o = run(seed, Duration::ms(3600), Duration::s(4), 20'000 + 337 * seed);
    failovers += o.m.leader_changes;
    EXPECT_LE(o.m.dual.total, Duration::ms(1620)) << "seed " << seed;
  }
  EXPECT_LE(failovers, 2);
}

TEST(meta_e2e, LongIfdownWithTheSeedsTimerOverlapsOrGapsByThePhases) {
  // Overlap = (t_r + 2/3 ST + LT) - (expiry + watch), expiry in (touch + ST, touch + ST + 1.5 T]
  // (a follower's touch reaches the leader up to T/2 late): overlap in (LT - ST/3 - 1.5 T,
  // LT - ST/3) = (-1400 ms, 1600 ms) for ST = 6 s, T = 2 s, LT = 3600 ms.
  int overlaps = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    Outcome o = run(seed, Duration::ms(3600), Duration::s(12), 20'000 + 337 * seed);
    EXPECT_TRUE(o.old_leader_stopped) << "seed " << seed;
    EXPECT_EQ(o.m.leader_changes, 1) << "seed " << seed;
    EXPECT_LE(o.m.dual.count + o.m.unavailable.count, 1) << "seed " << seed;
    if (o.m.dual.count == 1) {
      ++overlaps;
      // Upper bound plus the poll slack of the 2/3 rule and the touch-to-receive offset.
      EXPECT_LT(o.m.dual.total, Duration::ms(1620)) << "seed " << seed;
    } else if (o.m.unavailable.count == 1) {
      EXPECT_LT(o.m.unavailable.total, Duration::ms(1420)) << "seed " << seed;
    }
  }
  EXPECT_GE(overlaps, 2);
}

TEST(meta_e2e, ShortLocalTimerNeverOverlaps) {
  // LT = 200 ms: overlap < 200 - 2000 < 0: always a gap, of (1.8 s, 4.8 s].
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Outcome o = run(seed, Duration::ms(200), Duration::s(12), 20'000 + 337 * seed);
    EXPECT_EQ(o.m.dual.count, 0) << "seed " << seed;
    ASSERT_EQ(o.m.unavailable.count, 1) << "seed " << seed;
    EXPECT_GE(o.m.unavailable.total, Duration::ms(1780)) << "seed " << seed;
    EXPECT_LE(o.m.unavailable.total, Duration::ms(4820)) << "seed " << seed;
  }
}

}  // namespace
