// `zksim replay LOGDIR|timeline.json [--config zoo.cfg|scenario.json] [--set k=v]... [--out DIR]`
#pragma once

namespace CLI {
class App;  // <CLI/CLI.hpp> is included by the .cc files that use it
}  // namespace CLI

namespace zksim::replay {
void register_replay(CLI::App& app, int& exit_code);
}  // namespace zksim::replay
