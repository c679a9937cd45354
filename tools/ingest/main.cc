// zksim-ingest: the `ingest` subcommand as a stand-alone binary (for testing without the engine).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tools/ingest/ingest_cli.h"

int main(int argc, char** argv) {
  CLI::App app{"zksim-ingest: parse ZooKeeper / zbs-metad / detector logs into a timeline"};
  app.require_subcommand(0, 1);
  int exit_code = 0;
  zksim::ingest::register_ingest(app, exit_code);
  // Accept both `zksim-ingest ingest LOGDIR` and `zksim-ingest LOGDIR`.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || (args[0] != "ingest" && args[0] != "--help" && args[0] != "-h"))
    args.insert(args.begin(), "ingest");
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
