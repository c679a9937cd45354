// The nemesis: applies a scenario's faults at their times.
//
// Targets are resolved when the fault fires, so "meta:leader" means whoever leads at that instant.
// Link faults are reference-counted per directed link: overlapping partitions and cuts heal
// independently, and a link is up again only when every fault that cut it has ended.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "models/scenario/scenario.h"
#include "sim/sim.h"

namespace faults {

class Nemesis {
 public:
  // Resolves a process target ("zk:3", "meta:node2", "zk:leader", "meta:leader") to a process,
  // or nullptr when no process fits at that instant (the fault is then recorded as skipped).
  using Resolver = std::function<sim::Process*(const std::string& target)>;

  Nemesis(sim::Sim& sim, Resolver resolve);
  void schedule(const std::vector<scenario::FaultSpec>& faults);
  // Time at which the last fault ends (its heal), or the last fault start if none has a duration.
  sim::Time last_heal() const { return last_heal_; }

 private:
  void fire(size_t index, const scenario::FaultSpec& f);
  void cut(sim::HostId from, sim::HostId to, bool reject, int delta);
  // The same, for one port of the link only (a fault's "port"); `port` 0 is the whole link.
  void cut(sim::HostId from, sim::HostId to, uint16_t port, bool reject, int delta);
  sim::HostId host(const std::string& name) const;
  std::vector<sim::HostId> hosts_matching(const std::string& name) const;

  sim::Sim& sim_;
  Resolver resolve_;
  std::vector<int> cuts_;  // dense (from, to) -> how many active faults cut this link
  // (from, to, port) -> how many active port faults cut it; ordered, iterated nowhere.
  std::map<std::tuple<sim::HostId, sim::HostId, uint16_t>, int> port_cuts_;
  std::vector<int> down_;  // host -> how many active ifdown faults
  sim::Time last_heal_;
};

}  // namespace faults
