// `zksim sweep` (parameter grids, sharded across machines) and `zksim merge` (combine shards).
#pragma once

namespace CLI {
class App;  // <CLI/CLI.hpp> is included by the .cc files that use it
}  // namespace CLI

namespace zksim::sweep {

void register_sweep(CLI::App& app, int& exit_code);

}  // namespace zksim::sweep
