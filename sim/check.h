// Assertions that stay on in every build type and say where the simulation was when they failed.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sim {

// Thrown for invariant violations; the CLI prints it with the seed and a reproduction line.
class InvariantError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] inline void check_failed(const char* file, int line, const std::string& what) {
  throw InvariantError(fmt::format("{}:{}: invariant violated: {}", file, line, what));
}

}  // namespace sim

#define SIM_CHECK(cond, ...)                                                                     \
  do {                                                                                           \
    if (!(cond)) ::sim::check_failed(__FILE__, __LINE__, #cond ": " + fmt::format(__VA_ARGS__)); \
  } while (0)
