// Sweep throughput on the grid: meta.localTimer 200ms..4s (20) x meta.sessionTimeout
// 4s..13s (10) on the seed-1 scenario, R runs per point (default 200, the figure), with
// --jobs 1 and then --jobs 2; prints points/s, runs/s and the 1 -> 2 jobs speedup, and checks that
// both outputs are byte-identical.
//
// usage: sweep_bench [RUNS_PER_POINT] [SPEC]   (default 200 and examples/slurm/tradeoff.json)
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/sweep/sweep.h"

namespace sw = zksim::sweep;

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  std::string spec_path =
      argc > 2 ? argv[2] : std::string(ZKSIM_SOURCE_DIR) + "/examples/slurm/tradeoff.json";
  sw::Spec spec = sw::load_spec(spec_path);
  spec.runs = runs;
  sw::Plan plan = sw::make_plan(spec);
  auto dir =
      std::filesystem::temp_directory_path() / fmt::format("zksim-sweep-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  double rate[3] = {0, 0, 0};
  std::string bytes[3];
  for (int jobs : {1, 2}) {
    sw::RunConfig cfg;
    cfg.jobs = jobs;
    cfg.quiet = true;
    cfg.outputs = {(dir / fmt::format("j{}.csv", jobs)).string()};
    sw::RunReport rep;
    if (int rc = sw::run_sweep(plan, cfg, &rep); rc != 0) return rc;
    rate[jobs] = static_cast<double>(rep.runs_done) / rep.wall_s;
    fmt::print("jobs {}: {} points x {} runs in {:.1f} s: {:.2f} points/s, {:.1f} runs/s\n", jobs,
               rep.points_done, runs, rep.wall_s, static_cast<double>(rep.points_done) / rep.wall_s,
               rate[jobs]);
    std::ifstream in(cfg.outputs[0]);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes[jobs] = ss.str();
  }
  std::filesystem::remove_all(dir);
  fmt::print("speedup 1 -> 2 jobs: {:.2f}x; outputs {}\n", rate[2] / rate[1],
             bytes[1] == bytes[2] ? "byte-identical" : "DIFFER");
  return bytes[1] == bytes[2] ? 0 : 1;
}
