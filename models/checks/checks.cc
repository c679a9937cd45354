#include "models/checks/checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace checks {

namespace {

// Time from `heal` until a leader exists (0 if one exists at that instant), from the gaps.
std::optional<sim::Duration> recovery(const zbs::LeaderMetrics& m, sim::Time heal, sim::Time end) {
  if (!m.first_leader) return std::nullopt;
  sim::Time from = std::max(heal, *m.first_leader);
  for (const auto& w : m.unavailable.windows) {
    if (w.begin <= from && from < w.end) {
      if (w.end >= end) return std::nullopt;  // still no leader when the run ended
      return w.end - heal;
    }
  }
  return from - heal;
}

}  // namespace

Observer::NodeView& Observer::peer_view(const std::string& node) {
  NodeView& v = view(node);
  if (!v.peer) {
    v.peer = true;
    auto at = std::lower_bound(peers_.begin(), peers_.end(), node,
                               [](const auto& p, const std::string& n) { return *p.first < n; });
    peers_.insert(at, {last_name_, &v});
  }
  return v;
}

namespace {

// A name of at most 7 bytes as one integer: its bytes, then its length + 1 in the top byte (names
// of different lengths never collide). 0 for longer names.
uint64_t short_key(const std::string& s) {
  if (s.size() > 7) return 0;
  uint64_t k = 0;
  std::memcpy(&k, s.data(), s.size());
  return k | (uint64_t{s.size()} + 1) << 56;
}

}  // namespace

Observer::NodeView& Observer::view(const std::string& node) {
  // Short names (every ZooKeeper peer) are found by their packed key; longer ones by the last hit
  // (records come in bursts from the same few nodes), then the map.
  uint64_t key = short_key(node);
  if (key != 0) {
    for (const Short& e : short_) {
      if (e.key == key) {
        last_name_ = e.name;
        last_view_ = e.view;
        return *e.view;
      }
    }
  } else if (last_view_ && *last_name_ == node) {
    return *last_view_;
  }
  auto it = nodes_.find(node);
  if (it == nodes_.end()) it = nodes_.emplace(node, NodeView{}).first;
  last_name_ = &it->first;
  last_view_ = &it->second;
  if (key != 0) short_.push_back(Short{key, last_name_, last_view_});
  return it->second;
}

void Observer::on_record(const sim::Record& r) {
  const std::string_view type = r.type;
  // Most records are of no interest here (detector matrices, client and session details).
  // Dispatch on the first character, then compare whole names within that family.
  switch (type.empty() ? '\0' : type[0]) {
    case 'g':
      if (type == "gc.pause") {
        ++m_.gc_pauses;
        pause_start(r.node, r.t);
      } else if (type == "gc.resume") {
        pause_end(r.node, r.t);
      }
      return;
    case 'f':
      if (type == "fault.start") {
        std::string_view kind = r.str("kind");
        if (kind == "pause") {
          pause_start(r.node, r.t);
        } else if (kind == "crash") {
          set_stopped(r.node, r.t, true);
        }
      } else if (type == "fault.end") {
        std::string_view what = r.str("what");
        if (what.substr(0, 6) == "pause ") {
          pause_end(r.node, r.t);
        } else if (what.substr(0, 6) == "crash ") {
          set_stopped(r.node, r.t, false);
        }
      } else if (type == "fault.restart") {
        set_stopped(r.node, r.t, false);
      }
      return;
    case 'm':
      if (type == "meta.leader") {
        meta_flips_.push_back(zbs::LeaderFlip{r.t, r.node, r.get_int("leading") != 0});
      } else if (type == "meta.role" && r.str("role") == "stopped") {
        ++m_.meta_failovers;
      }
      return;
    case 'z':
      if (type == "zk.state") {
        on_zk_state(r);
      } else if (type == "zk.follower.exception") {
        ++m_.zk_follower_exceptions;
      } else if (type == "zk.session.expire") {
        ++m_.zk_session_expirations;
      }
      return;
    default:
      return;
  }
}

// A peer counts for a serving leader only in broadcast (leading it or following it): stopping or
// resuming any other peer cannot change who serves, and GC pauses (most records of a run with GC)
// skip the recount.
void Observer::pause_start(const std::string& node, sim::Time t) {
  NodeView& v = view(node);
  if (v.pauses++ == 0) v.stopped = true;
  if (v.peer && (v.leading_broadcast || v.following_broadcast)) update_zk(t);
}

void Observer::pause_end(const std::string& node, sim::Time t) {
  NodeView& v = view(node);
  if (--v.pauses <= 0) {
    v.pauses = 0;
    v.stopped = false;
  }
  if (v.peer && (v.leading_broadcast || v.following_broadcast)) update_zk(t);
}

void Observer::set_stopped(const std::string& node, sim::Time t, bool crashed) {
  NodeView& v = view(node);
  v.stopped = crashed;
  if (crashed) v.pauses = 0;  // a crash ends every pause; a restart starts unpaused
  if (v.peer) update_zk(t);
}

void Observer::on_zk_state(const sim::Record& r) {
  NodeView& v = peer_view(r.node);
  std::string_view state = r.str("state");
  std::string_view phase = r.str("phase");
  bool leading = state == "LEADING" && phase == "broadcast";
  if (leading && !v.leading_broadcast) {
    ++m_.zk_elections;
    int64_t epoch = r.get_int("epoch", -1);
    auto& set = leaders_by_epoch_[epoch];
    set.insert(r.node);
    if (set.size() > 1) {
      std::string who;
      for (const auto& n : set) who += (who.empty() ? "" : ", ") + n;
      violations_.push_back(
          fmt::format("at {}: two ZooKeeper leaders in broadcast with epoch {}: {}",
                      sim::format_time(r.t), epoch, who));
      unsafe_ = true;
    }
  }
  v.leading_broadcast = leading;
  v.following_broadcast = state == "FOLLOWING" && phase == "broadcast";
  v.leader = r.get_int("leader", -1);
  v.myid = r.node.rfind("zk:", 0) == 0 ? std::atoll(r.node.c_str() + 3) : -1;
  update_zk(r.t);
}

void Observer::update_zk(sim::Time t) {
  // Which leader, if any, serves: running, in broadcast, with a running quorum in its epoch.
  size_t ensemble = sc_.zk.peers.size();
  const NodeView* serving = nullptr;
  for (const auto& [name, v] : peers_) {
    if (!v->leading_broadcast || v->stopped) continue;
    size_t votes = 1;
    for (const auto& [fname, f] : peers_) {
      // A leader is never FOLLOWING, so it never counts itself twice.
      votes += !f->stopped && f->following_broadcast && f->leader == v->myid;
    }
    if (votes * 2 > ensemble) serving = v;
  }
  // Most calls (a GC pause of a follower) change nothing: the serving leader stays.
  if (serving == serving_) return;
  serving_ = serving;
  for (const auto& [name, v] : peers_) {
    bool now = v == serving;
    if (v->serving != now) {
      v->serving = now;
      zk_flips_.push_back(zbs::LeaderFlip{t, *name, now});
    }
  }
}

void Observer::finish(sim::Time end) {
  zbs::LeaderMetrics meta = zbs::compute_leader_metrics(meta_flips_, end);
  zbs::LeaderMetrics zk = zbs::compute_leader_metrics(zk_flips_, end);
  m_.meta_dual = meta.dual;
  m_.meta_unavailable = meta.unavailable;
  m_.zk_unavailable = zk.unavailable;
  m_.zk_dual = zk.dual;
  m_.meta_dual_windows = meta.dual.windows;
  m_.meta_gap_windows = meta.unavailable.windows;
  m_.zk_gap_windows = zk.unavailable.windows;
  m_.meta_leader_changes = meta.leader_starts;
  m_.first_meta_leader = meta.first_leader;
  if (last_heal_) {
    m_.meta_recovery_after_heal = recovery(meta, *last_heal_, end);
    m_.zk_recovery_after_heal = recovery(zk, *last_heal_, end);
  }

  const auto& c = sc_.checks;
  auto ms = [](sim::Duration d) { return fmt::format("{:.3f} ms", d.to_ms_f()); };
  if (c.max_meta_leaders && *c.max_meta_leaders < 2 && m_.meta_dual.count > 0) {
    const auto& w = m_.meta_dual_windows.front();
    violations_.push_back(fmt::format(
        "dual meta leaders: {} window(s), longest {}, first at {} for {}", m_.meta_dual.count,
        ms(m_.meta_dual.max), sim::format_time(w.begin), ms(w.length())));
  }
  if (c.max_dual_leader && m_.meta_dual.max > *c.max_dual_leader) {
    violations_.push_back(fmt::format("dual meta leaders for {} > maxDualLeader {}",
                                      ms(m_.meta_dual.max), ms(*c.max_dual_leader)));
  }
  if (c.max_meta_unavailable && m_.meta_unavailable.max > *c.max_meta_unavailable) {
    violations_.push_back(fmt::format("no meta leader for {} > maxMetaUnavailable {}",
                                      ms(m_.meta_unavailable.max), ms(*c.max_meta_unavailable)));
  }
  // Windows without a leader are counted from the first one on (start-up is not an outage): a
  // service that never came up is a violation of its own.
  if (c.max_meta_unavailable && !meta.first_leader && sc_.meta.enabled && !sc_.meta.hosts.empty()) {
    violations_.push_back(fmt::format("no meta leader in the whole run (maxMetaUnavailable {})",
                                      ms(*c.max_meta_unavailable)));
  }
  if (c.max_zk_unavailable && !zk.first_leader) {
    violations_.push_back(
        fmt::format("no ZooKeeper leader in broadcast in the whole run (maxZkUnavailable {})",
                    ms(*c.max_zk_unavailable)));
  }
  if (c.max_zk_unavailable && m_.zk_unavailable.max > *c.max_zk_unavailable) {
    violations_.push_back(
        fmt::format("no ZooKeeper leader in broadcast for {} > maxZkUnavailable {}",
                    ms(m_.zk_unavailable.max), ms(*c.max_zk_unavailable)));
  }
  // A run that ends sooner than the bound after the heal without a leader fails too (a service
  // still down when the run stops is the finding), but the message says how long the run went on:
  // "none by the end" alone would read as "none for the whole bound".
  auto none_by_end = [&](sim::Duration bound) {
    sim::Duration left = end - *last_heal_;
    if (left >= bound) return std::string(": none by the end");
    return fmt::format(": none in the {} the run went on after it (shorter than the bound)",
                       ms(left));
  };
  if (c.meta_leader_within_after_heal && last_heal_) {
    auto got = m_.meta_recovery_after_heal;
    if (!got || *got > *c.meta_leader_within_after_heal) {
      violations_.push_back(
          fmt::format("no meta leader within {} after the last fault healed (at {}){}",
                      ms(*c.meta_leader_within_after_heal), sim::format_time(*last_heal_),
                      got ? fmt::format(": took {}", ms(*got))
                          : none_by_end(*c.meta_leader_within_after_heal)));
    }
  }
  if (c.zk_leader_within_after_heal && last_heal_) {
    auto got = m_.zk_recovery_after_heal;
    if (!got || *got > *c.zk_leader_within_after_heal) {
      violations_.push_back(fmt::format(
          "no ZooKeeper leader within {} after the last fault healed (at {}){}",
          ms(*c.zk_leader_within_after_heal), sim::format_time(*last_heal_),
          got ? fmt::format(": took {}", ms(*got)) : none_by_end(*c.zk_leader_within_after_heal)));
    }
  }
}

}  // namespace checks
