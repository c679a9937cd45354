// zksim: one CLI, subcommands per job. Exit codes: 0 ok, 1 a check was violated, 2 bad input,
// 3 an internal invariant failed (a bug: the message carries the seed to reproduce it).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "tools/cli/run_cmd.h"
#ifdef ZKSIM_HAVE_GCFIT
#include "tools/gcfit/gcfit_cli.h"
#endif
#ifdef ZKSIM_HAVE_INGEST
#include "tools/ingest/ingest_cli.h"
#endif
#ifdef ZKSIM_HAVE_FUZZ
#include "tools/fuzz/fuzz_cli.h"
#endif
#ifdef ZKSIM_HAVE_SWEEP
#include "tools/sweep/sweep_cli.h"
#endif
#ifdef ZKSIM_HAVE_REPLAY
#include "tools/replay/replay_cli.h"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "zksim: deterministic simulator of ZooKeeper ensembles and the meta services that elect "
      "leaders through them"};
  app.require_subcommand(1);
  int exit_code = 0;
  cli::register_run(app, exit_code);
#ifdef ZKSIM_HAVE_GCFIT
  zksim::gcfit::register_gcfit(app, exit_code);
#endif
#ifdef ZKSIM_HAVE_INGEST
  zksim::ingest::register_ingest(app, exit_code);
#endif
#ifdef ZKSIM_HAVE_FUZZ
  zksim::fuzz::register_fuzz(app, exit_code);
#endif
#ifdef ZKSIM_HAVE_SWEEP
  zksim::sweep::register_sweep(app, exit_code);  // sweep and merge
#endif
#ifdef ZKSIM_HAVE_REPLAY
  zksim::replay::register_replay(app, exit_code);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // bad flags are bad input
  } catch (const std::exception& e) {
    fmt::print(stderr, "zksim: {}\n", e.what());
    return 2;
  }
  return exit_code;
}
