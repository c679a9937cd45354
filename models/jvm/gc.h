// JVM stop-the-world GC pauses as a renewal process attached to one simulated process.
//
// Pauses start a gap drawn from `interval` after the previous one started (start-to-start, as
// `zksim gcfit` measures gaps; never before the previous pause ended) and last a duration drawn
// from `pause` (both in seconds, e.g. fitted by `zksim gcfit`). A pause stops the
// whole process (Process::pause), so timers and messages wait until it ends. Draws come from the
// stream "gc/<process name>": adding GC to one process never shifts any other draws.
//
// With text logs on and a `log_file` given, each finished pause is written to
// DIR/<host>/<log_file> as JDK 8 writes it with -XX:+PrintGCDetails -XX:+PrintGCDateStamps
// -XX:+PrintGCTimeStamps (the header line of a G1 young pause: start date, JVM uptime, length), so
// the seed's `rg 'GC pause' | awk '{print $(NF-1)}'` and `zksim gcfit` / `zksim ingest` read it.
#pragma once

#include <string>

#include "sim/process.h"
#include "sim/rng.h"
#include "sim/sim.h"

namespace jvm {

struct GcModel {
  sim::Dist pause;     // seconds
  sim::Dist interval;  // seconds from the start of one pause to the start of the next
  std::string source;  // where the model came from (a gc-model.json or "inline")
};

class GcProcess {
 public:
  GcProcess(sim::Sim& sim, sim::Process& target, GcModel model, std::string log_file = {});
  void start();
  uint64_t pauses() const { return pauses_; }
  sim::Duration total_paused() const { return total_; }

 private:
  void schedule_next();
  void log_pause(sim::Time start, sim::Duration len);
  sim::Sim& sim_;
  sim::Process& target_;
  GcModel model_;
  std::string log_file_;
  sim::Rng rng_;
  uint64_t pauses_ = 0;
  sim::Duration total_;
  sim::Duration last_len_;
  int64_t last_start_ns_ = -1;  // when the last pause was due (whole ms), -1 before the first
};

// Reads a gc-model.json written by `zksim gcfit` (the "young" kind, or the first kind present)
// into a GcModel. Throws sim::ConfigError naming the file and key on bad content.
GcModel load_gc_model(const std::string& path);

}  // namespace jvm
