// sim::Callback: the engine's move-only event payload with inline storage.
#include "sim/callback.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

namespace sim {
namespace {

// Counts live copies of itself, to check that moves and destruction balance.
struct Counted {
  static inline int live = 0;
  int* hits;
  std::array<char, 24> pad{};
  explicit Counted(int* h) : hits(h) { ++live; }
  Counted(const Counted& o) : hits(o.hits) { ++live; }
  Counted(Counted&& o) noexcept : hits(o.hits) { ++live; }
  ~Counted() { --live; }
  void operator()() const { ++*hits; }
};

struct Big {
  std::array<char, 200> payload{};
  int* hits;
  void operator()() const { *hits += payload[199] + 1; }
};

TEST(sim_callback, InlineAndBoxedCallablesRunAndAreDestroyed) {
  int hits = 0;
  {
    Callback small(Counted{&hits});
    Big b{};
    b.hits = &hits;
    b.payload[199] = 41;
    Callback big(b);  // larger than the inline buffer: boxed
    EXPECT_EQ(Counted::live, 1);
    small();
    big();
    EXPECT_EQ(hits, 1 + 42);
  }
  EXPECT_EQ(Counted::live, 0);
}

TEST(sim_callback, MovesTransferOwnership) {
  int hits = 0;
  Callback a(Counted{&hits});
  Callback b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  ASSERT_TRUE(b);
  b();
  Callback c;
  c = std::move(b);
  c();
  EXPECT_EQ(hits, 2);
  EXPECT_EQ(Counted::live, 1);
  c = nullptr;
  EXPECT_EQ(Counted::live, 0);
  // Move-only captures are fine (std::function would refuse them).
  auto p = std::make_unique<int>(7);
  int got = 0;
  Callback d([q = std::move(p), &got] { got = *q; });
  d();
  EXPECT_EQ(got, 7);
}

TEST(sim_callback, EmptyStdFunctionGivesEmptyCallback) {
  std::function<void()> none;
  Callback a(none);
  EXPECT_FALSE(a);
  int hits = 0;
  std::function<void()> some = [&hits] { ++hits; };
  Callback b(some);
  ASSERT_TRUE(b);
  b();
  EXPECT_EQ(hits, 1);
}

TEST(sim_callback, SurvivesVectorGrowth) {
  // Relocation (vector growth) must move inline callables, not copy bytes.
  int hits = 0;
  std::vector<Callback> v;
  for (int i = 0; i < 100; ++i) v.emplace_back(Counted{&hits});
  EXPECT_EQ(Counted::live, 100);
  for (auto& f : v) f();
  EXPECT_EQ(hits, 100);
  v.clear();
  EXPECT_EQ(Counted::live, 0);
}

}  // namespace
}  // namespace sim
