// FastLeaderElection after a leader pause: how often the live peers split (a failed activation
// that waits tickTime*initLimit) versus electing the best live peer within a second.
// ZK_FLE_DUMP=<seed> prints that seed's state changes and elections after the pause.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tests/zk/cluster.h"

namespace zktest {
namespace {

struct PauseOutcome {
  bool best = false;   // the best live (epoch, zxid, sid) leads in broadcast
  bool split = false;  // no leader in broadcast within 2 s of the first exception
  Duration to_broadcast;
};

PauseOutcome leader_pause(uint64_t seed, bool dump = false, zk::Config cfg = {}) {
  Cluster c(5, cfg, seed);
  c.run_until(s(20));
  PauseOutcome out;
  if (!c.stable()) return out;
  int old = c.leader();
  int best = -1;
  for (int id = 1; id <= 5; ++id) {
    if (id == old) continue;
    if (best < 0 || std::make_tuple(c.peer(id).epoch(), c.peer(id).last_zxid(), id) >
                        std::make_tuple(c.peer(best).epoch(), c.peer(best).last_zxid(), best))
      best = id;
  }
  Time t0 = c.now();
  c.pause(old, s(12));
  c.run_for(s(45));  // a split costs tickTime*initLimit (20 s) before re-electing
  auto exc = c.records("zk.follower.exception", t0);
  Time first_exc = exc.empty() ? t0 : exc.front()->t;
  auto* rec = c.first_state_rec("LEADING", "broadcast", t0);
  out.to_broadcast = rec ? rec->t - first_exc : s(1000);
  out.split = out.to_broadcast > s(2);
  out.best = rec && rec->node == fmt::format("zk:{}", best) && !out.split;
  if (dump) {
    std::printf("seed %llu old leader %d best live %d\n", static_cast<unsigned long long>(seed),
                old, best);
    for (const auto& r : c.sink.records) {
      if (r.t < first_exc - ms(5) || r.t > first_exc + s(3)) continue;
      if (r.type != "zk.state" && r.type != "zk.election" && r.type != "zk.follower.exception")
        continue;
      std::printf("%10.3f %s %s %s %s\n", (r.t - first_exc).to_ms_f(), r.node.c_str(),
                  r.type.c_str(), r.get_str("state").c_str(), r.get_str("role").c_str());
    }
  }
  EXPECT_TRUE(c.stable());
  EXPECT_EQ(c.two_leaders_same_epoch(), "");
  return out;
}

TEST(zkFle, LeaderPauseSplitRate) {
  if (const char* d = std::getenv("ZK_FLE_DUMP")) {
    leader_pause(std::strtoull(d, nullptr, 10), true);
  }
  zk::Config cfg;
  if (const char* h = std::getenv("ZK_FLE_HANDLE_US")) {  // sensitivity: "min,max" in us
    cfg.handle_min = Duration::us(std::atoi(h));
    cfg.handle_max = Duration::us(std::atoi(std::strchr(h, ',') + 1));
  }
  int splits = 0, best = 0, n = 60;
  if (const char* ns = std::getenv("ZK_FLE_SEEDS")) n = std::atoi(ns);
  std::string split_seeds;
  for (uint64_t seed = 1; seed <= static_cast<uint64_t>(n); ++seed) {
    auto o = leader_pause(seed, false, cfg);
    splits += o.split;
    best += o.best;
    if (o.split) split_seeds += fmt::format(" {}", seed);
  }
  std::printf(
      "leader pause 12s, %d seeds: %d split (initLimit wait), %d elected the best live "
      "peer; split seeds:%s\n",
      n, splits, best, split_seeds.c_str());
  if (std::getenv("ZK_FLE_HANDLE_US") || std::getenv("ZK_FLE_SEEDS")) return;
  // Measured at 60 seeds: 3 splits (seeds 3, 11, 54), 56 best. Every run safe and stable (above);
  // the race is ZooKeeper's own (docs/zk-model.md, "FLE race"), so it is bounded, not excluded.
  EXPECT_LE(splits, 6);
  EXPECT_GE(best, 50);
}

}  // namespace
}  // namespace zktest
