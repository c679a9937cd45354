// Validators shared by the subcommands' flags (CLI11): a value CLI11 would convert silently wrong
// is refused with a message naming the flag.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

namespace cli {

// A 64-bit unsigned seed written in decimal: CLI11 would turn "-1" into 2^64-1 and clamp a value
// past 2^64-1 to it.
inline std::string check_seed(const std::string& s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return "a seed is a whole number from 0 to 18446744073709551615, got \"" + s + "\"";
  return {};
}

}  // namespace cli
