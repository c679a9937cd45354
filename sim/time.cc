#include "sim/time.h"

#include <fmt/format.h>

#include <cstdlib>

namespace sim {

std::optional<Duration> parse_duration(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Duration> {
    if (error) *error = fmt::format("invalid duration \"{}\": {}", text, why);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty");
  if (text == "0") return Duration::zero();
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  // Integer part and optional fraction, kept exact as decimal digits (no floating point).
  int64_t int_part = 0;
  int64_t frac_num = 0;
  int64_t frac_den = 1;
  size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
    if (int_part > (int64_t{1} << 50)) return fail("too large");
    int_part = int_part * 10 + (text[i] - '0');
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (frac_den >= 1000'000'000'000LL) return fail("too many decimals");
      frac_num = frac_num * 10 + (text[i] - '0');
      frac_den *= 10;
    }
  }
  if (digits == 0) return fail("expected a number");
  std::string_view unit = text.substr(i);
  int64_t scale;
  if (unit == "ns") {
    scale = 1;
  } else if (unit == "us") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1000'000;
  } else if (unit == "s") {
    scale = 1000'000'000;
  } else if (unit == "m" || unit == "min") {
    scale = 60LL * 1000'000'000;
  } else if (unit == "h") {
    scale = 3600LL * 1000'000'000;
  } else if (unit.empty()) {
    return fail("missing unit (ns, us, ms, s, m, h)");
  } else {
    return fail(fmt::format("unknown unit \"{}\" (ns, us, ms, s, m, h)", unit));
  }
  if (int_part > std::numeric_limits<int64_t>::max() / scale / 4) return fail("too large");
  int64_t frac_ns = frac_num * scale / frac_den;
  if (frac_num * scale % frac_den != 0) return fail("finer than a nanosecond");
  int64_t v = int_part * scale + frac_ns;
  return Duration::ns(negative ? -v : v);
}

std::string format_duration(Duration d) {
  int64_t v = d.count_ns();
  if (v == 0) return "0s";
  std::string sign = v < 0 ? "-" : "";
  uint64_t a = v < 0 ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
  struct Unit {
    uint64_t scale;
    const char* name;
  };
  static constexpr Unit units[] = {{1000'000'000, "s"}, {1000'000, "ms"}, {1000, "us"}, {1, "ns"}};
  for (const auto& u : units) {
    if (a % u.scale == 0) return fmt::format("{}{}{}", sign, a / u.scale, u.name);
  }
  return fmt::format("{}{}ns", sign, a);
}

std::string format_time(Time t) {
  int64_t v = t.ns();
  std::string sign = v < 0 ? "-" : "";
  uint64_t a = v < 0 ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
  return fmt::format("{}{}.{:06}s", sign, a / 1000'000'000, (a % 1000'000'000) / 1000);
}

}  // namespace sim
