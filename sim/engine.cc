#include "sim/engine.h"

#include <algorithm>

#include "sim/check.h"

namespace sim {

// The queue is a 4-ary min-heap on (t, seq). (t, seq) is a strict total order, so any correct
// heap pops events in exactly the same order; four children per node halve the depth of a binary
// heap and keep siblings in one cache line (engine_bench measures it against std::priority_queue).
namespace {

constexpr size_t kArity = 4;

inline bool before(const auto& a, const auto& b) {
  return a.t != b.t ? a.t < b.t : a.seq < b.seq;
}

template <class E>
void sift_up(std::vector<E>& h, size_t i) {
  E e = h[i];
  while (i > 0) {
    size_t parent = (i - 1) / kArity;
    if (!before(e, h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = e;
}

// Removes the root: the last entry sinks from the root to its place.
template <class E>
void pop_root(std::vector<E>& h) {
  E e = h.back();
  h.pop_back();
  size_t n = h.size();
  if (n == 0) return;
  size_t i = 0;
  for (;;) {
    size_t first = i * kArity + 1;
    if (first >= n) break;
    size_t last = std::min(first + kArity, n);
    size_t best = first;
    for (size_t c = first + 1; c < last; ++c) {
      if (before(h[c], h[best])) best = c;
    }
    if (!before(h[best], e)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = e;
}

}  // namespace

EventId Engine::at(Time t, Fn fn) {
  SIM_CHECK(t >= now_, "event scheduled in the past: at {} but now {}", t.ns(), now_.ns());
  uint32_t s;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    s = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[s];
  slot.fn = std::move(fn);
  slot.live = true;
  ++live_;
  heap_.push_back(Entry{t.ns(), seq_++, s, slot.gen});
  sift_up(heap_, heap_.size() - 1);
  return EventId{s, slot.gen};
}

void Engine::free_slot(uint32_t s) {
  Slot& slot = slots_[s];
  slot.live = false;
  ++slot.gen;
  --live_;
  free_.push_back(s);
}

bool Engine::cancel(EventId id) {
  if (!is_pending(id)) return false;
  slots_[id.slot].fn = nullptr;
  free_slot(id.slot);
  return true;
}

bool Engine::is_pending(EventId id) const {
  return id.valid() && id.slot < slots_.size() && slots_[id.slot].live &&
         slots_[id.slot].gen == id.gen;
}

StopReason Engine::run(Time until, uint64_t max_events) {
  stop_ = false;
  uint64_t budget = max_events;
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    if (top.t > until.ns()) {
      now_ = std::max(now_, until);  // run(earlier limit) must not move the clock back
      return StopReason::TimeLimit;
    }
    pop_root(heap_);
    Slot& slot = slots_[top.slot];
    if (!slot.live || slot.gen != top.gen) continue;  // cancelled
    if (budget == 0) {
      // Put it back untouched: the caller may continue the run later.
      heap_.push_back(top);
      sift_up(heap_, heap_.size() - 1);
      return StopReason::EventBudget;
    }
    --budget;
    // Models that keep scheduling at the current instant would hang the run and eat memory (the
    // C client's connect spin once did): past kMaxEventsPerInstant it is a bug, said with the time.
    if (top.t != now_.ns()) {
      same_instant_ = 0;
    } else if (++same_instant_ > kMaxEventsPerInstant) {
      SIM_CHECK(false, "{} events at one instant (t={} ns) without time passing: a model loops",
                same_instant_, top.t);
    }
    now_ = Time::from_ns(top.t);
    Fn fn = std::move(slot.fn);
    free_slot(top.slot);
    ++processed_;
    fn();
    if (stop_) return StopReason::Stopped;
  }
  if (until != Time::max()) now_ = std::max(now_, until);
  return StopReason::Quiescent;
}

}  // namespace sim
