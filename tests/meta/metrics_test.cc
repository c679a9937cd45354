#include <gtest/gtest.h>

#include "models/zbs/metrics.h"

namespace {

using sim::Duration;
using sim::Time;
using zbs::compute_leader_metrics;
using zbs::LeaderFlip;
using zbs::Window;

Time ms(int64_t v) {
  return Time::from_ns(v * 1000'000);
}

TEST(meta_metrics, SeedOverlapOf416ms) {
  // node2 leads; node3 takes over at 34.126 while node2 stops at 34.542.
  std::vector<LeaderFlip> f = {{ms(1000), "meta:node2", true},
                               {ms(34126), "meta:node3", true},
                               {ms(34542), "meta:node2", false}};
  auto m = compute_leader_metrics(f, ms(60000), ms(27000));
  EXPECT_EQ(m.dual.count, 1);
  EXPECT_EQ(m.dual.total, Duration::ms(416));
  EXPECT_EQ(m.dual.max, Duration::ms(416));
  EXPECT_EQ(m.dual.windows, (std::vector<Window>{{ms(34126), ms(34542)}}));
  EXPECT_EQ(m.unavailable.count, 0);
  EXPECT_EQ(m.leader_changes, 1);
  EXPECT_EQ(m.leader_starts, 2);
  EXPECT_EQ(m.max_leaders, 2);
  ASSERT_TRUE(m.failover.has_value());
  EXPECT_EQ(*m.failover, Duration::ms(7126));
}

TEST(meta_metrics, GapInsteadOfOverlap) {
  // The 00:23 repeat: node2 stops at 19.901, node3 leads at 20.124: 223 ms without a leader.
  std::vector<LeaderFlip> f = {{ms(500), "meta:node2", true},
                               {ms(19901), "meta:node2", false},
                               {ms(20124), "meta:node3", true}};
  auto m = compute_leader_metrics(f, ms(30000));
  EXPECT_EQ(m.dual.count, 0);
  EXPECT_EQ(m.unavailable.count, 1);
  EXPECT_EQ(m.unavailable.total, Duration::ms(223));
  EXPECT_FALSE(m.failover.has_value());
}

TEST(meta_metrics, StartupIsNotAnOutageAndOpenWindowsCloseAtEnd) {
  std::vector<LeaderFlip> f = {{ms(2000), "a", true}, {ms(5000), "a", false}};
  auto m = compute_leader_metrics(f, ms(9000));
  EXPECT_EQ(m.unavailable.count, 1);
  EXPECT_EQ(m.unavailable.windows, (std::vector<Window>{{ms(5000), ms(9000)}}));
  EXPECT_EQ(*m.first_leader, ms(2000));
  // No leader at all: nothing to report.
  auto none = compute_leader_metrics({}, ms(9000));
  EXPECT_EQ(none.unavailable.count, 0);
  EXPECT_FALSE(none.first_leader.has_value());
}

TEST(meta_metrics, SimultaneousHandOverOpensNoWindow) {
  // b starts and a stops at the same instant, in either order within the instant.
  for (bool a_first : {true, false}) {
    std::vector<LeaderFlip> f = {{ms(100), "a", true}};
    if (a_first) {
      f.push_back({ms(300), "a", false});
      f.push_back({ms(300), "b", true});
    } else {
      f.push_back({ms(300), "b", true});
      f.push_back({ms(300), "a", false});
    }
    auto m = compute_leader_metrics(f, ms(1000));
    EXPECT_EQ(m.dual.count, 0) << a_first;
    EXPECT_EQ(m.unavailable.count, 0) << a_first;
    EXPECT_EQ(m.leader_changes, 1);
    EXPECT_EQ(m.max_leaders, 1);
  }
}

TEST(meta_metrics, BackToBackAndNestedOverlaps) {
  // a leads; b joins (dual 1), c joins (3 leaders), a leaves, b leaves (single c), then
  // c leaves and a returns at the same instant, then b joins again until the end.
  std::vector<LeaderFlip> f = {
      {ms(0), "a", true},    {ms(100), "b", true},  {ms(150), "c", true}, {ms(200), "a", false},
      {ms(260), "b", false}, {ms(400), "c", false}, {ms(400), "a", true}, {ms(700), "b", true},
      {ms(700), "b", true}};  // a duplicate flip is ignored
  auto m = compute_leader_metrics(f, ms(1000), ms(120));
  EXPECT_EQ(m.dual.windows, (std::vector<Window>{{ms(100), ms(260)}, {ms(700), ms(1000)}}));
  EXPECT_EQ(m.dual.count, 2);
  EXPECT_EQ(m.dual.total, Duration::ms(460));
  EXPECT_EQ(m.dual.max, Duration::ms(300));
  EXPECT_EQ(m.max_leaders, 3);
  EXPECT_EQ(m.unavailable.count, 0);
  EXPECT_EQ(m.leader_starts, 5);
  EXPECT_EQ(m.leader_changes, 4);            // a->b, b->c, c->a, a->b
  EXPECT_EQ(*m.failover, Duration::ms(30));  // c at 150
}

TEST(meta_metrics, GapsBetweenLeaders) {
  std::vector<LeaderFlip> f = {{ms(10), "a", true},  {ms(20), "a", false}, {ms(50), "b", true},
                               {ms(60), "b", false}, {ms(60), "b", false}, {ms(61), "b", true}};
  auto m = compute_leader_metrics(f, ms(100));
  EXPECT_EQ(m.unavailable.windows, (std::vector<Window>{{ms(20), ms(50)}, {ms(60), ms(61)}}));
  EXPECT_EQ(m.unavailable.total, Duration::ms(31));
  EXPECT_EQ(m.unavailable.max, Duration::ms(30));
  EXPECT_EQ(m.leader_changes, 1);  // a -> b; b again is not a change
}

}  // namespace
