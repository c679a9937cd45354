// Campaign throughput of zksim fuzz (runs/s) on scenarios/fuzz/perf-5x5-gc-120s.json: 120 s
// simulated, 5 ZooKeeper peers, 5 metas, GC pauses on every peer, 1..3 random faults per run.
// The target: >= 2,000 runs/s per core and >= 1.8x with 2 jobs. Same figures from the CLI:
//   zksim fuzz --scenario scenarios/fuzz/perf-5x5-gc-120s.json --runs 2000 --jobs J --bench
#include <benchmark/benchmark.h>

#include "tools/fuzz/fuzz.h"

namespace {

void BM_Campaign(benchmark::State& state) {
  static const scenario::Scenario base =
      scenario::load(ZKSIM_SOURCE_DIR "/scenarios/fuzz/perf-5x5-gc-120s.json");
  zksim::fuzz::CampaignConfig c;
  c.properties = {zksim::fuzz::Property::P1};
  c.gen = zksim::fuzz::default_gen_config(base, c.bounds);
  c.runs = 400;
  c.jobs = static_cast<int>(state.range(0));
  c.shrink_per_property = 0;
  uint64_t runs = 0, events = 0;
  for (auto _ : state) {
    auto r = zksim::fuzz::run_campaign(base, c);
    runs += r.runs;
    events += r.events;
    ++c.seed;
  }
  state.counters["runs/s"] =
      benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["events/run"] = static_cast<double>(events) / static_cast<double>(runs);
}
BENCHMARK(BM_Campaign)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
