// Network fault inference for `zksim replay` (internal to tools/replay): from the lines that show
// who stopped hearing whom (followers' read timeouts, the leader's LearnerHandler timeouts and its
// "only synced with sids" quorum loss, C-client read timeouts) and who still or again talks to
// whom (EOFs, synced sids, elections and the quorums that form, LOOKING peers whose notification
// time-outs fire in lockstep, sessions established), infer the partition with the fewest groups
// consistent with the evidence, or one-way link cuts when one direction demonstrably still worked,
// or an interface down when the isolated host's own connects failed with ENETUNREACH.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tools/ingest/timeline.h"
#include "tools/replay/replay.h"

namespace zksim::replay::detail {

std::string zk_node(const ingest::Event& e);  // "zk:3"
std::string where(const ingest::Timeline& tl, const ingest::Event& e);
nlohmann::json evidence(const ingest::Timeline& tl, const ingest::Event& e, std::string what);
nlohmann::json evidence(const KeyEvent& k, std::string what);

struct NetContext {
  const ingest::Timeline* tl = nullptr;
  const std::vector<KeyEvent>* keys = nullptr;
  int64_t tick = 0, sync_to = 0, session = 0, epoch = 0;
  std::vector<std::string> hosts;                // every host of the scenario (partition groups)
  std::map<std::string, std::string> node_host;  // "zk:3" -> host name
  std::map<std::string, std::string> addr_host;  // address or host name -> host name
  int voters = 0;                                // ZooKeeper peers (quorum = voters / 2 + 1)
  // "10.10.10.153:2181", "/node1:40036", "node2" -> the scenario's host name ("" if unknown).
  std::string resolve(std::string addr) const;
  std::string host_of(const std::string& node) const;  // "zk:3" -> host, "" if unknown
};

struct NetEpisode {
  std::vector<InferredFault> faults;  // partition, cut(s) or ifdown; empty when nothing fits
  int64_t heal_upper_ns = INT64_MAX;  // the first line showing the groups talk again (UTC ns)
};

// The followers in `group` (exceptions within 200 ms of each other) lost leader `leader` while the
// leader went on logging: a network fault. Marks the raw events it explains in `used`.
NetEpisode infer_network_episode(const NetContext& c, const std::string& leader,
                                 const std::vector<const ingest::Event*>& group,
                                 std::set<const ingest::Event*>& used);

}  // namespace zksim::replay::detail
