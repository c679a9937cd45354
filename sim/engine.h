// The event kernel: a priority queue (a 4-ary heap) of callbacks ordered by (time, insertion
// sequence).
//
// Ties break by insertion order, never by pointer or hash (STYLE.md §3). Cancellation is O(1):
// each scheduled callback lives in a slot with a generation counter; cancelling bumps the
// generation and the stale heap entry is skipped when it surfaces.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/callback.h"
#include "sim/time.h"

namespace sim {

struct EventId {
  uint32_t slot = UINT32_MAX;
  uint32_t gen = 0;
  bool valid() const { return slot != UINT32_MAX; }
};

enum class StopReason { TimeLimit, EventBudget, Quiescent, Stopped };

class Engine {
 public:
  using Fn = Callback;

  Time now() const { return now_; }
  uint64_t events_processed() const { return processed_; }
  size_t pending() const { return live_; }

  // Scheduling in the past is a programming error and aborts (STYLE.md §3).
  EventId at(Time t, Fn fn);
  EventId after(Duration d, Fn fn) { return at(now_ + d, std::move(fn)); }
  // Returns true if the event was pending and is now cancelled. Safe on stale or empty ids.
  bool cancel(EventId id);
  bool is_pending(EventId id) const;

  // Runs events with time <= `until` (the clock then reads `until` unless stopped earlier), at
  // most `max_events` of them. Quiescent = nothing left to run.
  StopReason run(Time until, uint64_t max_events = UINT64_MAX);
  // Makes run() return after the current event.
  void stop() { stop_ = true; }

  // More events than this at one instant is a model looping without time passing: run() throws
  // InvariantError instead of hanging.
  static constexpr uint64_t kMaxEventsPerInstant = 1'000'000;

 private:
  struct Entry {
    int64_t t;
    uint64_t seq;
    uint32_t slot;
    uint32_t gen;
  };
  struct Slot {
    Fn fn;
    uint32_t gen = 0;
    bool live = false;
  };
  void free_slot(uint32_t s);

  Time now_ = Time::zero();
  uint64_t seq_ = 0;
  uint64_t processed_ = 0;
  size_t live_ = 0;
  bool stop_ = false;
  uint64_t same_instant_ = 0;  // events run at now_ after the first one there
  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace sim
