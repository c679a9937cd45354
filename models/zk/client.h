// The ZooKeeper C client (zookeeper.c, 3.5+ and optionally 3.4), as a component of its owner
// process.
//
// Theory of operation. The real client has an IO thread that loops: zookeeper_interest() computes
// what to wait for and for how long, poll() sleeps, zookeeper_process() handles what arrived. The
// model keeps exactly those decision points (ZK-SEMANTICS.md §6):
//   - `io_wake()` is zookeeper_interest: the dead-connection rule (no byte received for
//     2/3·recv_timeout, also while CONNECTING/ASSOCIATING since last_recv is reset when a connect
//     starts), the ping rule (idle send >= recv_timeout/3 and nothing outstanding), the
//     reconnect step and the "Delaying connection after exhaustively trying all servers" back-off
//     of recv_timeout/60.
//   - The poll timeout is computed in whole milliseconds from truncated idle times, as the C code
//     does, and the thread wakes a little after the deadline (scheduler and timer slack, drawn
//     from `io_wake_latency`). That is where the "exceeded timeout by Nms" of the logs comes from.
//   - Every socket event wakes the loop (poll returns), is handled, and the interest is computed
//     again.
//   - On every socket error handle_error() runs: session event CONNECTING if we were CONNECTED,
//     outstanding requests completed with the error code (-7 after a timeout, -4 after a socket
//     error), then the server cursor advances. With ZOOKEEPER-2466 (3.5-3.9) the cursor advances
//     twice per failure (handle_error and zoo_cycle_next_server), so a failure skips a server and
//     the delay only fires when a failure lands exactly at the end of the list.
//     With an even number of servers the end is never hit: when every connect fails at once (the
//     client's own interface is down) the real IO thread spins, a connect() and an ERROR line every
//     few microseconds. The model notices a loop that goes round more than twice the server list
//     at one instant and makes it wait a millisecond after each such burst (a `client.spin` record
//     marks it; the simulated log has fewer "connect() call failed" lines than a real one).
//   - EXPIRED is learnt only when a server answers a reconnect with session id 0; the C client has
//     no session timer of its own.
// Session events, completions and watches go through the completion thread: they reach the owner
// a little later (`completion_latency`), in FIFO order.
//
// The client is not a process: it uses the owner's timers and connections, so the owner's pauses
// and crashes apply to it (a paused owner's IO loop wakes late and logs a large "exceeded").
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/zk/proto.h"
#include "sim/process.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace zk {

// C client states (zk_adaptor.h).
inline constexpr int EXPIRED_SESSION_STATE = -112;
inline constexpr int AUTH_FAILED_STATE = -113;
inline constexpr int CONNECTING_STATE = 1;
inline constexpr int ASSOCIATING_STATE = 2;
inline constexpr int CONNECTED_STATE = 3;
inline constexpr int NOTCONNECTED_STATE = 999;
inline constexpr int CLOSED_STATE = 0;  // after zookeeper_close (model-only name)
const char* state_name(int state);      // "CONNECTED_STATE"

inline constexpr int32_t kPingXid = -2;

struct ServerAddr {
  std::string host;  // a sim host name
  uint16_t port = kClientPort;
};

struct ClientConfig {
  // Requested session timeout (zookeeper_init's recv_timeout); replaced by the negotiated one.
  sim::Duration session_timeout = sim::Duration::s(6);
  bool zookeeper_2466_double_advance = true;  // 3.5-3.9 cursor bug; false = the PR #2440 fix
  bool old_34_client = false;                 // 3.4.x: single advance, no "Delaying", 44 bytes
  bool deterministic_conn_order = false;      // zoo_deterministic_conn_order(1): no shuffle
  // How late the IO thread wakes after a poll deadline, in seconds (clamped to >= 0).
  sim::Dist io_wake_latency = default_wake_latency();
  // IO thread -> completion thread hand-off, seconds.
  sim::Dist completion_latency = sim::Dist::uniform(60e-6, 240e-6);
  // For log lines: the process id and the IO thread's pthread handle.
  int pid = 1000;
  uint64_t io_thread_handle = 0x7f5955d6b700ULL;

  static sim::Dist default_wake_latency() {
    // poll() returns ~50 us after its deadline (hrtimer slack) plus the scheduling delay of a busy
    // meta server host: the seeds' "exceeded timeout by 1ms / 2ms" say about a millisecond.
    sim::Dist d = sim::Dist::lognormal_median_p99(0.9e-3, 3e-3);
    d.lo = 50e-6;
    d.hi = 20e-3;
    return d;
  }
};

enum class ZooLogLevel { Error, Warn, Info, Debug };

struct ClientCallbacks {
  // Session events (watcher type ZOO_SESSION_EVENT): the new state.
  std::function<void(int state)> on_session;
  std::function<void(const WatchEvent& ev)> on_watch;
  // One C-client log line: level, function and line of the call site, and the complete line in
  // the C client's format ("2025-07-20 00:02:04,948:5095(0x7f..):ZOO_ERROR@func@line: msg").
  // Only called when the sim's text logs are enabled.
  std::function<void(ZooLogLevel, std::string_view func, int line, const std::string& text)> on_log;
};

class Client : public ClientApi {
 public:
  using CreateCb = std::function<void(int rc, const std::string& path)>;
  using ChildrenCb = std::function<void(int rc, const std::vector<std::string>& children)>;
  using ExistsCb = std::function<void(int rc, bool exists)>;  // rc ZOK (exists) or ZNONODE
  using VoidCb = std::function<void(int rc)>;

  // Trace records (client.state) are emitted on the owner's process name.
  Client(sim::Process& owner, ClientConfig cfg, std::vector<ServerAddr> servers, sim::Rng rng,
         ClientCallbacks cb);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // zookeeper_init: the IO thread starts and connects.
  void start();
  // zookeeper_close: a CloseSession is sent if connected; nothing is called back afterwards.
  void close();

  int state() const { return state_; }
  int64_t session_id() const { return session_id_; }
  sim::Duration recv_timeout() const { return recv_timeout_; }
  // "host:port" of the current (or last tried) server.
  std::string current_server() const;
  // The server order after the shuffle.
  std::vector<std::string> server_order() const;
  size_t outstanding() const { return pending_.size(); }
  uint64_t connects_initiated() const { return connects_; }
  uint64_t pings_sent() const { return pings_; }

  // Asynchronous operations (zoo_acreate, zoo_aget_children, zoo_aexists, zoo_adelete). The
  // completion runs on the owner later; after zookeeper_close it never runs.
  void acreate(const std::string& path, bool ephemeral, bool sequential, CreateCb cb);
  void aget_children(const std::string& path, bool watch, ChildrenCb cb);
  void aexists(const std::string& path, bool watch, ExistsCb cb);
  void adelete(const std::string& path, VoidCb cb);

  // ClientApi (called by the server through the connection).
  void on_connect_response(sim::ConnId conn, const ConnectResponse& resp) override;
  void on_reply(sim::ConnId conn, const Reply& reply) override;
  void on_watch(sim::ConnId conn, const WatchEvent& ev) override;

 private:
  struct Pending {
    Request req;
    CreateCb create;
    ChildrenCb children;
    ExistsCb exists;
    VoidCb done;
    bool sent = false;
  };

  void io_wake();
  void arm_poll(int64_t timeout_ms);
  void initiate_connect();
  void drop_conn();
  void on_connect_result(sim::ConnId c, sim::NetError e);
  void on_conn_closed(sim::ConnId c, sim::NetError e);
  void handle_error(int rc, int err, std::string_view msg, int line);
  void submit(Pending p);
  void send_request(int32_t xid);
  void send_ping();
  void complete(Pending p, int rc, const Reply* reply);
  void set_state(int to);
  void post(std::function<void()> fn);  // via the completion thread
  void log(ZooLogLevel level, std::string_view func, int line, const std::string& msg);
  // Whether log() writes anything: callers test it before formatting a message (campaigns run
  // without logs, and a client retrying a dead server formats an error per attempt).
  bool logging() const;
  std::string endpoint(size_t i) const;
  // addrvec_next / addrvec_atend
  bool atend() const { return next_ >= addrs_.size(); }
  void advance();
  bool connected() const { return state_ == CONNECTED_STATE; }

  sim::Process& owner_;
  ClientConfig cfg_;
  std::vector<ServerAddr> configured_;
  std::vector<ServerAddr> addrs_;  // shuffled
  sim::Rng rng_;
  ClientCallbacks cb_;
  std::shared_ptr<bool> alive_;
  sim::Timer io_timer_;

  int state_ = NOTCONNECTED_STATE;
  bool started_ = false;
  bool closed_ = false;
  sim::Duration recv_timeout_;
  int64_t session_id_ = 0;
  int64_t last_zxid_ = 0;

  size_t next_ = 0;  // addrvec's next index
  size_t cur_ = 0;   // addr_cur
  bool have_cur_ = false;
  bool delay_ = false;
  bool delaying_ = false;  // the IO thread is sleeping out the "Delaying connection" poll
  // Socket errors handled at one instant (spin_at_): connects that fail at once, with no delay
  // taken, loop without simulated time passing (see handle_error).
  sim::Time spin_at_;
  size_t spin_errors_ = 0;
  bool spinning_ = false;  // the spin record was emitted and no connect has got through since

  std::optional<sim::ConnId> conn_;
  uint64_t conn_inc_ = 0;
  sim::ProcId server_proc_ = 0;
  // server_proc_'s ZooKeeper API, found once per connection (not a dynamic_cast per ping).
  ServerApi* server_api_ = nullptr;
  bool ping_outstanding_ = false;
  sim::Time last_recv_;
  sim::Time last_send_;
  sim::Time next_deadline_;
  bool have_deadline_ = false;

  int32_t next_xid_ = 1;
  std::map<int32_t, Pending> pending_;  // ordered by xid: sent in submission order
  sim::Time completion_free_at_;

  uint64_t connects_ = 0;
  uint64_t pings_ = 0;
};

}  // namespace zk
