// Simulates one hour of a 5-peer ZooKeeper ensemble (tickTime 2 s) with a JVM GC pause process on
// every peer (lognormal pauses, median 200 ms, p99 480 ms; exponential gaps, mean 5 s) and a
// write load of 2 txn/s, then reports simulated-time / wall-time. Target: >= 100,000x.
// Usage: zk_bench [hours=1] [seed=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "models/zk/peer.h"
#include "sim/sim.h"

namespace {

// A minimal stand-in for models/jvm's GC process: pause, resume after a drawn length, wait a
// drawn gap, repeat.
struct Gc {
  sim::Sim& sim;
  zk::Peer& p;
  sim::Rng rng;
  sim::Dist pause = sim::Dist::lognormal_median_p99(0.2, 0.48);
  sim::Dist gap = sim::Dist::exponential(5.0);
  uint64_t pauses = 0;
  void next() {
    auto g = sim::Duration::ns(static_cast<int64_t>(gap.sample(rng) * 1e9));
    sim.engine.after(g, [this] {
      auto d = sim::Duration::ns(static_cast<int64_t>(pause.sample(rng) * 1e9));
      p.pause();
      ++pauses;
      sim.engine.after(d, [this] {
        p.resume();
        next();
      });
    });
  }
};

}  // namespace

int main(int argc, char** argv) {
  int hours = argc > 1 ? std::atoi(argv[1]) : 1;
  uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  sim::Sim sim(seed);
  zk::Config cfg;
  cfg.write_rate_per_s = 2;
  std::vector<zk::PeerSpec> ens;
  for (int i = 1; i <= 5; ++i) {
    sim.net.add_host(fmt::format("node{}", i));
    ens.push_back({i, fmt::format("node{}", i)});
  }
  std::vector<std::unique_ptr<zk::Peer>> peers;
  for (int i = 1; i <= 5; ++i) peers.push_back(std::make_unique<zk::Peer>(sim, cfg, ens, i));
  std::vector<std::unique_ptr<Gc>> gcs;
  for (auto& p : peers) {
    gcs.push_back(std::unique_ptr<Gc>(new Gc{sim, *p, sim.rng("gc/" + p->name())}));
    gcs.back()->next();
    p->start();
  }
  uint64_t elections = 0;
  sim::FnSink sink([&](const sim::Record& r) {
    if (r.type == "zk.election" && r.get_str("role") == "LEADING") ++elections;
  });
  sim.trace.add_sink(&sink);
  auto w0 = std::chrono::steady_clock::now();
  sim::Duration span = sim::Duration::s(3600) * hours;
  sim.engine.run(sim::Time::zero() + span);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  uint64_t gc = 0;
  for (auto& g : gcs) gc += g->pauses;
  int64_t zxid = 0;
  for (auto& p : peers) zxid = std::max(zxid, p->last_zxid());
  std::printf(
      "simulated %d h in %.3f s wall: %.0fx real time; events %llu, GC pauses %llu, leader "
      "elections %llu, last zxid 0x%llx, trace hash %s\n",
      hours, wall, span.to_seconds_f() / wall,
      static_cast<unsigned long long>(sim.engine.events_processed()),
      static_cast<unsigned long long>(gc), static_cast<unsigned long long>(elections),
      static_cast<unsigned long long>(zxid), sim.trace.hash_hex().c_str());
  return 0;
}
