// The replicated state of a ZooKeeper server, reduced to what leader election through ephemeral
// sequential znodes needs: znodes (persistent and ephemeral, with the parent's child-creation
// counter for sequence suffixes), the session table (sessionsWithTimeouts) and the last applied
// zxid. Transactions are applied in zxid order on every server; applying returns the watch
// triggers that server must fire.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/zk/proto.h"
#include "sim/network.h"
#include "sim/time.h"

namespace zk {

inline int64_t make_zxid(int64_t epoch, int64_t counter) {
  return (epoch << 32) | counter;
}
inline int64_t zxid_epoch(int64_t zxid) {
  return zxid >> 32;
}
std::string hex(int64_t v);  // "0x1f" (ZooKeeper's Long.toHexString with 0x)

enum class TxnKind : uint8_t { CreateSession, CloseSession, Create, Delete, Noop };

struct Txn {
  int64_t zxid = 0;
  TxnKind kind = TxnKind::Noop;
  int64_t session = 0;
  sim::Duration timeout;  // CreateSession
  std::string path;       // Create (final path, sequence suffix resolved) / Delete
  bool ephemeral = false;
  bool expired = false;  // CloseSession issued by the session tracker (expiry)
  // Where the request came from, so that the server holding the client can answer on commit.
  int origin_sid = 0;
  sim::ConnId origin_conn = 0;
  int32_t xid = 0;
  Op op = Op::Ping;
};

struct WatchTrigger {
  WatchType type;
  std::string path;
  bool child;  // fires child watches (true) or data/exists watches (false)
};

struct Znode {
  int64_t owner = 0;     // ephemeral owner session, 0 = persistent
  int64_t cversion = 0;  // child creations ever (sequence suffix source), never decremented
  std::set<std::string> children;
};

class DataTree {
 public:
  DataTree();
  int64_t last_zxid = 0;
  std::map<std::string, Znode> nodes;
  std::map<int64_t, sim::Duration> sessions;
  std::map<int64_t, std::set<std::string>> ephemerals;

  // Validation used by the leader's request preparation; returns ZOK or the error code.
  int check_create(const std::string& path, int64_t session, bool ephemeral) const;
  int check_delete(const std::string& path) const;
  // The path a create gets (sequence suffix "%010d" of the parent's cversion).
  std::string resolve_create_path(const std::string& path, bool sequential) const;
  // Applies a committed transaction. Returns the watch triggers; `deleted` collects the paths
  // removed (for the trace).
  std::vector<WatchTrigger> apply(const Txn& t, std::vector<std::string>* deleted = nullptr);
  static std::string parent_of(const std::string& path);
  static std::string name_of(const std::string& path);
};

}  // namespace zk
