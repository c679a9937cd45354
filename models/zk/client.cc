#include "models/zk/client.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/check.h"
#include "sim/sim.h"
#include "sim/trace.h"

namespace zk {
namespace {

// Rare paths that decide outcomes (sim/probe.h): a campaign reports the ones it never reached.
// The C client hears nothing for 2/3 of the session timeout and drops its server.
const sim::ProbeSite kProbeRecvTimeout{"client.recv_timeout"};
// A connect fails at once: the client's own interface is down.
const sim::ProbeSite kProbeConnectNetUnreachable{"client.connect.net_unreachable"};
// A connect to a server is refused, rejected or times out (the client moves on).
const sim::ProbeSite kProbeConnectRefused{"client.connect.refused_or_timed_out"};
// An established connection is closed or reset by the server side.
const sim::ProbeSite kProbeServerClosed{"client.connection_closed"};
// The IO loop spins: connects fail at once and the cursor never takes the delay (ZOOKEEPER-2466
// with an even number of servers and the client's own interface down).
const sim::ProbeSite kProbeSpin{"client.connect.spin"};

// Line numbers of the call sites as the 3.9-based client of the 2025 seed prints them
// (handle_socket_error_msg logs the caller's __LINE__). Those not seen in a seed are placeholders
// near the real ones.
constexpr int kLineTimeout = 2522;      // zookeeper_interest: dead-connection rule (seed)
constexpr int kLineDelaying = 2449;     // zookeeper_interest: "Delaying connection" (seed)
constexpr int kLineExceeded = 2436;     // zookeeper_interest: "Exceeded deadline"
constexpr int kLineConnectFail = 2482;  // zookeeper_interest: connect() failed at once
constexpr int kLineInitiated = 2629;    // check_events: "initiated connection" (seed)
constexpr int kLineRefused = 2621;      // check_events: SO_ERROR after the async connect
constexpr int kLineRecvFail = 2647;     // check_events: recv failed / EOF (seed)
constexpr int kLineExpired = 2693;      // check_events: session id changed
constexpr int kLineEstablished = 2878;  // finalize_session_establishment

const char* strerror_linux(int e) {
  switch (e) {
    case 101:
      return "Network is unreachable";
    case 104:
      return "Connection reset by peer";
    case 110:
      return "Connection timed out";
    case 111:
      return "Connection refused";
    case 112:
      return "Host is down";
    case 113:
      return "No route to host";
    case 116:
      return "Stale file handle";
    default:
      return "Unknown error";
  }
}

// calculate_interval() of zookeeper.c on gettimeofday() values: whole seconds times 1000 plus the
// microsecond difference divided by 1000 (C division truncates toward zero, so this is not simply
// the truncated difference).
int64_t calculate_interval(int64_t start_us, int64_t end_us) {
  int64_t s0 = start_us / 1000000, u0 = start_us % 1000000;
  int64_t s1 = end_us / 1000000, u1 = end_us % 1000000;
  return (s1 - s0) * 1000 + (u1 - u0) / 1000;
}

sim::Duration sample(const sim::Dist& d, sim::Rng& rng) {
  double s = std::max(0.0, d.sample(rng));
  return sim::Duration::ns(static_cast<int64_t>(s * 1e9));
}

}  // namespace

const char* state_name(int state) {
  switch (state) {
    case EXPIRED_SESSION_STATE:
      return "EXPIRED_SESSION_STATE";
    case AUTH_FAILED_STATE:
      return "AUTH_FAILED_STATE";
    case CONNECTING_STATE:
      return "CONNECTING_STATE";
    case ASSOCIATING_STATE:
      return "ASSOCIATING_STATE";
    case CONNECTED_STATE:
      return "CONNECTED_STATE";
    case NOTCONNECTED_STATE:
      return "NOTCONNECTED_STATE";
    case CLOSED_STATE:
      return "CLOSED_STATE";
    default:
      return "INVALID_STATE";
  }
}

Client::Client(sim::Process& owner, ClientConfig cfg, std::vector<ServerAddr> servers, sim::Rng rng,
               ClientCallbacks cb)
    : owner_(owner),
      cfg_(std::move(cfg)),
      configured_(std::move(servers)),
      rng_(std::move(rng)),
      cb_(std::move(cb)),
      alive_(std::make_shared<bool>(true)),
      io_timer_(owner),
      recv_timeout_(cfg_.session_timeout) {
  SIM_CHECK(!configured_.empty(), "zk client of {} needs at least one server", owner_.name());
  SIM_CHECK(recv_timeout_ > sim::Duration::zero(), "session timeout must be positive");
  addrs_ = configured_;
  // addrvec_shuffle (resolve_hosts): Fisher-Yates on the resolved list, unless deterministic.
  if (!cfg_.deterministic_conn_order) {
    for (size_t i = addrs_.size() - 1; i > 0; --i) {
      size_t j = static_cast<size_t>(rng_.below(i + 1));
      std::swap(addrs_[i], addrs_[j]);
    }
  }
}

Client::~Client() {
  *alive_ = false;
  io_timer_.cancel();
  drop_conn();
}

void Client::drop_conn() {
  // After a crash of the owner the network has already closed our side; closing again would
  // address the peer's side (the side is found by incarnation).
  if (conn_ && owner_.alive() && owner_.incarnation() == conn_inc_) {
    owner_.sim().net.close(*conn_, owner_);
  }
  conn_.reset();
}

std::string Client::endpoint(size_t i) const {
  const ServerAddr& a = addrs_[i];
  sim::HostId h = owner_.sim().net.find_host(a.host);
  std::string addr = h == sim::kNoHost ? a.host : owner_.sim().net.host_address(h);
  return fmt::format("{}:{}", addr, a.port);
}

std::string Client::current_server() const {
  return have_cur_ ? endpoint(cur_) : std::string();
}

std::vector<std::string> Client::server_order() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < addrs_.size(); ++i) out.push_back(endpoint(i));
  return out;
}

void Client::advance() {
  // addrvec_next: wrap to the start when at the end, then take `next` and step past it.
  if (atend()) next_ = 0;
  cur_ = next_++;
  have_cur_ = true;
}

void Client::set_state(int to) {
  if (to == state_) return;
  int from = state_;
  state_ = to;
  sim::Rec(owner_.sim().trace, owner_.now(), "client.state", owner_.name())
      .f("from", state_name(from))
      .f("to", state_name(to))
      .f("server", current_server())
      .f("session", session_id_)
      .set("zk-client", state_name(to))
      .emit();
}

void Client::post(std::function<void()> fn) {
  // The completion thread handles events in order; each hand-off takes a little time.
  sim::Time at = owner_.now() + sample(cfg_.completion_latency, rng_);
  if (at < completion_free_at_) at = completion_free_at_;
  completion_free_at_ = at;
  std::weak_ptr<bool> alive = alive_;
  sim::Process* owner = &owner_;
  uint64_t inc = owner_.incarnation();
  owner_.sim().engine.at(at, [alive, owner, inc, fn = std::move(fn)]() mutable {
    if (alive.expired() || owner->incarnation() != inc) return;
    owner->deliver([alive, fn = std::move(fn)] {
      if (auto a = alive.lock(); a && *a) fn();
    });
  });
}

bool Client::logging() const {
  return cb_.on_log && owner_.sim().logs.enabled();
}

void Client::log(ZooLogLevel level, std::string_view func, int line, const std::string& msg) {
  if (!logging()) return;
  static constexpr const char* kNames[] = {"ZOO_ERROR", "ZOO_WARN", "ZOO_INFO", "ZOO_DEBUG"};
  sim::CivilTime c = sim::civil_from_ns(owner_.sim().logs.local_ns(owner_.now()));
  std::string text = fmt::format(
      "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d},{:03d}:{}(0x{:x}):{}@{}@{}: {}", c.year, c.month,
      c.day, c.hour, c.minute, c.second, static_cast<int>(c.nanos / 1000000), cfg_.pid,
      cfg_.io_thread_handle, kNames[static_cast<int>(level)], func, line, msg);
  cb_.on_log(level, func, line, text);
}

void Client::start() {
  if (started_) return;
  started_ = true;
  io_wake();
}

void Client::close() {
  if (closed_) return;
  if (conn_ && connected()) {
    Request req;
    req.xid = next_xid_++;
    req.op = Op::CloseSession;
    sim::ConnId c = *conn_;
    ServerApi* srv = server_api_;
    if (srv != nullptr) {
      owner_.sim().net.send(
          c, owner_, [srv, c, req] { srv->on_request(c, req); }, "CloseSession");
    }
  }
  closed_ = true;
  io_timer_.cancel();
  drop_conn();
  pending_.clear();  // zookeeper_close completes them with ZCLOSING; the owner is gone anyway
  set_state(CLOSED_STATE);
  *alive_ = false;
}

// zookeeper_interest(): the heart of the IO loop.
void Client::io_wake() {
  if (closed_ || state_ == EXPIRED_SESSION_STATE) return;
  delaying_ = false;
  const sim::Time now = owner_.now();
  const int64_t rt = recv_timeout_.to_ms();
  const int64_t epoch_us = owner_.sim().logs.wall_epoch_ns / 1000;
  auto wall_us = [&](sim::Time t) { return epoch_us + t.ns() / 1000; };
  if (have_deadline_) {
    int64_t late = calculate_interval(wall_us(next_deadline_), wall_us(now));
    int64_t max_exceed = std::min<int64_t>(rt / 10, 200);
    if (late > max_exceed && logging()) {
      log(ZooLogLevel::Warn, "zookeeper_interest", kLineExceeded,
          fmt::format("Exceeded deadline by {}ms", late));
    }
  }
  if (!conn_) {
    if (cfg_.old_34_client) {
      // 3.4: after the last server, reset the index and sleep one recv_timeout/3 poll.
      if (next_ >= addrs_.size()) {
        next_ = 0;
        arm_poll(rt / 3);
        return;
      }
      cur_ = next_;
      have_cur_ = true;
    } else {
      if (delay_) {
        delay_ = false;
        if (logging()) {
          std::string hosts;
          for (const auto& a : configured_) {
            sim::HostId h = owner_.sim().net.find_host(a.host);
            if (!hosts.empty()) hosts += ",";
            hosts += fmt::format(
                "{}:{}", h == sim::kNoHost ? a.host : owner_.sim().net.host_address(h), a.port);
          }
          log(ZooLogLevel::Warn, "zookeeper_interest", kLineDelaying,
              fmt::format("Delaying connection after exhaustively trying all servers [{}]", hosts));
        }
        delaying_ = true;
        spinning_ = false;
        arm_poll(rt / 60);
        return;
      }
      advance();  // zoo_cycle_next_server: the second advance of ZOOKEEPER-2466
    }
    initiate_connect();
    if (!conn_) return;
  }
  int64_t idle_recv = calculate_interval(wall_us(last_recv_), wall_us(now));
  int64_t idle_send = calculate_interval(wall_us(last_send_), wall_us(now));
  int64_t recv_to = rt * 2 / 3 - idle_recv;
  int64_t send_to = rt / 3;
  if (recv_to <= 0) {
    // errno = ETIMEDOUT; handle_socket_error_msg(ZOPERATIONTIMEOUT, ...)
    owner_.sim().probes.hit(kProbeRecvTimeout);
    handle_error(ZOPERATIONTIMEOUT, 110,
                 fmt::format("connection to {} timed out (exceeded timeout by {}ms)",
                             current_server(), -recv_to),
                 kLineTimeout);
    return;
  }
  if (connected()) {
    send_to = rt / 3 - idle_send;
    if (send_to <= 0) {
      if (pending_.empty() && !ping_outstanding_) send_ping();
      send_to = rt / 3;
    }
  }
  arm_poll(std::min(recv_to, send_to));
}

void Client::arm_poll(int64_t timeout_ms) {
  const sim::Time now = owner_.now();
  next_deadline_ = now + sim::Duration::ms(timeout_ms);
  have_deadline_ = true;
  std::weak_ptr<bool> alive = alive_;
  io_timer_.arm_at(next_deadline_ + sample(cfg_.io_wake_latency, rng_), [this, alive] {
    if (auto a = alive.lock(); a && *a) io_wake();
  });
}

void Client::initiate_connect() {
  sim::Sim& sim = owner_.sim();
  const ServerAddr& a = addrs_[cur_];
  sim::HostId host = sim.net.find_host(a.host);
  SIM_CHECK(host != sim::kNoHost, "zk client of {}: unknown server host {}", owner_.name(), a.host);
  ++connects_;
  last_recv_ = owner_.now();  // the dead-connection rule also covers the connect and handshake
  ping_outstanding_ = false;
  set_state(CONNECTING_STATE);
  std::weak_ptr<bool> alive = alive_;
  sim::ConnId c =
      sim.net.connect(owner_, host, a.port, [this, alive](sim::ConnId c, sim::NetError e) {
        if (auto p = alive.lock(); p && *p) on_connect_result(c, e);
      });
  conn_ = c;
  conn_inc_ = owner_.incarnation();
}

void Client::on_connect_result(sim::ConnId c, sim::NetError e) {
  if (!conn_ || *conn_ != c || closed_) return;
  using sim::NetError;
  if (e != NetError::Ok) {
    owner_.sim().probes.hit(e == NetError::NetUnreachable ? kProbeConnectNetUnreachable
                                                          : kProbeConnectRefused);
    switch (e) {
      case NetError::NetUnreachable:
        // connect() fails at once when our own interface is down.
        handle_error(ZCONNECTIONLOSS, 101, "connect() call failed", kLineConnectFail);
        break;
      case NetError::HostUnreachable:
        handle_error(ZCONNECTIONLOSS, 113, "server refused to accept the client", kLineRefused);
        break;
      case NetError::TimedOut:
        handle_error(ZCONNECTIONLOSS, 110, "server refused to accept the client", kLineRefused);
        break;
      default:
        handle_error(ZCONNECTIONLOSS, 111, "server refused to accept the client", kLineRefused);
        break;
    }
    return;
  }
  spinning_ = false;
  sim::Sim& sim = owner_.sim();
  server_proc_ = sim.net.peer(c, owner_);
  std::weak_ptr<bool> alive = alive_;
  sim.net.on_close(c, owner_, [this, alive, c](sim::NetError err) {
    if (auto p = alive.lock(); p && *p) on_conn_closed(c, err);
  });
  ServerApi* srv = nullptr;
  if (auto* h = dynamic_cast<ApiHolder*>(sim.process(server_proc_))) srv = h->server_api();
  server_api_ = srv;
  SIM_CHECK(srv != nullptr, "process {} on {} does not speak the ZooKeeper protocol",
            sim.process(server_proc_)->name(), current_server());
  // prime_connection: the ConnectRequest, then ASSOCIATING.
  ConnectRequest req;
  req.session_id = session_id_;
  req.timeout = recv_timeout_;
  req.last_zxid_seen = last_zxid_;
  req.has_readonly_byte = !cfg_.old_34_client;
  sim::ProcId me = owner_.id();
  sim.net.send(
      c, owner_, [srv, c, me, req] { srv->on_connect_request(c, me, req); }, "ConnectRequest");
  last_send_ = owner_.now();
  set_state(ASSOCIATING_STATE);
  if (logging()) {
    log(ZooLogLevel::Info, "check_events", kLineInitiated,
        fmt::format("initiated connection to server [{}]", current_server()));
  }
  io_wake();
}

void Client::on_conn_closed(sim::ConnId c, sim::NetError e) {
  if (!conn_ || *conn_ != c || closed_) return;
  // recv() == 0 sets errno = EHOSTDOWN (ZK-SEMANTICS §6): "Host is down" on an orderly close.
  owner_.sim().probes.hit(kProbeServerClosed);
  int err = e == sim::NetError::Eof ? 112 : e == sim::NetError::Reset ? 104 : 110;
  handle_error(ZCONNECTIONLOSS, err, "failed while receiving a server response", kLineRecvFail);
}

void Client::handle_error(int rc, int err, std::string_view msg, int line) {
  // handle_socket_error_msg logs, then handle_error() cleans up.
  if (logging()) {
    log(ZooLogLevel::Error, "handle_socket_error_msg", line,
        fmt::format("Socket [{}] zk retcode={}, errno={}({}): {}", current_server(), rc, err,
                    strerror_linux(err), msg));
  }
  io_timer_.cancel();
  have_deadline_ = false;
  drop_conn();
  ping_outstanding_ = false;
  bool was_connected = connected();
  if (state_ == EXPIRED_SESSION_STATE) {
    int s = state_;
    post([this, s] {
      if (cb_.on_session) cb_.on_session(s);
    });
  } else {
    set_state(CONNECTING_STATE);
    if (was_connected) {
      post([this] {
        if (cb_.on_session) cb_.on_session(CONNECTING_STATE);
      });
    }
  }
  // free_completions: every outstanding request fails with the reason.
  auto pend = std::move(pending_);
  pending_.clear();
  for (auto& [xid, p] : pend) complete(std::move(p), rc, nullptr);
  if (state_ == EXPIRED_SESSION_STATE) return;
  if (cfg_.old_34_client) {
    ++next_;  // connect_index++
  } else {
    delay_ = atend();
    if (cfg_.zookeeper_2466_double_advance) {
      advance();
    } else if (atend()) {
      // The fix: wrap without skipping; the cycle step then takes the first server.
      next_ = 0;
    }
  }
  // The IO loop goes round again at once (zookeeper_process returned the error). A connect that
  // fails at once brings it back here at the same instant. Going round more than twice the server
  // list without the delay means the cursor never lands on the end (ZOOKEEPER-2466, an even
  // number of servers): the real thread spins, each round a few microseconds of syscalls and a
  // log line. Simulated time must pass: after such a burst the model waits a millisecond.
  const sim::Time now = owner_.now();
  if (now != spin_at_) {
    spin_at_ = now;
    spin_errors_ = 0;
  }
  if (++spin_errors_ > 2 * addrs_.size() + 2) {
    owner_.sim().probes.hit(kProbeSpin);
    if (!spinning_) {
      spinning_ = true;
      sim::Rec(owner_.sim().trace, now, "client.spin", owner_.name())
          .f("servers", static_cast<int64_t>(addrs_.size()))
          .f("errno", err)
          .emit();
    }
    arm_poll(1);
    return;
  }
  io_wake();
}

void Client::on_connect_response(sim::ConnId conn, const ConnectResponse& resp) {
  if (!conn_ || *conn_ != conn || closed_) return;
  last_recv_ = owner_.now();
  int64_t oldid = session_id_;
  int64_t newid = resp.session_id;
  if ((oldid != 0 && oldid != newid) || newid == 0) {
    set_state(EXPIRED_SESSION_STATE);
    handle_error(ZSESSIONEXPIRED, 116, fmt::format("sessionId={:#x} has expired.", oldid),
                 kLineExpired);
    return;
  }
  recv_timeout_ = resp.timeout;
  session_id_ = newid;
  set_state(CONNECTED_STATE);
  if (logging()) {
    log(ZooLogLevel::Info, "check_events", kLineEstablished,
        fmt::format("session establishment complete on server [{}], sessionId={:#x}, negotiated "
                    "timeout={}",
                    current_server(), newid, recv_timeout_.to_ms()));
  }
  post([this] {
    if (cb_.on_session) cb_.on_session(CONNECTED_STATE);
  });
  for (auto& [xid, p] : pending_) {
    if (!p.sent) send_request(xid);
  }
  io_wake();
}

void Client::on_reply(sim::ConnId conn, const Reply& reply) {
  if (!conn_ || *conn_ != conn || closed_) return;
  last_recv_ = owner_.now();
  if (reply.zxid > last_zxid_) last_zxid_ = reply.zxid;
  if (reply.xid == kPingXid) {
    ping_outstanding_ = false;
  } else if (auto it = pending_.find(reply.xid); it != pending_.end()) {
    Pending p = std::move(it->second);
    pending_.erase(it);
    complete(std::move(p), reply.rc, &reply);
  }
  io_wake();
}

void Client::on_watch(sim::ConnId conn, const WatchEvent& ev) {
  if (!conn_ || *conn_ != conn || closed_) return;
  last_recv_ = owner_.now();
  post([this, ev] {
    if (cb_.on_watch) cb_.on_watch(ev);
  });
  io_wake();
}

void Client::complete(Pending p, int rc, const Reply* reply) {
  Reply r;
  if (reply != nullptr) r = *reply;
  post([p = std::move(p), rc, r] {
    switch (p.req.op) {
      case Op::Create:
        if (p.create) p.create(rc, r.path);
        break;
      case Op::GetChildren:
        if (p.children) p.children(rc, r.children);
        break;
      case Op::Exists:
        if (p.exists) p.exists(rc, rc == ZOK && r.exists);
        break;
      default:
        if (p.done) p.done(rc);
        break;
    }
  });
}

void Client::submit(Pending p) {
  if (closed_ || state_ == EXPIRED_SESSION_STATE) {
    // Unrecoverable handle: the call fails (ZINVALIDSTATE); report it through the completion.
    complete(std::move(p), ZINVALIDSTATE, nullptr);
    return;
  }
  int32_t xid = next_xid_++;
  p.req.xid = xid;
  pending_.emplace(xid, std::move(p));
  if (connected()) {
    send_request(xid);
  } else if (delaying_ && started_) {
    // adaptor_send_queue wakes the IO thread: the "Delaying connection" poll ends early.
    io_timer_.cancel();
    io_wake();
  }
}

void Client::send_request(int32_t xid) {
  auto it = pending_.find(xid);
  SIM_CHECK(it != pending_.end() && conn_.has_value(), "send of unknown xid {}", xid);
  it->second.sent = true;
  sim::ConnId c = *conn_;
  ServerApi* srv = server_api_;
  Request req = it->second.req;
  owner_.sim().net.send(
      c, owner_, [srv, c, req] { srv->on_request(c, req); }, "Request");
  last_send_ = owner_.now();
}

void Client::send_ping() {
  Request req;
  req.xid = kPingXid;
  req.op = Op::Ping;
  sim::ConnId c = *conn_;
  ServerApi* srv = server_api_;
  owner_.sim().net.send(
      c, owner_, [srv, c, req] { srv->on_request(c, req); }, "Ping");
  last_send_ = owner_.now();
  ping_outstanding_ = true;
  ++pings_;
}

void Client::acreate(const std::string& path, bool ephemeral, bool sequential, CreateCb cb) {
  Pending p;
  p.req.op = Op::Create;
  p.req.path = path;
  p.req.ephemeral = ephemeral;
  p.req.sequential = sequential;
  p.create = std::move(cb);
  submit(std::move(p));
}

void Client::aget_children(const std::string& path, bool watch, ChildrenCb cb) {
  Pending p;
  p.req.op = Op::GetChildren;
  p.req.path = path;
  p.req.watch = watch;
  p.children = std::move(cb);
  submit(std::move(p));
}

void Client::aexists(const std::string& path, bool watch, ExistsCb cb) {
  Pending p;
  p.req.op = Op::Exists;
  p.req.path = path;
  p.req.watch = watch;
  p.exists = std::move(cb);
  submit(std::move(p));
}

void Client::adelete(const std::string& path, VoidCb cb) {
  Pending p;
  p.req.op = Op::Delete;
  p.req.path = path;
  p.done = std::move(cb);
  submit(std::move(p));
}

}  // namespace zk
