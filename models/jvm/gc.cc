#include "models/jvm/gc.h"

#include <fmt/format.h>

#include <algorithm>

namespace jvm {

namespace {
sim::Duration secs(double s) {
  return sim::Duration::ns(static_cast<int64_t>(std::max(0.0, s) * 1e9));
}
}  // namespace

GcProcess::GcProcess(sim::Sim& sim, sim::Process& target, GcModel model)
    : sim_(sim), target_(target), model_(std::move(model)), rng_(sim.rng("gc/" + target.name())) {}

void GcProcess::start() {
  schedule_next();
}

void GcProcess::schedule_next() {
  sim::Duration gap = secs(model_.interval.sample(rng_));
  sim_.engine.after(gap, [this] {
    if (!target_.alive()) {
      schedule_next();  // a crashed JVM has no heap to collect; keep the renewal clock going
      return;
    }
    sim::Duration len = secs(model_.pause.sample(rng_));
    uint64_t id = sim_.trace.next_span_id();
    sim::Rec(sim_.trace, sim_.now(), "gc.pause", target_.name())
        .f("ms", len.to_ms_f())
        .begin("gc", "GC pause", id)
        .emit();
    target_.pause();
    ++pauses_;
    total_ += len;
    sim_.engine.after(len, [this, id] {
      sim::Rec(sim_.trace, sim_.now(), "gc.resume", target_.name()).end("gc", id).emit();
      target_.resume();
      schedule_next();
    });
  });
}

}  // namespace jvm
