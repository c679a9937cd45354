// `zksim fuzz`: property-based fuzzing of fault schedules over a base scenario (docs/fuzz.md).
#pragma once

namespace CLI {
class App;  // <CLI/CLI.hpp> is included by the .cc files that use it
}  // namespace CLI

namespace zksim::fuzz {

void register_fuzz(CLI::App& app, int& exit_code);

}  // namespace zksim::fuzz
