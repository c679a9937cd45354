#include "models/zbs/metrics.h"

#include <map>

#include "sim/check.h"

namespace zbs {
namespace {

void add_window(WindowStats& w, sim::Time begin, sim::Time end) {
  if (end <= begin) return;
  w.windows.push_back(Window{begin, end});
  ++w.count;
  w.total += end - begin;
  if (end - begin > w.max) w.max = end - begin;
}

}  // namespace

LeaderMetrics compute_leader_metrics(const std::vector<LeaderFlip>& flips, sim::Time end,
                                     std::optional<sim::Time> fault) {
  LeaderMetrics m;
  std::map<std::string, bool> leading;  // ordered: deterministic
  int count = 0;
  std::optional<sim::Time> dual_since;
  std::optional<sim::Time> none_since;
  std::string last_starter;
  size_t i = 0;
  while (i < flips.size()) {
    const sim::Time t = flips[i].t;
    SIM_CHECK(i == 0 || flips[i - 1].t <= t, "leader flips out of order at {}", t.ns());
    if (t > end) break;
    // Apply every flip of this instant, then look at the count.
    for (; i < flips.size() && flips[i].t == t; ++i) {
      const LeaderFlip& f = flips[i];
      bool& cur = leading[f.node];
      if (cur == f.leading) continue;
      cur = f.leading;
      count += f.leading ? 1 : -1;
      if (f.leading) {
        ++m.leader_starts;
        if (!m.first_leader) m.first_leader = t;
        if (!last_starter.empty() && last_starter != f.node) ++m.leader_changes;
        last_starter = f.node;
        if (fault && !m.failover && t >= *fault) m.failover = t - *fault;
      }
    }
    if (count > m.max_leaders) m.max_leaders = count;
    if (count >= 2 && !dual_since) dual_since = t;
    if (count < 2 && dual_since) {
      add_window(m.dual, *dual_since, t);
      dual_since.reset();
    }
    if (count == 0 && m.first_leader && !none_since) none_since = t;
    if (count > 0 && none_since) {
      add_window(m.unavailable, *none_since, t);
      none_since.reset();
    }
  }
  if (dual_since) add_window(m.dual, *dual_since, end);
  if (none_since) add_window(m.unavailable, *none_since, end);
  return m;
}

}  // namespace zbs
