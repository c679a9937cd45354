// The readable summary of a timeline (what an engineer would otherwise assemble with rg/sort/uniq)
// and the JSON writer of the timeline file.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tools/ingest/timeline.h"

namespace zksim::ingest {

// One stretch of leadership: a ZooKeeper peer in state leading, or a meta that said
// "[ROLE CHANGE] I am the leader now" until it lost its session, stopped or restarted.
struct LeaderInterval {
  std::string peer;  // host, or "myid N" when the host is unknown
  std::string host;
  int myid = -1;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::string end_reason;  // "state looking", "quorum_cluster Expired", "log_end", ...
  std::uint32_t file = 0;  // where it started
  std::uint64_t line = 0;
};

// A window with an abnormal number of leaders (0, or 2 and more).
struct LeaderWindow {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  int leaders = 0;
  std::vector<std::string> who;  // the peers leading during the window
};

struct Summary {
  using Counts = std::array<std::uint64_t, kEventTypeCount>;
  // Key-event counts per host (or "myid N") and local day ("2025-07-20").
  std::map<std::string, std::map<std::string, Counts>> per_host_day;
  Counts totals{};
  std::vector<LeaderInterval> zk_leaders;
  std::vector<LeaderInterval> meta_leaders;
  std::vector<LeaderWindow> no_zk_leader;           // gaps with no ZooKeeper peer leading
  std::vector<LeaderWindow> zk_multi_leader;        // two peers claiming leadership at once
  std::vector<LeaderWindow> meta_windows;           // 0 or >= 2 meta leaders
  std::int64_t zk_span_start = 0, zk_span_end = 0;  // observed ZooKeeper span (0 = none)
  std::int64_t meta_span_start = 0, meta_span_end = 0;
};

// offset_s: the display time zone (days and times in the summary are local).
Summary summarize(const Timeline& tl, int offset_s);
std::string render_summary(const Timeline& tl, const Summary& s, int offset_s);
// Writes the timeline JSON (schema "zksim.timeline/1", docs/ingest.md), one event per line.
void write_timeline_json(std::ostream& os, const Timeline& tl, const Summary& s);

}  // namespace zksim::ingest
