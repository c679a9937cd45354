#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/time.h"

namespace sim {
namespace {

int64_t parse_ns(std::string_view s) {
  std::string err;
  auto d = parse_duration(s, &err);
  EXPECT_TRUE(d.has_value()) << s << ": " << err;
  return d ? d->count_ns() : -12345;
}

TEST(sim_time, ParsesEveryUnit) {
  EXPECT_EQ(parse_ns("2s"), 2'000'000'000);
  EXPECT_EQ(parse_ns("200ms"), 200'000'000);
  EXPECT_EQ(parse_ns("1500us"), 1'500'000);
  EXPECT_EQ(parse_ns("10ns"), 10);
  EXPECT_EQ(parse_ns("1m"), 60'000'000'000);
  EXPECT_EQ(parse_ns("2min"), 120'000'000'000);
  EXPECT_EQ(parse_ns("1h"), 3'600'000'000'000);
  EXPECT_EQ(parse_ns("1.5s"), 1'500'000'000);
  EXPECT_EQ(parse_ns("0.25ms"), 250'000);
  EXPECT_EQ(parse_ns(".5s"), 500'000'000);
  EXPECT_EQ(parse_ns("0"), 0);
  EXPECT_EQ(parse_ns("0ms"), 0);
  EXPECT_EQ(parse_ns("-3ms"), -3'000'000);
}

TEST(sim_time, RejectsBadText) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c :
       {Case{"", "empty"}, Case{"5", "missing unit"}, Case{"5 s", "unknown unit"},
        Case{"5parsecs", "unknown unit \"parsecs\""}, Case{"-", "expected a number"},
        Case{"s", "expected a number"}, Case{" 5s", "expected a number"},
        Case{"1.5ns", "finer than a nanosecond"}, Case{"5S", "unknown unit"},
        Case{"1.2.3s", "unknown unit"}, Case{"99999999999999999h", "too large"}}) {
    std::string err;
    auto d = parse_duration(c.text, &err);
    EXPECT_FALSE(d.has_value()) << "\"" << c.text << "\" parsed as " << d->count_ns();
    EXPECT_NE(err.find(c.why), std::string::npos) << "\"" << c.text << "\": " << err;
    EXPECT_NE(err.find(std::string("\"") + c.text + "\""), std::string::npos) << err;
  }
  EXPECT_FALSE(parse_duration("5").has_value());  // null error pointer is fine
}

TEST(sim_time, FormatsShortestExactUnit) {
  EXPECT_EQ(format_duration(Duration::s(2)), "2s");
  EXPECT_EQ(format_duration(Duration::ms(200)), "200ms");
  EXPECT_EQ(format_duration(Duration::us(1500)), "1500us");
  EXPECT_EQ(format_duration(Duration::ms(1500)), "1500ms");
  EXPECT_EQ(format_duration(Duration::ns(7)), "7ns");
  EXPECT_EQ(format_duration(Duration::zero()), "0s");
  EXPECT_EQ(format_duration(-Duration::ms(3)), "-3ms");
  EXPECT_EQ(format_duration(Duration::s(60)), "60s");
  EXPECT_EQ(format_time(Time::zero() + Duration::us(12'345'678)), "12.345678s");
  EXPECT_EQ(format_time(Time::zero() + Duration::ns(999)), "0.000000s");
}

TEST(sim_time, ArithmeticAndTruncation) {
  Time t = Time::zero() + Duration::ms(1500);
  EXPECT_EQ((t - Time::zero()).to_ms(), 1500);
  EXPECT_EQ(Duration::ns(1999).to_us(), 1);
  EXPECT_EQ(Duration::ns(-1999).to_us(), -1);
  EXPECT_EQ(Duration::s(10) / Duration::ms(300), 33);
  EXPECT_EQ((Duration::s(10) % Duration::ms(300)).count_ns(), 100'000'000);
  EXPECT_DOUBLE_EQ(Duration::ms(250).to_seconds_f(), 0.25);
  EXPECT_LT(Time::zero() + Duration::max(), Time::max());
}

RC_GTEST_PROP(sim_time, FormatParseRoundTrip, ()) {
  const int64_t v = *rc::gen::inRange<int64_t>(-(int64_t{1} << 52), int64_t{1} << 52);
  // Bias toward round values so every unit gets exercised.
  const int64_t scale = *rc::gen::element<int64_t>(1, 1000, 1000'000, 1000'000'000);
  const Duration d = Duration::ns(v / scale * scale);
  std::string err;
  auto back = parse_duration(format_duration(d), &err);
  RC_ASSERT(back.has_value());
  RC_ASSERT(back->count_ns() == d.count_ns());
}

}  // namespace
}  // namespace sim
