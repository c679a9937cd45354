// Meta-leadership metrics, computed from the `meta.leader` flips alone (pure functions, no engine).
//
// A meta leader is a meta server that believes it leads and serves (from its role change to its
// stop). From a time-ordered list of (time, meta, leading) flips and the end of the run this
// computes:
//   - dual-leader windows: maximal intervals with >= 2 leaders;
//   - unavailability windows: maximal intervals with 0 leaders, counted only after the first
//     leader ever appeared (start-up is not an outage);
//   - leader changes: how often leadership passed to a different meta;
//   - failover time after a fault: from the fault to the first meta that starts leading at or
//     after it.
// Flips with the same timestamp are applied together before the count is looked at, so a
// hand-over at one instant opens no window; windows of zero length are never reported. A window
// still open at `end` is closed there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/time.h"

namespace zbs {

struct LeaderFlip {
  sim::Time t;
  std::string node;  // meta process name
  bool leading = false;
};

struct Window {
  sim::Time begin;
  sim::Time end;
  sim::Duration length() const { return end - begin; }
  bool operator==(const Window&) const = default;
};

struct WindowStats {
  int64_t count = 0;
  sim::Duration total;
  sim::Duration max;
  std::vector<Window> windows;
};

struct LeaderMetrics {
  WindowStats dual;         // >= 2 leaders
  WindowStats unavailable;  // 0 leaders, after the first leader appeared
  // Times leadership went to a meta other than the one that started leading before it.
  int64_t leader_changes = 0;
  int64_t leader_starts = 0;  // every false -> true flip
  int max_leaders = 0;        // the largest simultaneous count
  std::optional<sim::Time> first_leader;
  // From `fault` to the first leading start at or after it (nullopt: none, or no fault given).
  std::optional<sim::Duration> failover;
};

// `flips` must be sorted by time (stable order within one instant does not matter). Repeated
// flips to the state a node is already in are ignored.
LeaderMetrics compute_leader_metrics(const std::vector<LeaderFlip>& flips, sim::Time end,
                                     std::optional<sim::Time> fault = std::nullopt);

}  // namespace zbs
