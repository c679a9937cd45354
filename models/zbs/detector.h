// The seeds' `detector`: an observer that polls every meta's GetMetaSummary at a fixed interval
// and prints a "quorum matrix" per tick ([L X] = meta 0 leads, meta 1 does not or did not answer)
// and "more than 1 leader appear at this tick, cnt=N". It is a sampled view: the exact,
// continuous-time dual-leader windows come from the `meta.leader` records (metrics.h); the
// detector shows what an operator polling the RPC would have seen, including metas that do not
// answer (an ifdown'd host: "failed to get meta summary for meta 0, connection is shut down").
//
// Each tick asks all metas at once over persistent connections, waits for every answer or
// `rpc_timeout`, logs, then sleeps `interval`. A request that times out closes its connection;
// the next tick reconnects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/zbs/meta.h"
#include "sim/process.h"
#include "sim/sim.h"

namespace zbs {

struct DetectorConfig {
  sim::Duration interval = sim::Duration::ms(300);
  sim::Duration rpc_timeout = sim::Duration::s(1);
  uint16_t port = 10100;
  // The seed's fault (`ifdown ens224`) took down the storage/ZooKeeper interface only, and the
  // detector still saw the isolated meta answer ([L L]): by default the RPC goes over a separate
  // management network that host faults do not touch (a crashed meta does not answer; a paused
  // one answers when it resumes). false: the RPC uses the simulated network from the detector's
  // host, so an ifdown'd meta does not answer.
  bool management_network = true;
  sim::Duration management_latency = sim::Duration::us(300);  // one way
};

class Detector : public sim::Process, public SummaryClient {
 public:
  // Process name "detector", on `host`. `metas` are polled in this order (meta 0, 1, ...).
  Detector(sim::Sim& sim, sim::HostId host, std::vector<Meta*> metas, DetectorConfig cfg = {});
  void start();

  uint64_t ticks() const { return ticks_; }
  uint64_t multi_leader_ticks() const { return multi_; }
  const std::string& last_matrix() const { return last_matrix_; }

  void on_meta_summary(sim::ConnId conn, uint64_t key, const MetaSummary& s) override;

 protected:
  void on_start() override;

 private:
  enum class Answer { Waiting, Leader, NotLeader, Failed };
  struct Target {
    Meta* meta;
    std::optional<sim::ConnId> conn;
    bool connected = false;
  };
  void tick();
  void ask(size_t i);
  void fail(size_t i);
  void maybe_finish();
  void finish();
  void dlog(const std::string& msg);

  DetectorConfig cfg_;
  std::vector<Target> targets_;
  std::vector<Answer> answers_;
  sim::Timer tick_timer_;
  sim::Timer deadline_;
  uint64_t tick_id_ = 0;
  bool in_tick_ = false;
  uint64_t ticks_ = 0;
  uint64_t multi_ = 0;
  std::string last_matrix_;
  int64_t last_log_ns_ = 0;
};

}  // namespace zbs
