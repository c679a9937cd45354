#include "tools/replay/replay_cli.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "sim/check.h"
#include "sim/time.h"
#include "tools/cli/validators.h"
#include "tools/replay/replay.h"

namespace zksim::replay {

void register_replay(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Options>();
  auto tol = std::make_shared<std::string>("1s");
  auto horizon = std::make_shared<std::string>("300s");
  CLI::App* c = app.add_subcommand("replay",
                                   "Infer the faults of an incident from its logs, simulate it, "
                                   "compare recorded vs simulated (and a counterfactual)");
  c->add_option("input", o->input,
                "Log folder (as from the cluster, or `zksim run --logs`) or a timeline.json from "
                "`zksim ingest --out`")
      ->required();
  c->add_option("--config", o->config,
                "zoo.cfg, or a scenario JSON whose configuration to use (its faults are ignored); "
                "default: a zoo.cfg in the folder, else the logs");
  c->add_option("--base-set", o->base_sets,
                "Override a field of the baseline configuration: path=value");
  c->add_option("--set", o->sets,
                "Counterfactual override, e.g. zk.syncLimit=10 or meta.localTimer=1s (repeatable)");
  c->add_option("--out", o->out,
                "Write report.txt, report.json, scenario.json (inferred, editable) and the "
                "simulated logs here");
  c->add_option(
      "--tz", o->tz,
      "Time zone of the log lines (UTC or +08:00); default: the scenario's logs.tz, else UTC");
  c->add_option("--year", o->year, "Year of glog lines when neither header nor file name has it");
  c->add_option("--seed", o->seed,
                "Simulation seed (default: the run record's, else the config's, else 1)")
      ->check(cli::check_seed);
  c->add_option("--faults", o->faults,
                "logs (infer, default), record (zksim-run.json of a simulated run), or a scenario "
                "JSON whose faults to use");
  c->add_option("--tolerance", *tol,
                "Window for pairing recorded and simulated events (default 1s)");
  c->add_option("--calibrate", o->calibrate_iterations,
                "Calibration iterations of inferred fault times (0 = none)");
  c->add_option("--fit-steps", o->fit_steps,
                "Candidates tried per fault time that the evidence only bounds (0 = no fitting)");
  c->add_option("--fit-horizon", *horizon,
                "How far past a fault's last possible time its candidates are simulated and "
                "scored (default 300s)");
  c->add_option("--jobs", o->jobs,
                "Threads simulating fitting candidates (the result does not depend on it)")
      ->check(CLI::Range(1, 256));
  c->add_flag("--lenient", o->lenient,
              "Skip binary files and damaged lines (noted) instead of refusing them");
  c->callback([o, tol, horizon, &exit_code] {
    std::string err;
    auto t = sim::parse_duration(*tol, &err);
    if (!t) {
      fmt::print(stderr, "zksim replay: --tolerance {}: {}\n", *tol, err);
      exit_code = 2;
      return;
    }
    o->tolerance_ns = t->count_ns();
    auto h = sim::parse_duration(*horizon, &err);
    if (!h || h->count_ns() <= 0) {
      fmt::print(stderr, "zksim replay: --fit-horizon {}: {}\n", *horizon,
                 h ? "must be positive" : err);
      exit_code = 2;
      return;
    }
    o->fit_horizon_ns = h->count_ns();
    // One status line on a terminal, rewritten in place while the fit simulates candidates; ended
    // before anything else is printed (the report or an error).
    auto shown = std::make_shared<bool>(false);
    if (::isatty(2)) {
      auto t0 = std::chrono::steady_clock::now();
      o->progress = [t0, shown](const std::string& s) {
        double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        fmt::print(stderr, "\r\033[Kzksim replay: {} ({:.0f} s)", s, el);
        std::fflush(stderr);
        *shown = true;
      };
    }
    auto end_status = [shown] {
      if (*shown) fmt::print(stderr, "\n");
      *shown = false;
    };
    try {
      std::string text;
      replay(*o, &text);
      end_status();
      fmt::print("{}", text);
      exit_code = 0;
    } catch (const ReplayError& e) {
      end_status();
      fmt::print(stderr, "zksim replay: {}\n", e.what());
      exit_code = 2;
    } catch (const sim::InvariantError& e) {
      end_status();
      fmt::print(stderr, "zksim replay: internal invariant failed: {}\n", e.what());
      exit_code = 3;
    }
  });
}

}  // namespace zksim::replay
