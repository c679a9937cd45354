// Simulated time: strong int64 nanosecond types. There is no floating-point time anywhere in the
// engine (STYLE.md §2): outcomes hinge on millisecond phases of timers against tickTime, and
// doubles would make those phases depend on rounding.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace sim {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration ns(int64_t v) { return Duration(v); }
  static constexpr Duration us(int64_t v) { return Duration(v * 1000); }
  static constexpr Duration ms(int64_t v) { return Duration(v * 1000'000); }
  static constexpr Duration s(int64_t v) { return Duration(v * 1000'000'000); }
  static constexpr Duration max() { return Duration(std::numeric_limits<int64_t>::max() / 4); }
  static constexpr Duration zero() { return Duration(0); }

  constexpr int64_t count_ns() const { return ns_; }
  // Truncating conversions (toward zero), used for log output and ZooKeeper's integer-ms maths.
  constexpr int64_t to_us() const { return ns_ / 1000; }
  constexpr int64_t to_ms() const { return ns_ / 1000'000; }
  constexpr double to_seconds_f() const { return static_cast<double>(ns_) / 1e9; }
  constexpr double to_ms_f() const { return static_cast<double>(ns_) / 1e6; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr int64_t operator/(Duration o) const { return ns_ / o.ns_; }
  constexpr Duration operator%(Duration o) const { return Duration(ns_ % o.ns_); }
  constexpr Duration& operator+=(Duration o) {
    ns_ += o.ns_;
    return *this;
  }
  constexpr Duration& operator-=(Duration o) {
    ns_ -= o.ns_;
    return *this;
  }

 private:
  constexpr explicit Duration(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

// A point on the simulated clock, nanoseconds since the start of the run.
class Time {
 public:
  constexpr Time() = default;
  static constexpr Time from_ns(int64_t v) { return Time(v); }
  static constexpr Time zero() { return Time(0); }
  static constexpr Time max() { return Time(std::numeric_limits<int64_t>::max() / 2); }
  constexpr int64_t ns() const { return ns_; }
  constexpr Duration since_start() const { return Duration::ns(ns_); }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return Time(ns_ + d.count_ns()); }
  constexpr Time operator-(Duration d) const { return Time(ns_ - d.count_ns()); }
  constexpr Duration operator-(Time o) const { return Duration::ns(ns_ - o.ns_); }
  constexpr Time& operator+=(Duration d) {
    ns_ += d.count_ns();
    return *this;
  }

 private:
  constexpr explicit Time(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

// Parses "2s", "200ms", "1500us", "10ns", "1m", "1h", "1.5s" and a bare "0". Whitespace and a
// missing unit are errors (a bare number is ambiguous). Returns nullopt with `*error` set.
std::optional<Duration> parse_duration(std::string_view text, std::string* error = nullptr);

// Shortest exact rendering with a unit: 2s, 200ms, 1500us, 1.25s.
std::string format_duration(Duration d);

// "12.345678s" style with fixed microsecond precision, used in human timelines.
std::string format_time(Time t);

}  // namespace sim
