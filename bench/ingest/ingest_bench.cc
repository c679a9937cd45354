// Ingest throughput on a generated cluster-log folder (mostly noise lines, a key event every few
// hundred lines, Java stack traces) and the peak RSS it needs: memory must not grow with the bytes.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tools/ingest/ingest.h"

namespace {

namespace fs = std::filesystem;

fs::path make_folder(std::size_t lines_per_file) {
  fs::path root = fs::temp_directory_path() / ("zksim-ingest-bench-" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (int host = 1; host <= 3; ++host) {
    fs::path h = root / ("10_0_0_" + std::to_string(host));
    fs::create_directories(h / "zk");
    fs::create_directories(h / "meta");
    std::ofstream zk(h / "zk" / "zookeeper.log");
    std::ofstream meta(h / "meta" / "zbs-metad.log.20250719-155406.5095");
    char buf[512];
    for (std::size_t i = 0; i < lines_per_file; ++i) {
      unsigned hh = static_cast<unsigned>(i / 60000 % 24),
               mm = static_cast<unsigned>(i / 1000 % 60), ss = static_cast<unsigned>(i / 17 % 60);
      if (i % 400 == 0) {
        std::snprintf(buf, sizeof buf,
                      "2025-07-20T%02u:%02u:%02u,%03u [myid:] - WARN  [QuorumPeer[myid=%d](plain="
                      "10.0.0.%d:2181)(secure=disabled):Follower@100] - Exception when following "
                      "the leader\njava.net.SocketTimeoutException: Read timed out\n",
                      hh, mm, ss, static_cast<unsigned>(i % 1000), host, host);
        zk << buf;
        for (int k = 0; k < 10; ++k)
          zk << "\tat java.net.SocketInputStream.read(SocketInputStream.java:171) ~[?:1.8.0_402]\n";
      } else {
        std::snprintf(buf, sizeof buf,
                      "2025-07-20T%02u:%02u:%02u,%03u [myid:] - INFO  [NIOWorkerThread-2:Learner@"
                      "115] - Revalidating client: 0x50618e08c482bd2\n",
                      hh, mm, ss, static_cast<unsigned>(i % 1000));
        zk << buf;
      }
      std::snprintf(buf, sizeof buf,
                    i % 500 == 0 ? "W0720 %02u:%02u:%02u.%06u 25815 zookeeper.cc:223] zookeeper "
                                   "session event: CONNECTED_STATE --> CONNECTING_STATE\n"
                                 : "I0720 %02u:%02u:%02u.%06u 25812 meta_rpc_server.cc:2125] [SET "
                                   "PEXTENT EXISTENCE]: pid: 3532148 epoch: 20379006 ST:OK 1725 "
                                   "us.\n",
                    hh, mm, ss, static_cast<unsigned>(i % 1000000));
      meta << buf;
    }
  }
  return root;
}

void BM_IngestFolder(benchmark::State& state) {
  const fs::path root = make_folder(static_cast<std::size_t>(state.range(0)));
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) bytes += e.file_size();
  std::size_t events = 0;
  for (auto _ : state) {
    zksim::ingest::Timeline tl = zksim::ingest::ingest_dir(root, zksim::ingest::IngestOptions{});
    events = tl.events.size();
    benchmark::DoNotOptimize(tl.events.data());
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  state.counters["folder_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["events"] = static_cast<double>(events);
  state.counters["peak_rss_MB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  fs::remove_all(root);
}
BENCHMARK(BM_IngestFolder)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
