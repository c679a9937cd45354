#include "sim/sim.h"

namespace sim {

Sim::Sim(uint64_t seed) : seed_(seed), net(*this) {}

ProcId Sim::add_process(Process* p) {
  procs_.push_back(p);
  return static_cast<ProcId>(procs_.size() - 1);
}

Process* Sim::find_process(std::string_view name) const {
  for (Process* p : procs_) {
    if (p->name() == name) return p;
  }
  return nullptr;
}

}  // namespace sim
