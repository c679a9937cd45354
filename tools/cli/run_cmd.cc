#include "tools/cli/run_cmd.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "models/world/world.h"
#include "sim/check.h"
#include "sim/config.h"
#include "tools/cli/timeline.h"
#include "tools/cli/validators.h"
#include "tools/cli/wrap.h"

namespace cli {

namespace {

struct RunArgs {
  std::string scenario;
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  std::string trace, perfetto, logs;
  bool json = false;
  bool messages = false;
  bool all = false;
  size_t max_lines = 400;
};

std::string ms(sim::Duration d) {
  return fmt::format("{:.1f} ms", d.to_ms_f());
}

int do_run(const RunArgs& a) {
  scenario::Scenario sc;
  try {
    sc = scenario::load(a.scenario, a.sets);
  } catch (const sim::ConfigError& e) {
    fmt::print(stderr, "zksim run: {}\n", e.what());
    return 2;
  }
  world::RunOptions opt;
  opt.seed = a.seed;
  opt.trace_path = a.trace;
  opt.perfetto_path = a.perfetto;
  opt.logs_dir = a.logs;
  opt.messages = a.messages;
  uint64_t seed = a.seed.value_or(sc.seed);
  std::unique_ptr<TimelinePrinter> printer;
  if (!a.json) {
    fmt::print("zksim run {}  (scenario \"{}\", seed {}, {} simulated)\n", a.scenario, sc.name,
               seed, sim::format_duration(sc.duration));
    if (!sc.description.empty()) fmt::print("  {}\n", sc.description);
    fmt::print("\ntimeline:\n");
    printer = std::make_unique<TimelinePrinter>(stdout, a.all, a.max_lines);
    opt.extra_sinks.push_back(printer.get());
  }
  world::RunResult r;
  auto t0 = std::chrono::steady_clock::now();  // wall time of the whole run, for reporting only
  try {
    r = world::run(sc, opt);
  } catch (const sim::ConfigError& e) {
    fmt::print(stderr, "zksim run: {}\n", e.what());
    return 2;
  } catch (const sim::InvariantError& e) {
    fmt::print(stderr, "zksim run: {}\nseed={}\nreproduce: {}\n", e.what(), seed,
               scenario::run_command(a.scenario, seed, a.sets));
    return 3;
  }
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  int rc = r.violations.empty() ? 0 : 1;
  if (a.json) {
    fmt::print("{}\n", world::to_json(r).dump(2));
    return rc;
  }
  const auto& m = r.metrics;
  fmt::print("\nsummary:\n");
  fmt::print("  meta leaders       {} leadership change(s), {} meta stop(s)\n",
             m.meta_leader_changes, m.meta_failovers);
  fmt::print("  dual meta leaders  {} window(s), total {}, longest {}\n", m.meta_dual.count,
             ms(m.meta_dual.total), ms(m.meta_dual.max));
  for (const auto& w : m.meta_dual_windows) {
    fmt::print("                       {} .. {}  ({})\n", sim::format_time(w.begin),
               sim::format_time(w.end), ms(w.length()));
  }
  fmt::print("  no meta leader     {} window(s), total {}, longest {}\n", m.meta_unavailable.count,
             ms(m.meta_unavailable.total), ms(m.meta_unavailable.max));
  for (const auto& w : m.meta_gap_windows) {
    fmt::print("                       {} .. {}  ({})\n", sim::format_time(w.begin),
               sim::format_time(w.end), ms(w.length()));
  }
  fmt::print(
      "  zookeeper          {} leader establishment(s), {} follower exception(s), {} session "
      "expiration(s)\n",
      m.zk_elections, m.zk_follower_exceptions, m.zk_session_expirations);
  fmt::print("  no zk leader       {} window(s), total {}, longest {}\n", m.zk_unavailable.count,
             ms(m.zk_unavailable.total), ms(m.zk_unavailable.max));
  if (m.gc_pauses) fmt::print("  gc pauses          {}\n", m.gc_pauses);
  // The rare paths this run took (sim/probe.h): the story of a fault in a few words.
  std::vector<std::string> taken;
  for (const auto& [name, n] : r.probes.by_name())
    if (n > 0) taken.push_back(fmt::format("{} {}", name, n));
  if (!taken.empty())
    fmt::print("{}", wrap_list("  rare paths         ", std::string(21, ' '), taken));
  fmt::print("\nverdict: {}\n", rc == 0 ? "OK (no check violated)" : "VIOLATED");
  for (const auto& v : r.violations) fmt::print("  - {}\n", v);
  double speed = r.wall_ms > 0 ? r.sim_time.to_ms_f() / r.wall_ms : 0;
  fmt::print(
      "\nseed={} trace_hash={} events={} records={} sim={:.0f}ms wall={:.1f}ms ({:.0f}x real "
      "time)\n",
      r.seed, r.trace_hash, r.events, r.records, r.sim_time.to_ms_f(), r.wall_ms, speed);
  if (rc != 0) fmt::print("reproduce: {}\n", scenario::run_command(a.scenario, r.seed, a.sets));
  return rc;
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run =
      app.add_subcommand("run", "Run one scenario with one seed; print its timeline and verdict");
  run->add_option("scenario", args->scenario, "Scenario JSON file")->required();
  run->add_option("--seed", args->seed, "Seed (default: the scenario's)")->check(cli::check_seed);
  run->add_option("--set", args->sets,
                  "Override a scenario field: path=value (e.g. zk.tickTime=1s)");
  run->add_option("--trace", args->trace, "Write the JSONL event trace to this file");
  run->add_option("--perfetto", args->perfetto, "Write a Chrome/Perfetto trace JSON to this file");
  run->add_option("--logs", args->logs,
                  "Write ZooKeeper and zbs-metad logs per host under this folder");
  run->add_flag("--messages", args->messages,
                "Trace every network message (flow arrows in Perfetto)");
  run->add_flag("--json", args->json,
                "Print one JSON object (seed, trace_hash, metrics, violations)");
  run->add_flag("--all", args->all, "Print every trace record in the timeline");
  run->add_option("--max-lines", args->max_lines, "Cap on timeline lines")
      ->check([](const std::string& v) -> std::string {
        return !v.empty() && v.find_first_not_of("0123456789") == std::string::npos &&
                       v.find_first_not_of('0') != std::string::npos
                   ? ""
                   : "expected a whole number of lines, at least 1, got \"" + v + "\"";
      });
  run->callback([args, &exit_code] { exit_code = do_run(*args); });
}

}  // namespace cli
