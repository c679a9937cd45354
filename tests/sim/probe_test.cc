#include "sim/probe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

namespace sim {
namespace {

// Second by name, declared first.
const ProbeSite kTestB{"test.probe.b"};
// First by name.
const ProbeSite kTestA{"test.probe.a"};

TEST(SimProbe, CatalogueIsSortedByNameAndHoldsTheEngineSites) {
  auto cat = probe_catalog();
  ASSERT_GE(cat.size(), 5u);  // these two and the network's three
  EXPECT_TRUE(std::is_sorted(cat.begin(), cat.end(), [](const ProbeSite* a, const ProbeSite* b) {
    return std::string(a->name()) < std::string(b->name());
  }));
  auto pos = [&](const char* n) {
    return std::find_if(cat.begin(), cat.end(),
                        [&](const ProbeSite* s) { return std::string(s->name()) == n; }) -
           cat.begin();
  };
  EXPECT_LT(pos("test.probe.a"), pos("test.probe.b"));
  EXPECT_LT(pos("net.tcp.syn_timeout"), static_cast<long>(cat.size()));
}

TEST(SimProbe, CountsHitsPerRunByName) {
  ProbeCounts c;
  c.hit(kTestB);
  c.hit(kTestB);
  c.hit(kTestA);
  EXPECT_EQ(c.count(kTestA), 1u);
  EXPECT_EQ(c.count(kTestB), 2u);
  auto v = c.by_name();
  EXPECT_EQ(v.size(), probe_catalog().size());
  std::map<std::string, uint64_t> m(v.begin(), v.end());
  EXPECT_EQ(m["test.probe.a"], 1u);
  EXPECT_EQ(m["test.probe.b"], 2u);
  EXPECT_EQ(m.count("net.tcp.syn_timeout"), 1u);
  EXPECT_EQ(m["net.tcp.syn_timeout"], 0u);
  ProbeCounts fresh;
  EXPECT_EQ(fresh.count(kTestB), 0u);
}

}  // namespace
}  // namespace sim
