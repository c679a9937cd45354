#pragma once

namespace CLI {
class App;  // <CLI/CLI.hpp> is included by the .cc files that use it
}  // namespace CLI

namespace cli {

// `zksim run SCENARIO [--seed N] [--set k=v]... [--trace F] [--perfetto F] [--logs DIR] [--json]`
void register_run(CLI::App& app, int& exit_code);

}  // namespace cli
