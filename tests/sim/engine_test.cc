#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/check.h"
#include "sim/engine.h"

namespace sim {
namespace {

Time at_ms(int64_t ms) {
  return Time::zero() + Duration::ms(ms);
}

TEST(sim_engine, RunsInTimeOrder) {
  Engine e;
  std::vector<int> order;
  std::vector<int64_t> clock;
  for (int ms : {50, 10, 40, 20, 30}) {
    e.at(at_ms(ms), [&, ms] {
      order.push_back(ms);
      clock.push_back(e.now().ns());
    });
  }
  EXPECT_EQ(e.pending(), 5u);
  EXPECT_EQ(e.run(Time::max()), StopReason::Quiescent);
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30, 40, 50}));
  EXPECT_EQ(clock,
            (std::vector<int64_t>{10'000'000, 20'000'000, 30'000'000, 40'000'000, 50'000'000}));
  EXPECT_EQ(e.events_processed(), 5u);
  EXPECT_EQ(e.pending(), 0u);
  EXPECT_EQ(e.now(), at_ms(50));
}

TEST(sim_engine, TiesBreakByInsertionOrder) {
  Engine e;
  std::vector<int> order;
  // Interleave with other times so the heap really reorders things.
  for (int i = 0; i < 1000; ++i) {
    e.at(at_ms(7), [&order, i] { order.push_back(i); });
    e.at(at_ms(i % 13), [] {});
  }
  e.run(Time::max());
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(order[i], i);
}

TEST(sim_engine, EventsScheduledDuringRunAtNowRunAfterQueuedPeers) {
  Engine e;
  std::vector<std::string> order;
  e.at(at_ms(1), [&] {
    order.push_back("a");
    e.after(Duration::zero(), [&] { order.push_back("c"); });
  });
  e.at(at_ms(1), [&] { order.push_back("b"); });
  e.run(Time::max());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

// A model that reschedules itself at the current instant forever: run() throws, naming the
// instant, after kMaxEventsPerInstant events there, instead of hanging. Time passing resets the
// count: a million events spread over instants are fine.
TEST(sim_engine, LoopWithoutTimePassingThrowsInsteadOfHanging) {
  Engine e;
  uint64_t n = 0;
  std::function<void()> spin = [&] {
    ++n;
    e.after(Duration::zero(), spin);
  };
  e.at(at_ms(5), spin);
  try {
    e.run(Time::max());
    FAIL() << "no error";
  } catch (const InvariantError& err) {
    EXPECT_NE(std::string(err.what()).find("at one instant (t=5000000 ns)"), std::string::npos)
        << err.what();
  }
  EXPECT_EQ(n, Engine::kMaxEventsPerInstant + 1);

  Engine f;
  uint64_t m = 0;
  std::function<void()> tick = [&] {
    if (++m < 3 * Engine::kMaxEventsPerInstant) {
      f.after(m % 2 == 0 ? Duration::ns(1) : Duration::zero(), tick);
    }
  };
  f.at(at_ms(0), tick);
  EXPECT_EQ(f.run(Time::max()), StopReason::Quiescent);
  EXPECT_EQ(m, 3 * Engine::kMaxEventsPerInstant);
}

TEST(sim_engine, Cancellation) {
  Engine e;
  std::vector<int> fired;
  EventId a = e.at(at_ms(1), [&] { fired.push_back(1); });
  EventId b = e.at(at_ms(2), [&] { fired.push_back(2); });
  EventId c = e.at(at_ms(3), [&] { fired.push_back(3); });
  EXPECT_TRUE(e.is_pending(b));
  EXPECT_TRUE(e.cancel(b));
  EXPECT_FALSE(e.is_pending(b));
  EXPECT_FALSE(e.cancel(b));  // twice
  EXPECT_EQ(e.pending(), 2u);
  EXPECT_FALSE(e.cancel(EventId{}));          // empty id
  EXPECT_FALSE(e.cancel(EventId{12345, 0}));  // out of range
  // The freed slot is reused with a new generation: the stale id must not cancel the new event.
  EventId d = e.at(at_ms(4), [&] { fired.push_back(4); });
  EXPECT_EQ(d.slot, b.slot);
  EXPECT_NE(d.gen, b.gen);
  EXPECT_FALSE(e.cancel(b));
  EXPECT_TRUE(e.is_pending(d));
  e.run(Time::max());
  EXPECT_EQ(fired, (std::vector<int>{1, 3, 4}));
  EXPECT_FALSE(e.cancel(a));  // after it fired
  EXPECT_FALSE(e.cancel(c));
  EXPECT_FALSE(e.is_pending(d));
  EXPECT_EQ(e.events_processed(), 3u);
}

TEST(sim_engine, CancelFromInsideAnEventAndSelfCancel) {
  Engine e;
  std::vector<int> fired;
  EventId later;
  EventId self;
  self = e.at(at_ms(1), [&] {
    fired.push_back(1);
    EXPECT_FALSE(e.cancel(self));  // already running: not pending
    EXPECT_TRUE(e.cancel(later));
  });
  later = e.at(at_ms(1), [&] { fired.push_back(2); });
  e.run(Time::max());
  EXPECT_EQ(fired, (std::vector<int>{1}));
  EXPECT_EQ(e.events_processed(), 1u);
}

TEST(sim_engine, RunUntilSetsClockToLimit) {
  Engine e;
  int fired = 0;
  e.at(at_ms(10), [&] { ++fired; });
  e.at(at_ms(20), [&] { ++fired; });  // exactly at the limit: runs
  e.at(at_ms(21), [&] { ++fired; });
  EXPECT_EQ(e.run(at_ms(20)), StopReason::TimeLimit);
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(e.now(), at_ms(20));
  EXPECT_EQ(e.pending(), 1u);
  EXPECT_EQ(e.run(at_ms(100)), StopReason::Quiescent);
  EXPECT_EQ(fired, 3);
  EXPECT_EQ(e.now(), at_ms(100));  // quiescent before the limit: clock still reads the limit
}

TEST(sim_engine, RunUntilAnEarlierTimeNeverMovesTheClockBack) {
  Engine e;
  e.at(at_ms(10), [] {});
  e.at(at_ms(50), [] {});
  e.run(at_ms(20));
  ASSERT_EQ(e.now(), at_ms(20));
  EXPECT_EQ(e.run(at_ms(5)), StopReason::TimeLimit);
  EXPECT_EQ(e.now(), at_ms(20));
  EXPECT_EQ(e.run(Time::max()), StopReason::Quiescent);
  EXPECT_EQ(e.now(), at_ms(50));
}

TEST(sim_engine, EventBudgetStopsAndResumes) {
  Engine e;
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) e.at(at_ms(5), [&order, i] { order.push_back(i); });
  EventId cancelled = e.at(at_ms(5), [&] { order.push_back(99); });
  for (int i = 10; i < 15; ++i) e.at(at_ms(i), [&order, i] { order.push_back(i); });
  EXPECT_EQ(e.run(Time::max(), 4), StopReason::EventBudget);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(e.events_processed(), 4u);
  EXPECT_EQ(e.now(), at_ms(5));
  EXPECT_TRUE(e.cancel(cancelled));
  EXPECT_EQ(e.run(Time::max(), 6), StopReason::EventBudget);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(e.run(Time::max(), 0), StopReason::EventBudget);
  EXPECT_EQ(order.size(), 10u);
  EXPECT_EQ(e.run(Time::max()), StopReason::Quiescent);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
  EXPECT_EQ(e.events_processed(), 15u);
}

TEST(sim_engine, StopReturnsAfterCurrentEvent) {
  Engine e;
  int fired = 0;
  e.at(at_ms(1), [&] {
    ++fired;
    e.stop();
  });
  e.at(at_ms(2), [&] { ++fired; });
  EXPECT_EQ(e.run(Time::max()), StopReason::Stopped);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(e.now(), at_ms(1));
  EXPECT_EQ(e.run(Time::max()), StopReason::Quiescent);  // stop does not stick
  EXPECT_EQ(fired, 2);
}

TEST(sim_engine, SchedulingInThePastThrows) {
  Engine e;
  e.at(at_ms(10), [&] {
    EXPECT_THROW(e.at(at_ms(9), [] {}), InvariantError);
    EXPECT_NO_THROW(e.at(at_ms(10), [] {}));
  });
  e.run(Time::max());
  EXPECT_EQ(e.events_processed(), 2u);
  EXPECT_THROW(e.after(Duration::ns(-1), [] {}), InvariantError);
  try {
    e.at(at_ms(1), [] {});
    FAIL() << "no exception";
  } catch (const InvariantError& err) {
    EXPECT_NE(std::string(err.what()).find("scheduled in the past"), std::string::npos)
        << err.what();
  }
}

// Model check against a trivially correct reference: a sorted list of (time, seq).
RC_GTEST_PROP(sim_engine, MatchesReferenceQueue, ()) {
  const auto ops = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(0, 3), rc::gen::inRange(0, 50)));
  Engine e;
  std::vector<int> got;
  std::map<std::pair<int64_t, int>, int> ref;  // (time, seq) -> label
  std::vector<std::pair<EventId, std::pair<int64_t, int>>> ids;
  int seq = 0;
  for (auto [op, arg] : ops) {
    if (op < 2 || ids.empty()) {
      int label = seq;
      ids.push_back({e.at(at_ms(arg), [&got, label] { got.push_back(label); }), {arg, seq}});
      ref[{arg, seq}] = label;
      ++seq;
    } else {
      auto& [id, key] = ids[static_cast<size_t>(arg) % ids.size()];
      bool was = ref.erase(key) > 0;
      RC_ASSERT(e.cancel(id) == was);
    }
  }
  RC_ASSERT(e.pending() == ref.size());
  e.run(Time::max());
  std::vector<int> want;
  for (auto& [k, v] : ref) want.push_back(v);
  RC_ASSERT(got == want);
}

}  // namespace
}  // namespace sim
