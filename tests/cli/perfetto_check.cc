// Validates a Chrome/Perfetto trace file against the trace-event format's rules; prints each
// violation and exits 1 if there is any.
#include <cstdio>

#include "tests/sim/trace_event_validator.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: perfetto_check FILE\n");
    return 2;
  }
  auto problems = zksim::testing::validate_trace_event_file(argv[1]);
  for (const auto& p : problems) std::printf("%s\n", p.c_str());
  std::printf("%zu violation(s) in %s\n", problems.size(), argv[1]);
  return problems.empty() ? 0 : 1;
}
