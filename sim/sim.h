// The simulation container: clock, trace, network, the root seed and the processes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine.h"
#include "sim/network.h"
#include "sim/probe.h"
#include "sim/process.h"
#include "sim/rng.h"
#include "sim/textlog.h"
#include "sim/trace.h"

namespace sim {

class Sim {
  uint64_t seed_;  // first: the network's stream is derived from it during construction

 public:
  explicit Sim(uint64_t seed);
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  uint64_t seed() const { return seed_; }
  Time now() const { return engine.now(); }
  // The stream for a stable component name (e.g. "net", "gc/zk3", "client/meta:node2").
  Rng rng(std::string_view name) const { return Rng::stream(seed_, name); }

  // Registers a process (called by Process's constructor). Ids are dense, in creation order.
  ProcId add_process(Process* p);
  Process* process(ProcId id) const { return procs_.at(id); }
  Process* find_process(std::string_view name) const;
  const std::vector<Process*>& processes() const { return procs_; }

  Engine engine;
  Trace trace;
  Network net;
  TextLogs logs;       // disabled unless the run asked for --logs
  ProbeCounts probes;  // rare paths this run took (sim/probe.h); nothing reads them to decide

 private:
  std::vector<Process*> procs_;
};

}  // namespace sim
