// Checkers and metrics, outside the models (STYLE.md §8): they observe every trace record.
//
// Continuous-time metrics: a meta leader is a meta that believes it leads and serves (its
// `meta.leader` records). ZooKeeper is available while some peer is LEADING in broadcast, is not
// paused or crashed, and has a quorum (itself included) of running peers FOLLOWING it in broadcast
// in the same epoch: a paused leader whose followers have not noticed yet serves nobody. From
// the number of leaders over time we get dual-leader windows (>= 2) and unavailability windows
// (0, counted only once a first leader has existed). ZooKeeper safety is asserted: never two
// peers in broadcast as leaders of the same epoch.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/scenario/scenario.h"
#include "models/zbs/metrics.h"
#include "sim/trace.h"

namespace checks {

using Window = zbs::Window;
using WindowStats = zbs::WindowStats;

struct Metrics {
  WindowStats meta_dual, meta_unavailable, zk_unavailable, zk_dual;
  int64_t meta_leader_changes = 0;
  int64_t zk_elections = 0;
  int64_t zk_follower_exceptions = 0;
  int64_t zk_session_expirations = 0;
  int64_t meta_failovers =
      0;  // meta stops (local timer or expiry) that were followed by a new leader
  int64_t gc_pauses = 0;
  std::optional<sim::Duration> meta_recovery_after_heal;  // last heal -> a meta leader serves
  std::optional<sim::Duration> zk_recovery_after_heal;
  std::vector<Window> meta_dual_windows, meta_gap_windows, zk_gap_windows;
  std::optional<sim::Time> first_meta_leader;
};

class Observer : public sim::Sink {
 public:
  explicit Observer(const scenario::Scenario& sc) : sc_(sc) {}
  void on_record(const sim::Record& r) override;
  void finish(sim::Time end) override;
  // Set by the world once faults are scheduled.
  void set_last_heal(sim::Time t) { last_heal_ = t; }
  const Metrics& metrics() const { return m_; }
  const std::vector<std::string>& violations() const { return violations_; }
  // Safety violations (ZooKeeper invariants) found so far; checked during the run.
  bool unsafe() const { return unsafe_; }

 private:
  const scenario::Scenario& sc_;
  std::vector<zbs::LeaderFlip> meta_flips_, zk_flips_;
  void update_zk(sim::Time t);
  // What the checks know of one node (process): run state for every node, ZooKeeper view for the
  // peers (`peer` once a zk.state record was seen). One ordered map: iteration in name order.
  struct NodeView {
    int pauses = 0;        // open GC / pause-fault pauses
    bool stopped = false;  // paused or crashed
    bool peer = false;
    bool leading_broadcast = false;    // LEADING in broadcast
    bool following_broadcast = false;  // FOLLOWING in broadcast
    bool serving = false;              // the serving ZooKeeper leader (as last flipped)
    int64_t leader = -1;
    int64_t myid = -1;
  };
  std::map<std::string, NodeView, std::less<>> nodes_;
  // The peers among nodes_, in name order (map nodes never move).
  std::vector<std::pair<const std::string*, NodeView*>> peers_;
  const NodeView* serving_ = nullptr;  // the peer whose `serving` is set (at most one), or null
  NodeView& view(const std::string& node);       // created on first use
  NodeView& peer_view(const std::string& node);  // view(), registered as a ZooKeeper peer
  const std::string* last_name_ = nullptr;       // view()'s last hit (map nodes never move)
  NodeView* last_view_ = nullptr;
  // Names of up to 7 bytes ("zk:3", which carry nearly every record the checks read: GC pauses)
  // packed into an integer with their length, for a lookup without string comparisons. Only a
  // cache in front of nodes_: lookups, never iteration.
  struct Short {
    uint64_t key;
    const std::string* name;
    NodeView* view;
  };
  std::vector<Short> short_;
  void pause_start(const std::string& node, sim::Time t);
  void pause_end(const std::string& node, sim::Time t);
  void set_stopped(const std::string& node, sim::Time t, bool crashed);  // crash / restart
  void on_zk_state(const sim::Record& r);
  std::map<int64_t, std::set<std::string>> leaders_by_epoch_;
  std::optional<sim::Time> last_heal_;
  Metrics m_;
  std::vector<std::string> violations_;
  bool unsafe_ = false;
};

}  // namespace checks
