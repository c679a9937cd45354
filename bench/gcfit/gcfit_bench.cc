// gcfit benchmarks: parse throughput on a large log made by repeating a real one, and the time to
// fit 100k pauses. Run: bench/gcfit/gcfit_bench [--benchmark_filter=...]
// Env: GCFIT_BENCH_LOG (default ../shared/data/gc-logs/gctoolkit-testdata/gcspike.log),
//      GCFIT_BENCH_MB (size of the generated file, default 256).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/gcfit/fit.h"
#include "tools/gcfit/parser.h"

namespace {

using namespace zksim::gcfit;

std::string env_or(const char* name, std::string dflt) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : dflt;
}

// A temporary file made of copies of a real log, removed at exit.
struct BigLog {
  std::string path;
  uint64_t bytes = 0;
  BigLog() {
    std::string src = env_or("GCFIT_BENCH_LOG", std::string(ZKSIM_SHARED_DIR) +
                                                    "/data/gc-logs/gctoolkit-testdata/gcspike.log");
    std::ifstream in(src, std::ios::binary);
    if (!in) return;
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (!text.empty() && text.back() != '\n') text += '\n';
    uint64_t want = std::stoull(env_or("GCFIT_BENCH_MB", "256")) << 20;
    char tmpl[] = "/tmp/gcfit-bench-XXXXXX";
    int fd = ::mkstemp(tmpl);
    ::close(fd);
    path = tmpl;
    std::ofstream out(path, std::ios::binary);
    while (bytes < want) {
      out << text;
      bytes += text.size();
    }
  }
  ~BigLog() {
    if (!path.empty()) std::filesystem::remove(path);
  }
};

void BM_ParseLog(benchmark::State& state) {
  static BigLog log;
  if (log.path.empty()) {
    state.SkipWithError("shared data absent (set GCFIT_BENCH_LOG)");
    return;
  }
  uint64_t pauses = 0;
  for (auto _ : state) {
    pauses = 0;
    ParseStats st = parse_file(log.path, [&](const Pause&) { ++pauses; });
    benchmark::DoNotOptimize(st.lines);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * log.bytes));
  state.counters["pauses"] = static_cast<double>(pauses);
  state.counters["file_MB"] = static_cast<double>(log.bytes) / (1 << 20);
}
BENCHMARK(BM_ParseLog)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Fit(benchmark::State& state) {
  // Lognormal-ish pauses from a fixed LCG (deterministic, no std:: distributions).
  std::vector<double> x(static_cast<size_t>(state.range(0)));
  uint64_t s = 12345;
  for (double& v : x) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = (static_cast<double>(s >> 11) + 0.5) / 9007199254740992.0;
    v = std::exp(-2 + 0.9 * normal_quantile(u));
  }
  for (auto _ : state) {
    SampleFit f = fit_sample(x);
    benchmark::DoNotOptimize(f.chosen.mu);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * x.size()));
}
BENCHMARK(BM_Fit)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
