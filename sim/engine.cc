#include "sim/engine.h"

#include <algorithm>

#include "sim/check.h"

namespace sim {

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
  std::push_heap(heap_.begin(), heap_.end(), Later{});
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
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    Slot& slot = slots_[top.slot];
    if (!slot.live || slot.gen != top.gen) continue;  // cancelled
    if (budget == 0) {
      // Put it back untouched: the caller may continue the run later.
      heap_.push_back(top);
      std::push_heap(heap_.begin(), heap_.end(), Later{});
      return StopReason::EventBudget;
    }
    --budget;
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
