// Stand-alone `zksim-gcfit` for testing the subcommand outside the `zksim` binary.
#include <CLI/CLI.hpp>

#include "tools/gcfit/gcfit_cli.h"

int main(int argc, char** argv) {
  CLI::App app{"zksim gcfit (stand-alone)"};
  app.require_subcommand(1);
  int exit_code = 0;
  zksim::gcfit::register_gcfit(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
