// The ZooKeeper client <-> server protocol as the models exchange it.
//
// Messages travel on sim::Network connections as closures that call the receiver's interface:
// a client holds the server process as a `zk::ServerApi*` (found with sim.process(peer id) once
// connected) and the server holds the client as a `zk::ClientApi*`. Only what leader election
// through ephemeral sequential znodes needs is modelled: sessions, pings, create/delete,
// getChildren/exists with watches, and watch notifications.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/network.h"
#include "sim/time.h"

namespace zk {

inline constexpr uint16_t kClientPort = 2181;
inline constexpr uint16_t kQuorumPort = 2888;
inline constexpr uint16_t kElectionPort = 3888;

// Return codes (zookeeper.h).
enum Rc : int {
  ZOK = 0,
  ZCONNECTIONLOSS = -4,
  ZOPERATIONTIMEOUT = -7,
  ZINVALIDSTATE = -9,
  ZNONODE = -101,
  ZNODEEXISTS = -110,
  ZNOTEMPTY = -111,
  ZSESSIONEXPIRED = -112,
};

struct ConnectRequest {
  int64_t session_id = 0;  // 0 = new session; otherwise a reconnect (revalidation)
  sim::Duration timeout;   // requested session timeout
  int64_t last_zxid_seen = 0;
  bool has_readonly_byte = true;  // 3.5+ C client sends 45 bytes; 3.4 sends 44 ("old client")
};

struct ConnectResponse {
  int64_t session_id = 0;  // 0 with timeout 0 = invalid session (expired): the client goes EXPIRED
  sim::Duration timeout;   // negotiated
};

enum class Op : uint8_t { Ping, Create, Delete, GetChildren, Exists, CloseSession };

struct Request {
  int32_t xid = 0;
  Op op = Op::Ping;
  std::string path;
  bool ephemeral = false;
  bool sequential = false;
  bool watch = false;  // GetChildren: child watch; Exists: data watch (fires NodeDeleted/Created)
};

struct Reply {
  int32_t xid = 0;
  Op op = Op::Ping;
  int rc = ZOK;
  std::string path;                   // Create: the created path (with sequence suffix)
  std::vector<std::string> children;  // GetChildren: sorted names
  bool exists = false;                // Exists
  int64_t zxid = 0;
};

enum class WatchType : uint8_t { NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged };

struct WatchEvent {
  WatchType type;
  std::string path;
};

// Implemented by the ZooKeeper server (zk::Peer). Calls arrive on the server's process.
class ServerApi {
 public:
  virtual ~ServerApi() = default;
  virtual void on_connect_request(sim::ConnId conn, sim::ProcId client,
                                  const ConnectRequest& req) = 0;
  virtual void on_request(sim::ConnId conn, const Request& req) = 0;
};

// Implemented by the ZooKeeper client (zk::Client). Calls arrive on the client's process.
class ClientApi {
 public:
  virtual ~ClientApi() = default;
  virtual void on_connect_response(sim::ConnId conn, const ConnectResponse& resp) = 0;
  virtual void on_reply(sim::ConnId conn, const Reply& reply) = 0;
  virtual void on_watch(sim::ConnId conn, const WatchEvent& ev) = 0;
};

// Finds the API object of a process (every model process that speaks this protocol implements
// `ApiHolder`), so that a connection's peer id can be turned into something to call.
class ApiHolder {
 public:
  virtual ~ApiHolder() = default;
  virtual ServerApi* server_api() { return nullptr; }
  virtual ClientApi* client_api() { return nullptr; }
};

}  // namespace zk
