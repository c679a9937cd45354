// Scenario 10 (rapidcheck): random fault schedules on 3 and 5 peers.
//  Safety: never two peers leading in broadcast with the same epoch.
//  Liveness: once every fault has healed, a leader is in broadcast with every peer following it
//  within B = maxNotificationInterval + 3*tickTime*initLimit + tickTime*syncLimit + 5 s
//  (135 s with the sample config). Why: after the heal, (a) every LOOKING peer re-sends its
//  notifications within its current back-off, at most maxNotificationInterval; TCP's retransmission
//  back-off on connections black-holed for <= 20 s (RTO <= 25.6 s) is inside that; (b) a peer may
//  have decided for a leader that cannot gather a quorum, and each of the leader's three
//  activation waits, or a follower's discovery read timeout, costs at most tickTime*initLimit
//  before it re-elects; (c) a follower of a vanished leader notices within tickTime*syncLimit;
//  (d) a few seconds cover JVM boot after a restart, finalizeWait and synchronisation.
// Reproduce a failure with RC_PARAMS="seed=<n>".
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tests/zk/cluster.h"

namespace zktest {
namespace {

struct Fault {
  int kind;  // 0 pause, 1 crash+restart, 2 ifdown, 3 partition (target alone vs rest), 4 90% loss
  int target;
  int at_ms;
  int for_ms;
};

void run_schedule(int n, const std::vector<Fault>& faults, uint64_t seed) {
  zk::Config cfg;
  cfg.write_rate_per_s = 5;
  Cluster c(n, cfg, seed);
  c.run_until(s(5));
  Time heal = c.now();
  for (const auto& f : faults) {
    int target = 1 + f.target % n;
    Time at = c.now() + ms(f.at_ms);
    Duration d = ms(f.for_ms);
    heal = std::max(heal, at + d);
    c.sim.engine.at(at, [&c, f, target, d, n] {
      switch (f.kind) {
        case 0:
          c.pause(target, d);
          break;
        case 1:
          c.crash(target, d);
          break;
        case 2:
          c.ifdown(target, d);
          break;
        case 4:
          c.loss(target, 0.9, d);
          break;
        default: {
          std::vector<int> rest;
          for (int i = 1; i <= n; ++i) {
            if (i != target) rest.push_back(i);
          }
          c.partition({{target}, rest}, d);
        }
      }
    });
  }
  Duration bound = cfg.max_notification_interval + cfg.tick * cfg.init_limit * 3 +
                   cfg.tick * cfg.sync_limit + s(5);
  c.run_until(heal + bound);
  RC_ASSERT(c.two_leaders_same_epoch() == std::string());
  RC_ASSERT(c.stable());
}

rc::Gen<std::vector<Fault>> gen_faults() {
  return rc::gen::container<std::vector<Fault>>(
      rc::gen::construct<Fault>(rc::gen::inRange(0, 5), rc::gen::inRange(0, 5),
                                rc::gen::inRange(0, 40000), rc::gen::inRange(100, 20000)));
}

RC_GTEST_PROP(zkProperty, ThreePeersSafeAndLive, ()) {
  auto faults = *rc::gen::resize(4, gen_faults());
  auto seed = *rc::gen::inRange<uint64_t>(1, 1000000);
  run_schedule(3, faults, seed);
}

RC_GTEST_PROP(zkProperty, FivePeersSafeAndLive, ()) {
  auto faults = *rc::gen::resize(5, gen_faults());
  auto seed = *rc::gen::inRange<uint64_t>(1, 1000000);
  run_schedule(5, faults, seed);
}

}  // namespace
}  // namespace zktest
