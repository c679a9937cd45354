#pragma once

#include <CLI/CLI.hpp>

namespace cli {

// `zksim run SCENARIO [--seed N] [--set k=v]... [--trace F] [--perfetto F] [--logs DIR] [--json]`
void register_run(CLI::App& app, int& exit_code);

}  // namespace cli
