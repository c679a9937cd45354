// `zksim replay LOGDIR|timeline.json [--config zoo.cfg|scenario.json] [--set k=v]... [--out DIR]`
#pragma once

#include <CLI/CLI.hpp>

namespace zksim::replay {
void register_replay(CLI::App& app, int& exit_code);
}  // namespace zksim::replay
