#include "models/zbs/meta.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/check.h"
#include "sim/sim.h"
#include "sim/textlog.h"
#include "sim/trace.h"

namespace zbs {
namespace {

// Rare paths that decide outcomes (sim/probe.h): a campaign reports the ones it never reached.
// A meta's client reconnects before its local timer fires (the blip costs no failover).
const sim::ProbeSite kProbeBlipSurvived{"meta.timer.reconnected_in_time"};
// A leading meta's local timer fires: it stops serving.
const sim::ProbeSite kProbeTimerFiredLeading{"meta.timer.fired_leading"};
// A candidate meta's local timer fires.
const sim::ProbeSite kProbeTimerFiredNotLeading{"meta.timer.fired_not_leading"};
// A leading meta learns of its expiry from ZooKeeper (on reconnect), its local timer not yet fired:
// ZooKeeper expired the session first.
const sim::ProbeSite kProbeExpiredByZkLeading{"meta.session.expired_by_zookeeper_leading"};
// A candidate meta learns of its expiry from ZooKeeper before its local timer fires.
const sim::ProbeSite kProbeExpiredByZkNotLeading{"meta.session.expired_by_zookeeper_not_leading"};

const char* role_name(Meta::Role r) {
  switch (r) {
    case Meta::Role::Stopped:
      return "stopped";
    case Meta::Role::Candidate:
      return "candidate";
    case Meta::Role::Leader:
      return "leader";
  }
  return "?";
}

}  // namespace

int64_t parse_seq(const std::string& child) {
  if (child.size() < 10) return -1;
  int64_t v = 0;
  for (size_t i = child.size() - 10; i < child.size(); ++i) {
    char c = child[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

Meta::Meta(sim::Sim& sim, sim::HostId host, MetaConfig cfg)
    : sim::Process(sim, "meta:" + sim.net.host_name(host), host),
      cfg_(std::move(cfg)),
      host_name_(sim.net.host_name(host)),
      address_(sim.net.host_address(host)),
      log_rng_(sim.rng("log/" + name())),
      local_timer_(*this),
      rejoin_timer_(*this),
      rpc_timer_(*this) {
  SIM_CHECK(!cfg_.servers.empty(), "{}: no ZooKeeper servers configured", name());
  SIM_CHECK(cfg_.local_timer > sim::Duration::zero(), "{}: local timer must be positive", name());
  // Linux pids and thread ids for the log lines (the seeds' look: 5-digit ids).
  pid_ = 2000 + static_cast<int>(log_rng_.below(28000));
  tid_io_ = pid_ + 11;
  tid_quorum_ = pid_ + 12;
  tid_rpc_ = pid_ + 8;
  thread_handle_ = 0x7f0000000700ULL | (log_rng_.below(0xffffff) << 12);
}

Meta::~Meta() = default;

void Meta::start() {
  on_start();
}

void Meta::on_start() {
  // The RPC server's socket (status service) is up while the process lives.
  sim().net.listen(*this, cfg_.rpc_port, [](sim::ConnId, sim::ProcId) {});
  start_quorum();
}

void Meta::on_crash() {
  // Everything volatile is gone; the network has reset our sockets.
  local_timer_.cancel();
  rejoin_timer_.cancel();
  rpc_timer_.cancel();
  client_.reset();
  retired_.clear();
  ++gen_;
  set_leading(false);
  set_role(Role::Stopped);
  quorum_ = "Stopped";
  my_node_.clear();
  predecessor_.clear();
  seq_ = -1;
  creating_ = false;
  create_uncertain_ = false;
}

void Meta::glog(char sev, int tid, const char* file, int line, const std::string& msg) {
  if (!sim().logs.enabled()) return;
  // Lines written at one simulated instant still take a few microseconds each.
  int64_t ns = sim().logs.local_ns(now());
  int64_t step = 3000 + static_cast<int64_t>(log_rng_.below(40000));
  if (ns <= last_log_ns_) ns = last_log_ns_ + step;
  last_log_ns_ = ns;
  sim::CivilTime c = sim::civil_from_ns(ns);
  if (!glog_header_) {
    // glog opens each file with this header; its date is the only place the year appears (the
    // lines carry mmdd), so `zksim ingest` of a simulated folder needs no --year.
    glog_header_ = true;
    sim().logs.line(host_name_, "zbs-metad.log",
                    fmt::format("Log file created at: {:04d}/{:02d}/{:02d} {:02d}:{:02d}:{:02d}",
                                c.year, c.month, c.day, c.hour, c.minute, c.second));
    sim().logs.line(host_name_, "zbs-metad.log", "Running on machine: " + host_name_);
    sim().logs.line(host_name_, "zbs-metad.log",
                    "Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg");
  }
  sim().logs.line(host_name_, "zbs-metad.log",
                  fmt::format("{}{:02d}{:02d} {:02d}:{:02d}:{:02d}.{:06d} {:>5} {}:{}] {}", sev,
                              c.month, c.day, c.hour, c.minute, c.second,
                              static_cast<int>(c.nanos / 1000), tid, file, line, msg));
}

void Meta::zoo_log(zk::ZooLogLevel level, std::string_view func, int line,
                   const std::string& text) {
  // main.cc's log callback re-logs each C-client line through glog.
  char sev = 'I';
  int at = 89;
  if (level == zk::ZooLogLevel::Error) {
    sev = 'E';
    at = 81;
  } else if (level == zk::ZooLogLevel::Warn) {
    sev = 'W';
    at = 84;
  }
  glog(sev, tid_io_, "main.cc", at, fmt::format("[ZOO] {}:{} {}", func, line, text));
}

void Meta::set_quorum(const std::string& to) {
  if (to == quorum_) return;
  std::string from = quorum_;
  quorum_ = to;
  glog('I', tid_quorum_, "quorum_cluster.cc", 443,
       fmt::format("QuorumCluster state change: {} --> {}", from, to));
  sim::Rec(sim().trace, now(), "meta.quorum", name())
      .f("from", from)
      .f("to", to)
      .set("quorum", to)
      .emit();
}

void Meta::set_role(Role r) {
  if (r == role_) return;
  role_ = r;
  sim::Rec(sim().trace, now(), "meta.role", name())
      .f("role", role_name(r))
      .f("seq", seq_)
      .set("role", role_name(r))
      .emit();
}

void Meta::set_leading(bool on) {
  if (on == leading_) return;
  leading_ = on;
  sim::Rec(sim().trace, now(), "meta.leader", name()).f("leading", on).f("seq", seq_).emit();
}

std::string Meta::node_prefix() const {
  return fmt::format("meta-{}-{}_", host_name_, session_gen_);
}

void Meta::start_quorum() {
  ++gen_;
  ++session_gen_;
  my_node_.clear();
  predecessor_.clear();
  seq_ = -1;
  creating_ = false;
  create_uncertain_ = false;
  zk_state_ = zk::CONNECTING_STATE;
  set_quorum("Running_Connecting");
  zk::ClientConfig cc;
  cc.session_timeout = cfg_.session_timeout;
  cc.zookeeper_2466_double_advance = cfg_.zookeeper_2466_double_advance;
  cc.old_34_client = cfg_.old_34_client;
  cc.deterministic_conn_order = cfg_.deterministic_conn_order;
  cc.pid = pid_;
  cc.io_thread_handle = thread_handle_;
  zk::ClientCallbacks cb;
  uint64_t g = gen_;
  cb.on_session = [this, g](int st) {
    if (g == gen_) on_session(st);
  };
  cb.on_watch = [this, g](const zk::WatchEvent& ev) {
    if (g == gen_) on_watch(ev);
  };
  cb.on_log = [this](zk::ZooLogLevel l, std::string_view f, int line, const std::string& t) {
    zoo_log(l, f, line, t);
  };
  // One stream per session: the shuffle of a new handle differs from the previous one's.
  sim::Rng rng = sim().rng("client/" + name()).fork(std::to_string(session_gen_));
  client_ = std::make_unique<zk::Client>(*this, cc, cfg_.servers, rng, std::move(cb));
  client_->start();
}

void Meta::on_session(int st) {
  int prev = zk_state_;
  zk_state_ = st;
  if (st == zk::CONNECTED_STATE) {
    if (local_timer_.armed()) {
      sim().probes.hit(kProbeBlipSurvived);
      local_timer_.cancel();
      glog('W', tid_quorum_, "zookeeper.cc", 199, "Stop the session timeout timer.");
      sim::Rec(sim().trace, now(), "meta.timer", name())
          .f("action", "stop")
          .f("ms", cfg_.local_timer.to_ms())
          .emit();
    }
    glog('W', tid_quorum_, "zookeeper.cc", 220,
         fmt::format("zookeeper session event: {} --> {}", zk::state_name(prev),
                     zk::state_name(st)));
    set_quorum("Running");
    election_connected();
  } else if (st == zk::CONNECTING_STATE) {
    glog('W', tid_quorum_, "zookeeper.cc", 220,
         fmt::format("zookeeper session event: {} --> {}", zk::state_name(prev),
                     zk::state_name(st)));
    if (prev == zk::CONNECTED_STATE) {
      glog('W', tid_quorum_, "zookeeper.cc", 183,
           fmt::format("Start the session timeout timer: {}", cfg_.local_timer.to_ms()));
      local_timer_.arm(cfg_.local_timer, [this] { on_local_timer(); });
      sim::Rec(sim().trace, now(), "meta.timer", name())
          .f("action", "start")
          .f("ms", cfg_.local_timer.to_ms())
          .emit();
    }
    set_quorum("Running_Connecting");
  } else if (st == zk::EXPIRED_SESSION_STATE) {
    sim().probes.hit(leading_ ? kProbeExpiredByZkLeading : kProbeExpiredByZkNotLeading);
    if (local_timer_.armed()) {
      local_timer_.cancel();
      glog('W', tid_quorum_, "zookeeper.cc", 199, "Stop the session timeout timer.");
      sim::Rec(sim().trace, now(), "meta.timer", name())
          .f("action", "stop")
          .f("ms", cfg_.local_timer.to_ms())
          .emit();
    }
    glog('W', tid_quorum_, "zookeeper.cc", 220,
         fmt::format("zookeeper session event: {} --> {}", zk::state_name(prev),
                     zk::state_name(st)));
    expire(false);
  }
}

void Meta::on_local_timer() {
  sim().probes.hit(leading_ ? kProbeTimerFiredLeading : kProbeTimerFiredNotLeading);
  sim::Rec(sim().trace, now(), "meta.timer", name())
      .f("action", "fire")
      .f("ms", cfg_.local_timer.to_ms())
      .emit();
  // The wrapper turns its own timeout into an EXPIRED session event.
  glog('W', tid_quorum_, "zookeeper.cc", 199, "Stop the session timeout timer.");
  glog('W', tid_quorum_, "zookeeper.cc", 220,
       fmt::format("zookeeper session event: {} --> {}", zk::state_name(zk_state_),
                   zk::state_name(zk::EXPIRED_SESSION_STATE)));
  zk_state_ = zk::EXPIRED_SESSION_STATE;
  expire(true);
}

void Meta::expire(bool local) {
  glog('E', tid_quorum_, "quorum_cluster.cc", 349, "Zookeeper session timeout.");
  set_quorum("Expired");
  glog('I', tid_quorum_, "quorum_server.cc", 64, "Get quorum cluster event: EXPIRED");
  glog('W', tid_quorum_, "quorum_server.cc", 79, "Session expired.");
  glog('I', tid_quorum_, "quorum_server.cc", 42, "Stop quorum server:\nTraceback:\n[EAgain]:");
  glog('I', tid_quorum_, "quorum_cluster.cc", 208, "Stopping quorum cluster.");
  set_quorum("Stopped");
  glog('I', tid_quorum_, "quorum_cluster.cc", 210, "Sending stopping signal to upper layer.");
  ++gen_;
  rpc_timer_.cancel();
  set_leading(false);
  set_role(Role::Stopped);
  sim::Rec(sim().trace, now(), "meta.stop", name())
      .f("cause", local ? "local_timer" : "session_expired")
      .f("session", client_ ? client_->session_id() : int64_t{0})
      .emit();
  glog('I', tid_quorum_, "quorum_server.cc", 64, "Get quorum cluster event: STOPPED");
  // zookeeper_close. The handle object is kept (small): we may be inside its callback, and a
  // server may still hold a pointer to it for a connection it has not seen closed yet.
  if (client_) {
    client_->close();
    retired_.push_back(std::move(client_));
  }
  rejoin_timer_.arm(cfg_.rejoin_delay, [this] {
    glog('I', tid_quorum_, "quorum_cluster.cc", 172, "Starting quorum cluster.");
    start_quorum();
  });
}

// --- election -----------------------------------------------------------------------------------

void Meta::election_connected() {
  if (!my_node_.empty()) {
    // Reconnected with the same session: the server dropped our watch with the connection.
    check();
  } else if (create_uncertain_) {
    find_own_node();
  } else if (!creating_) {
    creating_ = true;
    ensure_parents(1);
  }
}

void Meta::ensure_parents(size_t depth) {
  // Persistent parents, one path component at a time; "exists" is fine.
  std::vector<size_t> cuts;
  for (size_t i = 1; i < cfg_.election_path.size(); ++i) {
    if (cfg_.election_path[i] == '/') cuts.push_back(i);
  }
  cuts.push_back(cfg_.election_path.size());
  if (depth > cuts.size()) {
    create_node();
    return;
  }
  std::string path = cfg_.election_path.substr(0, cuts[depth - 1]);
  uint64_t g = gen_;
  client_->acreate(path, false, false, [this, g, depth](int rc, const std::string&) {
    if (g != gen_) return;
    if (rc == zk::ZOK || rc == zk::ZNODEEXISTS) {
      ensure_parents(depth + 1);
    } else {
      creating_ = false;  // connection loss: start over on the next CONNECTED
    }
  });
}

void Meta::create_node() {
  uint64_t g = gen_;
  client_->acreate(cfg_.election_path + "/" + node_prefix(), true, true,
                   [this, g](int rc, const std::string& path) {
                     if (g != gen_) return;
                     creating_ = false;
                     if (rc == zk::ZOK) {
                       my_node_ = path.substr(path.rfind('/') + 1);
                       seq_ = parse_seq(my_node_);
                       set_role(Role::Candidate);
                       check();
                     } else if (rc == zk::ZCONNECTIONLOSS || rc == zk::ZOPERATIONTIMEOUT) {
                       // It may have been created: look for it by prefix after the reconnect.
                       create_uncertain_ = true;
                     }
                   });
}

void Meta::find_own_node() {
  uint64_t g = gen_;
  client_->aget_children(cfg_.election_path, false,
                         [this, g](int rc, const std::vector<std::string>& kids) {
                           if (g != gen_ || rc != zk::ZOK) return;
                           create_uncertain_ = false;
                           for (const auto& k : kids) {
                             if (k.rfind(node_prefix(), 0) == 0) {
                               my_node_ = k;
                               seq_ = parse_seq(k);
                               set_role(Role::Candidate);
                               check();
                               return;
                             }
                           }
                           creating_ = true;
                           create_node();
                         });
}

void Meta::check() {
  uint64_t g = gen_;
  client_->aget_children(
      cfg_.election_path, false, [this, g](int rc, const std::vector<std::string>& kids) {
        if (g != gen_ || rc != zk::ZOK || my_node_.empty()) return;
        std::vector<std::pair<int64_t, std::string>> order;
        for (const auto& k : kids) {
          int64_t s = parse_seq(k);
          if (s >= 0) order.emplace_back(s, k);
        }
        std::sort(order.begin(), order.end());
        auto me = std::find_if(order.begin(), order.end(),
                               [&](const auto& e) { return e.second == my_node_; });
        if (me == order.end()) return;  // our ephemeral is gone: EXPIRED will follow
        if (me == order.begin()) {
          become_leader();
          return;
        }
        predecessor_ = std::prev(me)->second;
        std::string pred = predecessor_;
        client_->aexists(cfg_.election_path + "/" + pred, true,
                         [this, g, pred](int rc2, bool exists) {
                           if (g != gen_ || pred != predecessor_) return;
                           if (rc2 == zk::ZNONODE || (rc2 == zk::ZOK && !exists)) check();
                         });
      });
}

void Meta::on_watch(const zk::WatchEvent& ev) {
  if (ev.type != zk::WatchType::NodeDeleted) return;
  if (predecessor_.empty() || ev.path != cfg_.election_path + "/" + predecessor_) return;
  predecessor_.clear();
  check();
}

void Meta::become_leader() {
  if (leading_) return;
  glog('I', tid_quorum_, "quorum_cluster.cc", 698, "Ger priority config:");
  glog('I', tid_quorum_, "quorum_cluster.cc", 518,
       fmt::format("[ROLE CHANGE] I am the leader now.  seq is {}", seq_));
  glog('I', tid_quorum_, "quorum_server.cc", 64, "Get quorum cluster event: ROLE_CHANGED");
  glog('W', tid_quorum_, "quorum_server.cc", 72, "Role changed.");
  glog('W', tid_quorum_, "quorum_server.cc", 94, "Reset service.");
  set_role(Role::Leader);
  set_leading(true);
  auto starts = [this] {
    glog('I', tid_rpc_, "meta_server.cc", 289,
         fmt::format("Meta rpc server starts at {}:{}", address_, cfg_.rpc_port));
  };
  if (cfg_.rpc_start_delay > sim::Duration::zero()) {
    rpc_timer_.arm(cfg_.rpc_start_delay, starts);
  } else {
    starts();
  }
}

// --- detector RPC -------------------------------------------------------------------------------

void Meta::serve_summary(sim::ConnId conn, sim::ProcId from, uint64_t key) {
  auto* peer = dynamic_cast<SummaryClient*>(sim().process(from));
  if (peer == nullptr) return;
  MetaSummary s{leading_, quorum_, seq_};
  sim().net.send(
      conn, *this, [peer, conn, key, s] { peer->on_meta_summary(conn, key, s); }, "MetaSummary");
}

}  // namespace zbs
