// `zksim fuzz`: property-based fuzzing of fault schedules over a base scenario (docs/fuzz.md).
#pragma once

#include <CLI/CLI.hpp>

namespace zksim::fuzz {

void register_fuzz(CLI::App& app, int& exit_code);

}  // namespace zksim::fuzz
