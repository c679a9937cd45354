// Python repr / float() and GNU sort -n semantics used by the seed pipeline. The expected strings
// were produced by /usr/bin/python3 (repr(float(x))) and `LC_ALL=C sort -n`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tools/gcfit/seed.h"

namespace zksim::gcfit {
namespace {

TEST(gcfitSeed, PythonRepr) {
  EXPECT_EQ(python_repr(3240.89585220002), "3240.89585220002");
  EXPECT_EQ(python_repr(0.20514595848841752), "0.20514595848841752");
  EXPECT_EQ(python_repr(0.008757), "0.008757");
  EXPECT_EQ(python_repr(3.0), "3.0");
  EXPECT_EQ(python_repr(-2.5), "-2.5");
  EXPECT_EQ(python_repr(0.0), "0.0");
  EXPECT_EQ(python_repr(-0.0), "-0.0");
  EXPECT_EQ(python_repr(0.0001), "0.0001");
  EXPECT_EQ(python_repr(0.00001), "1e-05");
  EXPECT_EQ(python_repr(1.5e-07), "1.5e-07");
  EXPECT_EQ(python_repr(1e16), "1e+16");
  EXPECT_EQ(python_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_repr(123456789012345680.0), "1.2345678901234568e+17");
  EXPECT_EQ(python_repr(1e22), "1e+22");
  EXPECT_EQ(python_repr(5e-324), "5e-324");
  EXPECT_EQ(python_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_repr(HUGE_VAL), "inf");
  EXPECT_EQ(python_repr(std::nan("")), "nan");
}

TEST(gcfitSeed, PythonFloat) {
  double v = 0;
  ASSERT_TRUE(python_float("0.2051460\n", v));
  EXPECT_EQ(v, 0.205146);
  ASSERT_TRUE(python_float("  +1_000.5e-3\r\n", v));
  EXPECT_EQ(v, 1.0005);
  ASSERT_TRUE(python_float(".5", v));
  EXPECT_EQ(v, 0.5);
  ASSERT_TRUE(python_float("5.", v));
  EXPECT_EQ(v, 5.0);
  ASSERT_TRUE(python_float("-Infinity", v));
  EXPECT_EQ(v, -HUGE_VAL);
  ASSERT_TRUE(python_float("1e999", v));
  EXPECT_EQ(v, HUGE_VAL);
  EXPECT_FALSE(python_float("[GC\n", v));
  EXPECT_FALSE(python_float("secs]", v));
  EXPECT_FALSE(python_float("1__0", v));
  EXPECT_FALSE(python_float("_1", v));
  EXPECT_FALSE(python_float("0x10", v));
  EXPECT_FALSE(python_float("", v));
  EXPECT_FALSE(python_float("1e", v));
}

TEST(gcfitSeed, SortN) {
  // LC_ALL=C sort -n of these lines gives exactly this order.
  std::vector<std::string> want = {"-2",  "-1.5", "0.0", "0.00", "[GC",  "abc",
                                   "1.0", "1e-3", "1.5", "10",   "010.5"};
  std::vector<std::string> v = want;
  std::reverse(v.begin(), v.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const std::string& a, const std::string& b) { return sort_n_less(a, b); });
  EXPECT_EQ(v, want);
}

TEST(gcfitSeed, AwkSecondToLastField) {
  EXPECT_EQ(awk_nf_minus_1("0.356: [GC pause (young) 4096K->3936K(16M), 0.0121737 secs]"),
            "0.0121737");
  EXPECT_EQ(awk_nf_minus_1("  a \t b   c  "), "b");
  EXPECT_EQ(awk_nf_minus_1("x, 0.5 secs]\r"), "0.5");
  EXPECT_EQ(awk_nf_minus_1("x, 0.5 secs] \r"), "secs]");  // the CR is a field of its own
  EXPECT_EQ(awk_nf_minus_1("single"), "single");
}

}  // namespace
}  // namespace zksim::gcfit
