// Hold-model benchmark (issue: engine >= 0.5 x a bare priority queue at N = 64 and N = 4096).
//
// N events are pending at all times; firing one schedules the next at now + an exponential
// increment (mean 1 ms, truncated to ns) drawn from a sim::Rng. The same workload runs through
// sim::Engine (a callback per event that re-schedules itself) and through a bare
// std::priority_queue of (time, seq) pairs, with identical draws. Items/s is events/s; after the
// runs the reporter prints one "ratio" line per N.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/rng.h"

namespace {

constexpr int64_t kBatch = 4096;  // events per benchmark iteration
constexpr double kMeanNs = 1e6;

inline sim::Duration draw(sim::Rng& rng) {
  return sim::Duration::ns(static_cast<int64_t>(rng.exponential(kMeanNs)));
}

struct Hold {
  sim::Engine* e;
  sim::Rng* rng;
  void operator()() const { e->after(draw(*rng), *this); }
};

void BM_EngineHold(benchmark::State& state) {
  const int64_t n = state.range(0);
  sim::Engine e;
  sim::Rng rng(42);
  for (int64_t i = 0; i < n; ++i) e.after(draw(rng), Hold{&e, &rng});
  // Warm up: reach the steady-state distribution of pending times.
  e.run(sim::Time::max(), static_cast<uint64_t>(10 * n));
  for (auto _ : state) {
    e.run(sim::Time::max(), kBatch);
  }
  if (e.pending() != static_cast<size_t>(n)) state.SkipWithError("pending count drifted");
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_BareHold(benchmark::State& state) {
  const int64_t n = state.range(0);
  struct Ev {
    int64_t t;
    uint64_t seq;
    bool operator>(const Ev& o) const { return t != o.t ? t > o.t : seq > o.seq; }
  };
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> q;
  sim::Rng rng(42);
  uint64_t seq = 0;
  int64_t now = 0;
  for (int64_t i = 0; i < n; ++i) q.push(Ev{draw(rng).count_ns(), seq++});
  auto step = [&](int64_t k) {
    for (int64_t i = 0; i < k; ++i) {
      Ev top = q.top();
      q.pop();
      now = top.t;
      q.push(Ev{now + draw(rng).count_ns(), seq++});
    }
  };
  step(10 * n);
  for (auto _ : state) {
    step(kBatch);
    benchmark::DoNotOptimize(now);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_EngineHold)->Arg(64)->Arg(4096);
BENCHMARK(BM_BareHold)->Arg(64)->Arg(4096);

// Prints as usual, remembers items/s per run and prints engine/bare ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end()) rate_[r.benchmark_name()] = it->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const char* n : {"64", "4096"}) {
      double eng = rate_[std::string("BM_EngineHold/") + n];
      double bare = rate_[std::string("BM_BareHold/") + n];
      if (eng > 0 && bare > 0) {
        std::printf(
            "hold N=%-5s engine %.3g events/s, bare priority_queue %.3g events/s, ratio %.2f "
            "(target >= 0.5)\n",
            n, eng, bare, eng / bare);
      }
    }
    std::fflush(stdout);
  }

 private:
  std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
