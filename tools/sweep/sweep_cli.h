// `zksim sweep` (parameter grids, sharded across machines) and `zksim merge` (combine shards).
#pragma once

#include <CLI/CLI.hpp>

namespace zksim::sweep {

void register_sweep(CLI::App& app, int& exit_code);

}  // namespace zksim::sweep
