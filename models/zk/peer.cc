#include "models/zk/peer.h"

#include <fmt/format.h>

#include <algorithm>
#include <bitset>

#include "sim/check.h"

namespace zk {

namespace {

// Rare paths that decide outcomes (sim/probe.h): a campaign reports the ones it never reached.
// A learner ahead of its new leader is synced with TRUNC.
const sim::ProbeSite kProbeSyncTrunc{"zk.sync.trunc"};
// A learner with no data is synced with SNAP.
const sim::ProbeSite kProbeSyncSnap{"zk.sync.snap"};
// A learner behind its leader is synced with DIFF (txns to catch up).
const sim::ProbeSite kProbeSyncDiffBehind{"zk.sync.diff_behind"};
// A follower reads nothing from its leader for syncLimit ticks.
const sim::ProbeSite kProbeFollowerReadTimeout{"zk.follower.read_timeout"};
// A follower cannot connect to the leader it elected.
const sim::ProbeSite kProbeFollowerConnectFailed{"zk.follower.connect_failed"};
// A follower's leader connection closes or resets under it.
const sim::ProbeSite kProbeFollowerLost{"zk.follower.connection_lost"};
// An election round hears nothing new and backs off.
const sim::ProbeSite kProbeNotificationBackoff{"zk.election.notification_timeout"};
// A leader's tick finds fewer than a quorum synced and steps down.
const sim::ProbeSite kProbeQuorumLost{"zk.leader.quorum_lost"};
// A leader drops a learner (read timeout, EOF or error).
const sim::ProbeSite kProbeLearnerDropped{"zk.leader.learner_dropped"};
// The leader's session tracker expires a session (its ephemerals go).
const sim::ProbeSite kProbeSessionExpired{"zk.session.expired"};
// A client reconnects with a session the ensemble has expired (Invalid session).
const sim::ProbeSite kProbeSessionInvalid{"zk.session.reconnect_expired"};

}  // namespace

using sim::ConnId;
using sim::Duration;
using sim::NetError;
using sim::Time;

const char* to_string(Peer::State s) {
  switch (s) {
    case Peer::State::Looking:
      return "LOOKING";
    case Peer::State::Following:
      return "FOLLOWING";
    case Peer::State::Leading:
      return "LEADING";
  }
  return "?";
}

const char* to_string(Peer::Phase p) {
  switch (p) {
    case Peer::Phase::Election:
      return "election";
    case Peer::Phase::Discovery:
      return "discovery";
    case Peer::Phase::Synchronization:
      return "synchronization";
    case Peer::Phase::Broadcast:
      return "broadcast";
  }
  return "?";
}

namespace {

std::string lower(const char* s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::string sids_string(const std::set<int>& s) {
  std::string out = "[";
  bool first = true;
  for (int x : s) {
    if (!first) out += ", ";
    out += std::to_string(x);
    first = false;
  }
  return out + "]";
}

}  // namespace

Peer::Peer(sim::Sim& sim, const Config& cfg, std::vector<PeerSpec> ensemble, int myid)
    : sim::Process(sim, fmt::format("zk:{}", myid),
                   [&] {
                     for (const auto& p : ensemble) {
                       if (p.myid == myid) return sim.net.find_host(p.host);
                     }
                     return sim::kNoHost;
                   }()),
      cfg_(cfg),
      ensemble_(std::move(ensemble)),
      myid_(myid),
      rng_(sim.rng(fmt::format("zk/{}", myid))),
      clock_rng_(sim.rng(fmt::format("zk/{}/clock", myid))),
      fle_timer_(*this),
      f_connect_timer_(*this),
      f_read_timer_(*this),
      l_wait_timer_(*this),
      l_tick_timer_(*this),
      l_session_timer_(*this),
      l_write_timer_(*this) {
  SIM_CHECK(host() != sim::kNoHost, "zk:{}: host not found (add hosts before peers)", myid);
  std::sort(ensemble_.begin(), ensemble_.end(),
            [](const PeerSpec& a, const PeerSpec& b) { return a.myid < b.myid; });
  SIM_CHECK(myid > 0 && myid < 256, "myid {} out of range", myid);
  draw_clock_origin();
}

Peer::~Peer() = default;

// ============================================================================================
// helpers
// ============================================================================================

Duration Peer::draw(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  return lo + Duration::ns(
                  static_cast<int64_t>(rng_.below(static_cast<uint64_t>((hi - lo).count_ns()))));
}

template <class F>
void Peer::later(Duration d, F&& fn) {
  uint64_t inc = incarnation();
  sim().engine.after(d, [this, inc, fn = std::forward<F>(fn)]() mutable {
    if (incarnation() != inc) return;
    if (running()) {
      fn();  // Process::deliver would call it at once
    } else {
      deliver(std::move(fn));
    }
  });
}

template <class F>
void Peer::f_send(std::string_view label, F&& fn) {
  if (!f_connected_) return;
  Peer* l = peer_by_sid(f_leader_);
  ConnId c = f_conn_;
  sim().net.send(
      c, *this, [l, c, fn = std::forward<F>(fn)]() mutable { fn(l, c); }, label);
}

template <class F>
void Peer::l_send(LearnerHandler& h, std::string_view label, F&& fn) {
  if (h.sid == 0) return;
  Peer* f = peer_by_sid(h.sid);
  ConnId c = h.conn;
  sim().net.send(
      c, *this,
      [f, c, fn = std::forward<F>(fn)]() mutable {
        // The follower's generation at delivery time: packets are for whatever role it has now;
        // the connection identity (c == its f_conn_) is what ties them to this leader.
        fn(f, c, f->gen_);
      },
      label);
}

Peer* Peer::peer_by_sid(int sid) {
  auto it = peers_.find(sid);
  if (it != peers_.end()) return it->second;
  auto* p = dynamic_cast<Peer*>(sim().find_process(fmt::format("zk:{}", sid)));
  SIM_CHECK(p != nullptr, "zk:{} not found", sid);
  peers_[sid] = p;
  return p;
}

const PeerSpec& Peer::spec(int sid) const {
  for (const auto& p : ensemble_) {
    if (p.myid == sid) return p;
  }
  SIM_CHECK(false, "unknown sid {}", sid);
  return ensemble_.front();
}

std::string Peer::detailed_state() const {
  std::string s = lower(to_string(state_));
  if (phase_ != Phase::Election) s += std::string(" - ") + to_string(phase_);
  return s;
}

const std::string& Peer::addr(int sid) {
  return sim().net.host_address(sim().net.find_host(spec(sid).host));
}

const std::string& Peer::main_thread() {
  // ZooKeeper names the thread after the client address it binds (QuorumPeer.setName).
  if (main_thread_.empty()) {
    main_thread_ = fmt::format("QuorumPeer[myid={}](plain={}:{})(secure=disabled)", myid_,
                               addr(myid_), kClientPort);
  }
  return main_thread_;
}

void Peer::draw_clock_origin() {
  if (!cfg_.random_clock_origin) {
    clock_origin_ = Duration::zero();
    return;
  }
  // The JVM's Time.currentElapsedTime() (System.nanoTime) starts at an arbitrary point: the
  // session expiry buckets, multiples of tickTime on that clock, have a random phase relative to
  // simulated time 0. A separate stream so that the other draws of zk/<myid> are not shifted.
  clock_origin_ = Duration::ns(
      static_cast<int64_t>(clock_rng_.below(static_cast<uint64_t>(cfg_.tick.count_ns()))));
}

void Peer::log(const char* level, const std::string& thread, const std::string& where,
               const std::string& msg, const std::vector<std::string>& extra) {
  auto& logs = sim().logs;
  if (!logs.enabled()) return;
  auto c = sim::civil_from_ns(logs.local_ns(now()));
  bool v38 = cfg_.version.rfind("3.8", 0) == 0;
  std::string line = fmt::format(
      "{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d},{:03d} [myid:{}] - {:<5} [{}:{}] - {}", c.year,
      c.month, c.day, v38 ? ' ' : 'T', c.hour, c.minute, c.second, c.nanos / 1000000,
      v38 ? std::to_string(myid_) : std::string(), level, thread, where, msg);
  const std::string& h = spec(myid_).host;
  logs.line(h, "zookeeper.log", line);
  for (const auto& e : extra) logs.line(h, "zookeeper.log", e);
}

std::vector<std::string> Peer::stack(const std::string& exc,
                                     const std::vector<std::string>& frames) {
  std::vector<std::string> out{exc};
  std::string jar = fmt::format("[zookeeper-{0}.jar:{0}]", cfg_.version);
  for (const auto& f : frames) out.push_back(fmt::format("\tat {} ~{}", f, jar));
  return out;
}

void Peer::set_state(State s, Phase p, const char* sync_mode) {
  bool state_changed = s != state_;
  state_ = s;
  phase_ = p;
  if (state_changed && s != State::Looking) {
    logm("INFO ", "QuorumPeer@745", "Peer state changed: " + lower(to_string(s)));
  }
  std::string detailed = detailed_state();
  if (sync_mode) detailed += std::string(" - ") + sync_mode;
  if (!(state_changed && s != State::Looking && p == Phase::Election)) {
    logm("INFO ", sync_mode ? "QuorumPeer@756" : "QuorumPeer@751",
         "Peer state changed: " + detailed);
  }
  emit_state(sync_mode);
}

void Peer::emit_state(const char* sync_mode) {
  std::string detailed = detailed_state();
  if (sync_mode) detailed += std::string(" - ") + sync_mode;
  sim::Rec(sim().trace, now(), "zk.state", name())
      .f("state", to_string(state_))
      .f("phase", to_string(phase_))
      .f("epoch", current_epoch_)
      .f("zxid", tree_.last_zxid)
      .f("leader", static_cast<int64_t>(leader_id_))
      .set("state", detailed)
      .emit();
}

// ============================================================================================
// lifecycle
// ============================================================================================

void Peer::on_start() {
  started_ = false;
  later(draw(cfg_.boot_min, cfg_.boot_max), [this] {
    started_ = true;
    if (logging()) {
      // QuorumPeerMain's startup line and the configuration as QuorumPeer's setters log it, from
      // the main thread (3.8's lines, ../shared/data/zk-server-logs/real-3.8-loopback): what
      // `zksim ingest` reads as a (re)start and `zksim replay` as the limits when no zoo.cfg comes
      // with the logs.
      log("INFO ", "main", "QuorumPeerMain@152",
          fmt::format("Starting quorum peer, myid={}", myid_));
      log("INFO ", "main", "QuorumPeer@1742", fmt::format("tickTime set to {}", cfg_.tick.to_ms()));
      log("INFO ", "main", "QuorumPeer@1786",
          fmt::format("minSessionTimeout set to {}", cfg_.min_session().to_ms()));
      log("INFO ", "main", "QuorumPeer@1797",
          fmt::format("maxSessionTimeout set to {}", cfg_.max_session().to_ms()));
      log("INFO ", "main", "QuorumPeer@1822", fmt::format("initLimit set to {}", cfg_.init_limit));
      log("INFO ", "main", "QuorumPeer@2009", fmt::format("syncLimit set to {}", cfg_.sync_limit));
    }
    sim().net.listen(*this, kClientPort, [this](ConnId c, sim::ProcId p) { c_on_accept(c, p); });
    qcm_start();
    start_looking();
  });
}

void Peer::on_crash() {
  // Volatile state goes; epochs, the data tree and the logged proposals stay on disk. The
  // network has already reset this incarnation's sockets: touch none of them.
  stop_role(true);
  qcm_.clear();
  fle_timer_.cancel();
  finalizing_ = false;
  recvset_.clear();
  outofelection_.clear();
  clients_.clear();
  data_watches_.clear();
  child_watches_.clear();
  touches_.clear();
  pending_revalidations_.clear();
  state_ = State::Looking;
  phase_ = Phase::Election;
  leader_id_ = -1;
  running_server_ = false;
  shutting_down_ = false;
  started_ = false;
  ++gen_;
  sim::Rec(sim().trace, now(), "zk.state", name())
      .f("state", "LOOKING")
      .f("phase", "election")
      .f("epoch", current_epoch_)
      .f("zxid", tree_.last_zxid)
      .f("leader", int64_t{-1})
      .f("crashed", true)
      .set("state", "crashed")
      .emit();
}

void Peer::on_restart() {
  // loadDataBase replays the transaction log, including proposals that were logged but whose
  // commit never arrived: they count in lastLoggedZxid (and are truncated by the next leader if
  // it does not have them).
  for (const auto& t : uncommitted_) tree_.apply(t);
  uncommitted_.clear();
  draw_clock_origin();  // a new JVM, a new elapsed-time origin
  on_start();
}

void Peer::stop_role(bool crashed) {
  ++gen_;
  f_connect_timer_.cancel();
  f_read_timer_.cancel();
  if (!crashed && (f_conn_ != 0 || f_connected_)) sim().net.close(f_conn_, *this);
  f_conn_ = 0;
  f_connected_ = false;
  f_leader_ = -1;
  f_synced_ = false;
  touches_.clear();
  pending_revalidations_.clear();
  l_wait_timer_.cancel();
  l_tick_timer_.cancel();
  l_session_timer_.cancel();
  l_write_timer_.cancel();
  for (auto& [c, h] : lhs_) {
    h->read_timer->cancel();
    if (!crashed) sim().net.close(c, *this);
  }
  lhs_.clear();
  if (!crashed) sim().net.unlisten(*this, kQuorumPort);
  l_outstanding_.clear();
  l_expiry_.clear();
  l_closing_.clear();
  l_connecting_.clear();
  l_electing_.clear();
  l_newleader_acks_.clear();
  l_stage_ = LeaderStage::Setup;
  running_server_ = false;
  if (crashed) {
    clients_.clear();
    data_watches_.clear();
    child_watches_.clear();
  } else {
    c_close_all();
  }
}

void Peer::go_looking_after_shutdown() {
  // The old role's threads are told to stop at once (no client is served, no packet handled);
  // QuorumPeer.run reaches LOOKING after the shutdown completes.
  stop_role(false);
  shutting_down_ = true;
  uint64_t g = gen_;
  later(draw(cfg_.shutdown_min, cfg_.shutdown_max), [this, g] {
    if (g != gen_) return;
    shutting_down_ = false;
    logm("WARN ", "QuorumPeer@1663", "PeerState set to LOOKING");
    start_looking();
  });
}

// ============================================================================================
// QuorumCnxManager
// ============================================================================================

void Peer::qcm_start() {
  sim().net.listen(*this, kElectionPort, [this](ConnId c, sim::ProcId p) { qcm_on_accept(c, p); });
}

void Peer::qcm_send(int sid, const Notification& n) {
  if (sid == myid_) {
    // Messages to self go straight to the receive queue.
    later(Duration::zero(), [this, n] { qcm_on_message(n); });
    return;
  }
  auto& l = qcm_[sid];
  l.pending = n;  // SEND_CAPACITY = 1: a newer message replaces an unsent one
  if (l.connected) {
    qcm_flush(sid, false);
  } else {
    qcm_connect_one(sid);
  }
}

void Peer::qcm_flush(int sid, bool resend_last) {
  auto& l = qcm_[sid];
  if (!l.connected) return;
  std::optional<Notification> msg =
      l.pending ? l.pending : (resend_last ? l.last_sent : std::nullopt);
  if (!msg) return;
  l.pending.reset();
  l.last_sent = msg;
  Notification n = *msg;
  Peer* target = peer_by_sid(sid);
  sim().net.send(
      l.conn, *this, [target, n] { target->qcm_on_message(n); }, "zk.notification");
}

void Peer::qcm_connect_one(int sid) {
  auto& l = qcm_[sid];
  if (l.connected || l.connecting) return;
  l.connecting = true;
  if (!l.cnx_timer) l.cnx_timer = std::make_unique<sim::Timer>(*this);
  sim::HostId h = sim().net.find_host(spec(sid).host);
  ConnId c = sim().net.connect(*this, h, kElectionPort, [this, sid](ConnId c, NetError e) {
    qcm_on_connect_result(sid, c, e);
  });
  l.connecting_conn = c;
  l.cnx_timer->arm(cfg_.cnx_timeout, [this, sid, c] {
    auto& l = qcm_[sid];
    if (!l.connecting || l.connecting_conn != c) return;
    sim().net.close(c, *this);
    qcm_on_connect_result(sid, c, NetError::TimedOut);
  });
}

void Peer::qcm_connect_all() {
  for (const auto& p : ensemble_) {
    if (p.myid != myid_) qcm_connect_one(p.myid);
  }
}

bool Peer::qcm_have_delivered() const {
  for (const auto& [sid, l] : qcm_) {
    if (l.connected && !l.pending) return true;
  }
  return false;
}

void Peer::qcm_on_connect_result(int sid, ConnId c, NetError e) {
  auto& l = qcm_[sid];
  if (!l.connecting || l.connecting_conn != c) return;
  l.connecting = false;
  l.cnx_timer->cancel();
  if (e != NetError::Ok) {
    const char* what =
        e == NetError::TimedOut  ? "java.net.SocketTimeoutException: connect timed out"
        : e == NetError::Refused ? "java.net.ConnectException: Connection refused"
                                 : "java.net.NoRouteToHostException: No route to host";
    if (sim().logs.enabled()) {  // a peer retries a dead peer every few seconds: format lazily
      log("WARN ", fmt::format("QuorumConnectionThread-[myid={}]-{}", myid_, sid),
          "QuorumCnxManager@401",
          fmt::format("Cannot open channel to {} at election address /{}:{}", sid, addr(sid),
                      kElectionPort),
          {what});
    }
    return;
  }
  if (sid > myid_) {
    // startConnection: the initiator sends its id; a smaller id drops the connection and lets
    // the larger peer dial back.
    if (sim().logs.enabled()) {
      log("INFO ", fmt::format("QuorumConnectionThread-[myid={}]-{}", myid_, sid),
          "QuorumCnxManager@542",
          fmt::format("Have smaller server identifier, so dropping the connection: (myId:{} --> "
                      "sid:{})",
                      myid_, sid));
    }
    sim().net.close(c, *this);
    return;
  }
  qcm_register(sid, c);
}

void Peer::qcm_register(int sid, ConnId c) {
  auto& l = qcm_[sid];
  if (l.connected && l.conn != c) sim().net.close(l.conn, *this);  // the old SendWorker finishes
  l.conn = c;
  l.connected = true;
  sim().net.on_close(c, *this, [this, sid, c](NetError) {
    auto& l = qcm_[sid];
    if (l.conn == c) l.connected = false;
  });
  qcm_flush(sid, true);
}

void Peer::qcm_on_accept(ConnId c, sim::ProcId client) {
  auto* other = dynamic_cast<Peer*>(sim().process(client));
  if (!other) {
    sim().net.close(c, *this);
    return;
  }
  int sid = other->myid();
  if (sid < myid_) {
    // handleConnection: "Create new connection to server: sid" -- close and dial back.
    sim().net.close(c, *this);
    qcm_connect_one(sid);
    return;
  }
  qcm_register(sid, c);
}

void Peer::qcm_on_message(const Notification& n) {
  if (!started_) return;
  // The RecvWorker -> WorkerReceiver -> lookForLeader hand-offs cost a little time per message
  // (FIFO: a message never overtakes the previous one).
  Time t = std::max(now(), recv_free_) + draw(cfg_.handle_min, cfg_.handle_max);
  recv_free_ = t;
  uint64_t inc = incarnation();
  sim().engine.at(t, [this, inc, n] {
    if (incarnation() != inc) return;
    deliver([this, n] { qcm_handle(n); });
  });
}

void Peer::qcm_handle(const Notification& n) {
  if (!started_) return;
  // WorkerReceiver.
  if (state_ == State::Looking && !shutting_down_) {
    if (n.state == State::Looking && n.round < logicalclock_ && n.sid != myid_) {
      Notification back{myid_,          State::Looking, proposal_.leader,
                        proposal_.zxid, logicalclock_,  proposal_.peer_epoch};
      qcm_send(n.sid, back);
    }
    fle_receive(n);
    return;
  }
  if (n.state == State::Looking && n.sid != myid_) {
    Notification back{myid_,
                      state_,
                      current_vote_.leader,
                      current_vote_.zxid,
                      current_vote_.round,
                      current_vote_.peer_epoch};
    qcm_send(n.sid, back);
  }
}

// ============================================================================================
// FastLeaderElection
// ============================================================================================

bool Peer::total_order(int64_t id, int64_t zxid, int64_t ep, int64_t cid, int64_t czxid,
                       int64_t cep) {
  if (ep != cep) return ep > cep;
  if (zxid != czxid) return zxid > czxid;
  return id > cid;
}

bool Peer::vote_equal(const Vote& a, const Vote& b) {
  if (a.state == State::Looking || b.state == State::Looking) {
    return a.leader == b.leader && a.zxid == b.zxid && a.round == b.round &&
           a.peer_epoch == b.peer_epoch;
  }
  return a.leader == b.leader && a.peer_epoch == b.peer_epoch;
}

bool Peer::fle_term(const std::map<int, Vote>& votes, const Vote& v) const {
  std::set<int> s;
  for (const auto& [sid, vote] : votes) {
    if (vote_equal(vote, v)) s.insert(sid);
  }
  return is_quorum(s);
}

bool Peer::fle_check_leader(const std::map<int, Vote>& votes, int64_t leader, int64_t round) const {
  if (leader != myid_) {
    auto it = votes.find(static_cast<int>(leader));
    return it != votes.end() && it->second.state == State::Leading;
  }
  return logicalclock_ == round;
}

void Peer::start_looking() {
  ++gen_;
  leader_id_ = -1;
  set_state(State::Looking, Phase::Election);
  logm("INFO ", "QuorumPeer@1455", "LOOKING");
  fle_start_ = now();
  ++logicalclock_;
  proposal_ = Vote{myid_, tree_.last_zxid, logicalclock_, current_epoch_, State::Looking};
  recvset_.clear();
  outofelection_.clear();
  finalizing_ = false;
  logm("INFO ", "FastLeaderElection@946",
       fmt::format("New election. My id = {}, proposed zxid={}", myid_, hex(tree_.last_zxid)));
  fle_send_notifications();
  not_timeout_ = cfg_.finalize_wait;
  fle_arm(not_timeout_);
}

void Peer::fle_arm(Duration d) {
  uint64_t g = gen_;
  fle_timer_.arm(d, [this, g] {
    if (g != gen_ || state_ != State::Looking) return;
    fle_timeout();
  });
}

void Peer::fle_send_notifications() {
  for (const auto& p : ensemble_) {
    qcm_send(p.myid, Notification{myid_, State::Looking, proposal_.leader, proposal_.zxid,
                                  logicalclock_, proposal_.peer_epoch});
  }
}

void Peer::fle_timeout() {
  if (finalizing_) {
    // Nothing better arrived within finalizeWait: the proposal stands.
    finalizing_ = false;
    fle_decide(proposal_.leader, proposal_.zxid, proposal_.peer_epoch);
    return;
  }
  if (qcm_have_delivered()) {
    fle_send_notifications();
  } else {
    qcm_connect_all();
  }
  sim().probes.hit(kProbeNotificationBackoff);
  not_timeout_ = std::min(not_timeout_ * 2, cfg_.max_notification_interval);
  logm("INFO ", "FastLeaderElection@1000",
       fmt::format("Notification time out: {} ms", not_timeout_.to_ms()));
  fle_arm(not_timeout_);
}

void Peer::fle_receive(const Notification& n) {
  if (finalizing_) {
    if (total_order(n.leader, n.zxid, n.peer_epoch, proposal_.leader, proposal_.zxid,
                    proposal_.peer_epoch)) {
      // A better vote: put it back and keep electing.
      finalizing_ = false;
      fle_process(n);
    } else {
      fle_arm(cfg_.finalize_wait);  // the drain loop polls again for finalizeWait
    }
    return;
  }
  fle_process(n);
}

void Peer::fle_process(const Notification& n) {
  if (state_ != State::Looking) return;
  switch (n.state) {
    case State::Looking: {
      if (n.round > logicalclock_) {
        logicalclock_ = n.round;
        recvset_.clear();
        if (total_order(n.leader, n.zxid, n.peer_epoch, myid_, tree_.last_zxid, current_epoch_)) {
          proposal_ = Vote{n.leader, n.zxid, logicalclock_, n.peer_epoch, State::Looking};
        } else {
          proposal_ = Vote{myid_, tree_.last_zxid, logicalclock_, current_epoch_, State::Looking};
        }
        fle_send_notifications();
      } else if (n.round < logicalclock_) {
        fle_arm(not_timeout_);
        return;
      } else if (total_order(n.leader, n.zxid, n.peer_epoch, proposal_.leader, proposal_.zxid,
                             proposal_.peer_epoch)) {
        proposal_ = Vote{n.leader, n.zxid, logicalclock_, n.peer_epoch, State::Looking};
        fle_send_notifications();
      }
      recvset_[n.sid] = Vote{n.leader, n.zxid, n.round, n.peer_epoch, State::Looking};
      Vote mine{proposal_.leader, proposal_.zxid, logicalclock_, proposal_.peer_epoch,
                State::Looking};
      if (fle_term(recvset_, mine)) {
        finalizing_ = true;
        fle_arm(cfg_.finalize_wait);
        return;
      }
      fle_arm(not_timeout_);
      return;
    }
    case State::Following:
    case State::Leading: {
      Vote v{n.leader, n.zxid, n.round, n.peer_epoch, n.state};
      if (n.round == logicalclock_) {
        recvset_[n.sid] = v;
        if (fle_term(recvset_, v) && fle_check_leader(recvset_, n.leader, n.round)) {
          fle_decide(n.leader, n.zxid, n.peer_epoch);
          return;
        }
      }
      // Joining an established ensemble (ZOOKEEPER-1732): a quorum following one leader and a
      // LEADING notification from that leader.
      outofelection_[n.sid] = v;
      if (fle_term(outofelection_, v) && fle_check_leader(outofelection_, n.leader, n.round)) {
        logicalclock_ = n.round;
        fle_decide(n.leader, n.zxid, n.peer_epoch);
        return;
      }
      fle_arm(not_timeout_);
      return;
    }
  }
}

void Peer::fle_decide(int64_t leader, int64_t zxid, int64_t peer_epoch) {
  fle_timer_.cancel();
  finalizing_ = false;
  fle_end_ = now();
  current_vote_ = Vote{leader, zxid, logicalclock_, peer_epoch,
                       leader == myid_ ? State::Leading : State::Following};
  recvset_.clear();
  outofelection_.clear();
  int64_t took = (fle_end_ - fle_start_).to_ms();
  sim::Rec(sim().trace, now(), "zk.election", name())
      .f("leader", leader)
      .f("role", leader == myid_ ? "LEADING" : "FOLLOWING")
      .f("took_ms", took)
      .f("round", logicalclock_)
      .emit();
  if (leader == myid_) {
    start_leading();
  } else {
    start_following(static_cast<int>(leader));
  }
}

// ============================================================================================
// Follower
// ============================================================================================

void Peer::start_following(int leader) {
  ++gen_;
  leader_id_ = leader;
  f_leader_ = leader;
  f_synced_ = false;
  set_state(State::Following, Phase::Election);
  uint64_t g = gen_;
  later(draw(cfg_.follower_setup_min, cfg_.follower_setup_max), [this, g] {
    if (g != gen_) return;
    logm("INFO ", "Follower@78",
         fmt::format("FOLLOWING - LEADER ELECTION TOOK - {} MS", (now() - fle_start_).to_ms()));
    set_state(State::Following, Phase::Discovery);
    // connectToLeader: 5 tries, 100 ms apart, within tickTime*initLimit.
    f_tries_ = 0;
    f_deadline_ = now() + cfg_.tick * cfg_.init_limit;
    f_try_connect();
  });
}

void Peer::f_try_connect() {
  if (now() >= f_deadline_) {
    // The JVM was paused through the retry wait past tickTime*initLimit: LeaderConnector finds no
    // time left before its next try ("connectToLeader exceeded on retries") and connectToLeader
    // fails without a new attempt.
    f_conn_ = 0;
    f_fail("connect timeout");
    return;
  }
  ++f_tries_;
  uint64_t g = gen_;
  sim::HostId h = sim().net.find_host(spec(f_leader_).host);
  f_connected_ = false;
  f_conn_ = sim().net.connect(*this, h, kQuorumPort, [this, g](ConnId c, NetError e) {
    if (g != gen_ || c != f_conn_ || f_connected_) return;
    f_connect_timer_.cancel();
    if (e == NetError::Ok) {
      f_on_connected();
    } else {
      f_conn_ = 0;
      f_connect_failed(e);
    }
  });
  ConnId c = f_conn_;
  f_connect_timer_.arm_at(f_deadline_, [this, g, c] {
    if (g != gen_ || c != f_conn_ || f_connected_) return;
    sim().net.close(c, *this);
    f_conn_ = 0;
    f_connect_failed(NetError::TimedOut);
  });
}

void Peer::f_connect_failed(NetError e) {
  Duration remaining = f_deadline_ - now();
  if (f_tries_ >= 5 || remaining <= cfg_.leader_connect_retry) {
    f_fail(e == NetError::TimedOut ? "connect timeout" : "connect failed");
    return;
  }
  logm("WARN ", "Learner@313",
       fmt::format("Unexpected exception, tries={}, remaining init limit={}, connecting to /{}:{}",
                   f_tries_ - 1, remaining.to_ms(), addr(f_leader_), kQuorumPort),
       {e == NetError::Refused ? "java.net.ConnectException: Connection refused"
                               : "java.net.NoRouteToHostException: No route to host"});
  uint64_t g = gen_;
  f_connect_timer_.arm(cfg_.leader_connect_retry, [this, g] {
    if (g != gen_) return;
    f_try_connect();
  });
}

void Peer::f_on_connected() {
  f_connected_ = true;
  f_connected_at_ = now();
  log("INFO ", fmt::format("LeaderConnector-/{}:{}", addr(f_leader_), kQuorumPort),
      "Learner$LeaderConnector@384",
      fmt::format("Successfully connected to leader, using address: /{}:{}", addr(f_leader_),
                  kQuorumPort));
  uint64_t g = gen_;
  ConnId c = f_conn_;
  sim().net.on_close(c, *this, [this, g, c](NetError e) {
    if (g != gen_ || c != f_conn_) return;
    f_fail(e == NetError::TimedOut ? "ETIMEDOUT" : e == NetError::Reset ? "reset" : "EOF");
  });
  f_read_timeout_ = cfg_.tick * cfg_.init_limit;
  f_last_packet_ = now();
  f_arm_read_timer();
  int me = myid_;
  int64_t acc = accepted_epoch_;
  f_send("FOLLOWERINFO", [me, acc](Peer* l, ConnId c) { l->l_on_followerinfo(c, me, acc); });
}

void Peer::f_packet() {
  f_last_packet_ = now();
}

void Peer::f_arm_read_timer() {
  uint64_t g = gen_;
  f_read_timer_.arm_at(f_last_packet_ + f_read_timeout_, [this, g] {
    if (g != gen_) return;
    if (now() - f_last_packet_ >= f_read_timeout_) {
      f_fail("read timeout");
    } else {
      f_arm_read_timer();
    }
  });
}

void Peer::f_fail(const std::string& cause) {
  if (cause == "read timeout") {
    sim().probes.hit(kProbeFollowerReadTimeout);
  } else if (cause == "connect timeout" || cause == "connect failed") {
    sim().probes.hit(kProbeFollowerConnectFailed);
  } else if (cause != "epoch") {
    sim().probes.hit(kProbeFollowerLost);
  }
  sim::Rec(sim().trace, now(), "zk.follower.exception", name())
      .f("cause", cause)
      .f("leader", static_cast<int64_t>(f_leader_))
      .f("phase", to_string(phase_))
      .emit();
  std::vector<std::string> extra;
  if (cause == "read timeout") {
    extra =
        stack("java.net.SocketTimeoutException: Read timed out",
              {"java.net.SocketInputStream.socketRead0(Native Method)",
               "java.net.SocketInputStream.socketRead(SocketInputStream.java:116)",
               "java.net.SocketInputStream.read(SocketInputStream.java:171)",
               "java.io.DataInputStream.readInt(DataInputStream.java:387)",
               "org.apache.jute.BinaryInputArchive.readInt(BinaryInputArchive.java:84)",
               "org.apache.zookeeper.server.quorum.QuorumPacket.deserialize(QuorumPacket.java:86)",
               "org.apache.zookeeper.server.quorum.Learner.readPacket(Learner.java:166)",
               "org.apache.zookeeper.server.quorum.Follower.followLeader(Follower.java:96)",
               "org.apache.zookeeper.server.quorum.QuorumPeer.run(QuorumPeer.java:1347)"});
  } else if (cause == "EOF" || cause == "reset") {
    extra = stack(
        cause == "EOF" ? "java.io.EOFException" : "java.net.SocketException: Connection reset",
        {"java.io.DataInputStream.readInt(DataInputStream.java:392)",
         "org.apache.jute.BinaryInputArchive.readInt(BinaryInputArchive.java:84)",
         "org.apache.zookeeper.server.quorum.QuorumPacket.deserialize(QuorumPacket.java:86)",
         "org.apache.zookeeper.server.quorum.Learner.readPacket(Learner.java:166)",
         "org.apache.zookeeper.server.quorum.Follower.followLeader(Follower.java:96)",
         "org.apache.zookeeper.server.quorum.QuorumPeer.run(QuorumPeer.java:1347)"});
  } else {
    extra = stack(
        fmt::format("java.io.IOException: Failed connect to /{}:{}", addr(f_leader_), kQuorumPort),
        {"org.apache.zookeeper.server.quorum.Learner.connectToLeader(Learner.java:334)",
         "org.apache.zookeeper.server.quorum.Follower.followLeader(Follower.java:85)",
         "org.apache.zookeeper.server.quorum.QuorumPeer.run(QuorumPeer.java:1347)"});
  }
  logm("WARN ", "Follower@100", "Exception when following the leader", extra);
  if (f_connected_) {
    logm("INFO ", "Follower@142",
         fmt::format("Disconnected from leader (with address: /{}:{}). Was connected for {}ms. "
                     "Sync state: {}",
                     addr(f_leader_), kQuorumPort, (now() - f_connected_at_).to_ms(),
                     f_synced_ ? "true" : "false"));
  }
  logm("INFO ", "Follower@206", "shutdown called",
       stack("java.lang.Exception: shutdown Follower",
             {"org.apache.zookeeper.server.quorum.Follower.shutdown(Follower.java:206)",
              "org.apache.zookeeper.server.quorum.QuorumPeer.run(QuorumPeer.java:1351)"}));
  go_looking_after_shutdown();
}

void Peer::f_on_leaderinfo(ConnId c, uint64_t g, int64_t epoch) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  later(draw(cfg_.handle_min, cfg_.handle_max), [this, g, epoch] {
    if (g != gen_) return;
    if (epoch < accepted_epoch_) {
      logm(
          "ERROR", "Learner@527",
          fmt::format("Leaders epoch, {} is less than accepted epoch, {}", epoch, accepted_epoch_));
      f_fail("epoch");
      return;
    }
    if (epoch > accepted_epoch_) accepted_epoch_ = epoch;  // persisted
    f_new_epoch_ = epoch;
    int64_t ce = current_epoch_;
    int64_t z = tree_.last_zxid;
    f_send("ACKEPOCH", [ce, z](Peer* l, ConnId c) { l->l_on_ackepoch(c, ce, z); });
    set_state(State::Following, Phase::Synchronization);
  });
}

void Peer::f_on_sync(ConnId c, uint64_t g, std::string mode, std::shared_ptr<const DataTree> t) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  set_state(State::Following, Phase::Synchronization, mode.c_str());
  // DIFF, SNAP and TRUNC all leave the learner with the leader's committed state.
  tree_ = *t;
  uncommitted_.clear();
  set_state(State::Following, Phase::Synchronization);
}

void Peer::f_on_newleader(ConnId c, uint64_t g, int64_t zxid) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  logm("INFO ", "Learner@737", "Learner received NEWLEADER message");
  later(draw(cfg_.newleader_min, cfg_.newleader_max), [this, g, zxid] {
    if (g != gen_) return;
    current_epoch_ = f_new_epoch_;  // persisted
    f_read_timeout_ = cfg_.tick * cfg_.sync_limit;
    f_last_packet_ = std::max(f_last_packet_, now() - f_read_timeout_);
    f_arm_read_timer();
    f_synced_ = true;
    f_send("ACK", [zxid](Peer* l, ConnId c) { l->l_on_ack(c, zxid, true); });
  });
}

void Peer::f_on_uptodate(ConnId c, uint64_t g) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  logm("INFO ", "Learner@721", "Learner received UPTODATE message");
  later(draw(cfg_.handle_min, cfg_.handle_max), [this, g] {
    if (g != gen_) return;
    current_vote_.peer_epoch = current_epoch_;  // updateElectionVote
    running_server_ = true;
    set_state(State::Following, Phase::Broadcast);
  });
}

void Peer::f_on_ping(ConnId c, uint64_t g) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  auto t = std::move(touches_);
  touches_.clear();
  f_send("PING",
         [t = std::move(t)](Peer* l, ConnId c) mutable { l->l_on_ping_reply(c, std::move(t)); });
}

void Peer::f_on_proposal(ConnId c, uint64_t g, const Txn& t) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  uncommitted_.push_back(t);  // logged
  int64_t z = t.zxid;
  later(draw(cfg_.fsync_min, cfg_.fsync_max), [this, g, z] {
    if (g != gen_) return;
    f_send("ACK", [z](Peer* l, ConnId c) { l->l_on_ack(c, z, false); });
  });
}

void Peer::f_on_commit(ConnId c, uint64_t g, int64_t zxid) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  auto it = std::find_if(uncommitted_.begin(), uncommitted_.end(),
                         [&](const Txn& t) { return t.zxid == zxid; });
  if (it == uncommitted_.end()) return;
  Txn t = std::move(*it);
  uncommitted_.erase(uncommitted_.begin(), it + 1);
  apply_committed(t);
}

void Peer::f_on_revalidate_reply(ConnId c, uint64_t g, ConnId client, int64_t session,
                                 Duration timeout, bool valid) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  auto it = pending_revalidations_.find(client);
  if (it == pending_revalidations_.end() || it->second != session) return;
  pending_revalidations_.erase(it);
  c_finish_session_init(client, session, timeout, valid);
}

void Peer::f_on_error_reply(ConnId c, uint64_t g, ConnId client, int32_t xid, Op op, int rc) {
  if (g != gen_ || c != f_conn_) return;
  f_packet();
  Reply r;
  r.xid = xid;
  r.op = op;
  r.rc = rc;
  r.zxid = tree_.last_zxid;
  c_reply(client, r);
}

// ============================================================================================
// Leader
// ============================================================================================

void Peer::start_leading() {
  ++gen_;
  leader_id_ = myid_;
  set_state(State::Leading, Phase::Election);
  l_stage_ = LeaderStage::Setup;
  uint64_t g = gen_;
  later(draw(cfg_.leader_setup_min, cfg_.leader_setup_max), [this, g] {
    if (g != gen_) return;
    logm("INFO ", "Leader@638",
         fmt::format("LEADING - LEADER ELECTION TOOK - {} MS", (now() - fle_start_).to_ms()));
    set_state(State::Leading, Phase::Discovery);
    l_tick_ = 0;
    l_tick_skip_ = true;
    l_stage_ = LeaderStage::Epoch;
    l_connecting_ = {myid_};
    l_epoch_ = accepted_epoch_ + 1;
    sim().net.listen(*this, kQuorumPort, [this](ConnId c, sim::ProcId p) { l_on_accept(c, p); });
    l_wait_timer_.arm(cfg_.tick * cfg_.init_limit, [this, g] {
      if (g != gen_) return;
      l_shutdown("Timeout while waiting for epoch from quorum");
    });
  });
}

void Peer::l_on_accept(ConnId c, sim::ProcId client) {
  if (state_ != State::Leading) {
    sim().net.close(c, *this);
    return;
  }
  auto h = std::make_unique<LearnerHandler>();
  h->conn = c;
  h->remote = fmt::format("/{}:{}", sim().net.host_address(sim().process(client)->host()),
                          40000 + static_cast<int>(c % 20000));
  h->tick_deadline = l_tick_ + cfg_.init_limit + cfg_.sync_limit;
  h->read_timeout = cfg_.tick * cfg_.init_limit;
  h->last_packet = now();
  h->read_timer = std::make_unique<sim::Timer>(*this);
  LearnerHandler& ref = *h;
  lhs_[c] = std::move(h);
  sim().net.on_close(c, *this, [this, c](NetError) { l_drop(c, "EOF"); });
  l_arm_read_timer(ref);
}

Peer::LearnerHandler* Peer::lh(ConnId c) {
  auto it = lhs_.find(c);
  return it == lhs_.end() ? nullptr : it->second.get();
}

void Peer::l_packet(LearnerHandler& h) {
  h.last_packet = now();
  h.tick_deadline = l_tick_ + cfg_.sync_limit;
}

void Peer::l_arm_read_timer(LearnerHandler& h) {
  ConnId c = h.conn;
  uint64_t g = gen_;
  h.read_timer->arm_at(h.last_packet + h.read_timeout, [this, c, g] {
    if (g != gen_) return;
    LearnerHandler* h = lh(c);
    if (!h) return;
    if (now() - h->last_packet >= h->read_timeout) {
      l_drop(c, "read timeout");
    } else {
      l_arm_read_timer(*h);
    }
  });
}

void Peer::l_drop(ConnId c, const std::string& why) {
  LearnerHandler* h = lh(c);
  if (!h) return;
  sim().probes.hit(kProbeLearnerDropped);
  std::string thread = "LearnerHandler-" + h->remote;
  if (why == "read timeout") {
    log("ERROR", thread, "LearnerHandler@714",
        "Unexpected exception causing shutdown while sock still open",
        stack("java.net.SocketTimeoutException: Read timed out",
              {"java.net.SocketInputStream.socketRead0(Native Method)",
               "org.apache.zookeeper.server.quorum.LearnerHandler.run(LearnerHandler.java:560)"}));
  } else {
    log("ERROR", thread, "LearnerHandler@714", "Unexpected exception in LearnerHandler: ",
        stack("java.io.EOFException",
              {"java.io.DataInputStream.readInt(DataInputStream.java:392)",
               "org.apache.zookeeper.server.quorum.LearnerHandler.run(LearnerHandler.java:560)"}));
  }
  log("WARN ", thread, "LearnerHandler@735", fmt::format("******* GOODBYE {} ********", h->remote));
  sim::Rec(sim().trace, now(), "zk.leader.learner_drop", name())
      .f("sid", static_cast<int64_t>(h->sid))
      .f("cause", why)
      .emit();
  h->read_timer->cancel();
  sim().net.close(c, *this);
  lhs_.erase(c);
}

void Peer::l_on_followerinfo(ConnId c, int sid, int64_t accepted_epoch) {
  LearnerHandler* h = lh(c);
  if (!h) return;
  l_packet(*h);
  h->sid = sid;
  log("INFO ", "LearnerHandler-" + h->remote, "LearnerHandler@510",
      fmt::format("Follower sid: {} : info : {}:{}:{}:participant", sid, addr(sid), kQuorumPort,
                  kElectionPort));
  if (l_stage_ == LeaderStage::Epoch) {
    h->stage = LhStage::WaitEpochQuorum;
    l_connecting_.insert(sid);
    if (accepted_epoch >= l_epoch_) l_epoch_ = accepted_epoch + 1;
    if (is_quorum(l_connecting_)) {
      uint64_t g = gen_;
      later(draw(cfg_.handle_min, cfg_.handle_max), [this, g] {
        if (g != gen_ || l_stage_ != LeaderStage::Epoch) return;
        l_epoch_decided();
      });
    }
    return;
  }
  h->stage = LhStage::WaitAckEpoch;
  int64_t e = l_epoch_;
  l_send(*h, "LEADERINFO", [e](Peer* f, ConnId c, uint64_t g) { f->f_on_leaderinfo(c, g, e); });
}

void Peer::l_epoch_decided() {
  accepted_epoch_ = l_epoch_;  // persisted
  l_stage_ = LeaderStage::EpochAck;
  l_electing_ = {myid_};
  uint64_t g = gen_;
  l_wait_timer_.arm(cfg_.tick * cfg_.init_limit, [this, g] {
    if (g != gen_) return;
    l_shutdown("Timeout while waiting for epoch to be acked by quorum");
  });
  int64_t e = l_epoch_;
  for (auto& [c, h] : lhs_) {
    if (h->stage == LhStage::WaitEpochQuorum) {
      h->stage = LhStage::WaitAckEpoch;
      l_send(*h, "LEADERINFO", [e](Peer* f, ConnId c, uint64_t g) { f->f_on_leaderinfo(c, g, e); });
    }
  }
}

void Peer::l_on_ackepoch(ConnId c, int64_t current_epoch, int64_t last_zxid) {
  (void)current_epoch;
  LearnerHandler* h = lh(c);
  if (!h) return;
  l_packet(*h);
  h->peer_last_zxid = last_zxid;
  h->stage = LhStage::WaitSync;
  if (l_stage_ == LeaderStage::EpochAck) {
    l_electing_.insert(h->sid);
    if (is_quorum(l_electing_)) l_epoch_acked();
    return;
  }
  if (l_stage_ == LeaderStage::NewLeaderAck || l_stage_ == LeaderStage::Startup ||
      l_stage_ == LeaderStage::Broadcast) {
    l_start_sync(*h);
  }
}

void Peer::l_epoch_acked() {
  current_epoch_ = l_epoch_;  // persisted
  l_stage_ = LeaderStage::NewLeaderAck;
  set_state(State::Leading, Phase::Synchronization);
  l_newleader_acks_ = {myid_};
  uint64_t g = gen_;
  l_wait_timer_.arm(cfg_.tick * cfg_.init_limit, [this, g] {
    if (g != gen_) return;
    std::set<int> alive{myid_};
    for (auto& [c, h] : lhs_) alive.insert(h->sid);
    if (is_quorum(alive)) {
      logm("WARN ", "Leader@1590",
           "Enough followers present. Perhaps the initTicks need to be increased.");
    }
    l_shutdown("Waiting for a quorum of followers, only synced with sids: [ " +
               sids_string(l_newleader_acks_) + " ]");
  });
  for (auto& [c, h] : lhs_) {
    if (h->stage == LhStage::WaitSync) l_start_sync(*h);
  }
}

void Peer::l_start_sync(LearnerHandler& h) {
  h.stage = LhStage::WaitNewLeaderAck;
  ConnId c = h.conn;
  uint64_t g = gen_;
  later(draw(cfg_.sync_min, cfg_.sync_max), [this, c, g] {
    if (g != gen_) return;
    LearnerHandler* h = lh(c);
    if (!h) return;
    int64_t leader_zxid = tree_.last_zxid;
    std::string mode = h->peer_last_zxid == leader_zxid  ? "diff"
                       : h->peer_last_zxid > leader_zxid ? "trunc"
                       : h->peer_last_zxid == 0          ? "snap"
                                                         : "diff";
    if (mode == "trunc") sim().probes.hit(kProbeSyncTrunc);
    if (mode == "snap") sim().probes.hit(kProbeSyncSnap);
    if (mode == "diff" && h->peer_last_zxid < leader_zxid) sim().probes.hit(kProbeSyncDiffBehind);
    log("INFO ", "LearnerHandler-" + h->remote, "LearnerHandler@805",
        fmt::format("Synchronizing with Learner sid: {} lastProcessedZxid={} peerLastZxid={}",
                    h->sid, hex(leader_zxid), hex(h->peer_last_zxid)));
    auto snap = std::make_shared<const DataTree>(tree_);
    l_send(*h,
           mode == "snap"    ? "SNAP"
           : mode == "trunc" ? "TRUNC"
                             : "DIFF",
           [mode, snap](Peer* f, ConnId c, uint64_t g) { f->f_on_sync(c, g, mode, snap); });
    // Proposals in flight follow the snapshot, then NEWLEADER.
    for (const auto& [z, o] : l_outstanding_) {
      auto t = std::make_shared<const Txn>(o.txn);
      l_send(*h, "PROPOSAL", [t](Peer* f, ConnId c, uint64_t g) { f->f_on_proposal(c, g, *t); });
    }
    h->forwarding = true;
    int64_t nz = make_zxid(l_epoch_, 0);
    l_send(*h, "NEWLEADER", [nz](Peer* f, ConnId c, uint64_t g) { f->f_on_newleader(c, g, nz); });
  });
}

void Peer::l_on_ack(ConnId c, int64_t zxid, bool newleader) {
  LearnerHandler* h = lh(c);
  if (!h) return;
  l_packet(*h);
  if (!newleader) {
    auto it = l_outstanding_.find(zxid);
    if (it != l_outstanding_.end()) {
      it->second.acks.insert(h->sid);
      l_try_commit();
    }
    return;
  }
  if (h->stage != LhStage::WaitNewLeaderAck) return;
  h->stage = LhStage::Synced;
  h->read_timeout = cfg_.tick * cfg_.sync_limit;
  l_arm_read_timer(*h);
  if (l_stage_ == LeaderStage::NewLeaderAck) {
    l_newleader_acks_.insert(h->sid);
    if (is_quorum(l_newleader_acks_)) l_newleader_quorum();
  } else if (l_stage_ == LeaderStage::Broadcast) {
    l_send_uptodate(*h);
  }
}

void Peer::l_newleader_quorum() {
  l_wait_timer_.cancel();
  l_stage_ = LeaderStage::Startup;
  logm("INFO ", "Leader@1519",
       fmt::format("Have quorum of supporters, sids: [{}]; starting up and setting last processed "
                   "zxid: {}",
                   sids_string(l_newleader_acks_), hex(make_zxid(l_epoch_, 0))));
  uint64_t g = gen_;
  later(draw(cfg_.startup_min, cfg_.startup_max), [this, g] {
    if (g != gen_) return;
    l_start_broadcast();
  });
}

void Peer::l_start_broadcast() {
  // startZkServer: the session tracker is rebuilt from the replicated session table, which
  // re-arms every session from now; the database's last processed zxid becomes (epoch, 0).
  tree_.last_zxid = std::max(tree_.last_zxid, make_zxid(l_epoch_, 0));
  l_next_zxid_ = make_zxid(l_epoch_, 0);
  l_prep_tree_ = tree_;
  current_vote_.peer_epoch = current_epoch_;
  l_stage_ = LeaderStage::Broadcast;
  running_server_ = true;
  track_all_sessions();
  set_state(State::Leading, Phase::Broadcast);
  for (auto& [c, h] : lhs_) {
    if (h->stage == LhStage::Synced) l_send_uptodate(*h);
  }
  uint64_t g = gen_;
  l_tick_timer_.arm(cfg_.tick / 2, [this, g] {
    if (g != gen_) return;
    l_tick();
  });
  l_arm_write_load();
}

void Peer::l_send_uptodate(LearnerHandler& h) {
  if (h.uptodate_sent) return;
  h.uptodate_sent = true;
  l_send(h, "UPTODATE", [](Peer* f, ConnId c, uint64_t g) { f->f_on_uptodate(c, g); });
}

std::vector<int> Peer::synced_sids() const {
  std::vector<int> out;
  if (state_ != State::Leading) return out;
  out.push_back(myid_);
  for (const auto& [c, h] : lhs_) {
    if (h->sid != 0 && l_tick_ <= h->tick_deadline) out.push_back(h->sid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Peer::l_tick() {
  if (!l_tick_skip_) {
    // Once per tick: the quorum check (the set is only built on these iterations).
    ++l_tick_;
    std::bitset<256> seen;  // sids (myid < 256), no allocation per tick
    seen.set(static_cast<size_t>(myid_));
    for (auto& [c, h] : lhs_) {
      if (h->sid != 0 && l_tick_ <= h->tick_deadline) seen.set(static_cast<size_t>(h->sid));
    }
    if (static_cast<int>(seen.count()) < quorum_size()) {
      std::set<int> synced{myid_};
      for (auto& [c, h] : lhs_) {
        if (h->sid != 0 && l_tick_ <= h->tick_deadline) synced.insert(h->sid);
      }
      std::string s = sids_string(synced);
      sim().probes.hit(kProbeQuorumLost);
      sim::Rec(sim().trace, now(), "zk.leader.quorum_lost", name()).f("synced", s).emit();
      l_shutdown("Not sufficient followers synced, only synced with sids: [ " + s + " ]");
      return;
    }
  }
  l_tick_skip_ = !l_tick_skip_;
  for (auto& [c, h] : lhs_) {
    if (h->forwarding)
      l_send(*h, "PING", [](Peer* f, ConnId c, uint64_t g) { f->f_on_ping(c, g); });
  }
  uint64_t g = gen_;
  l_tick_timer_.arm(cfg_.tick / 2, [this, g] {
    if (g != gen_) return;
    l_tick();
  });
}

void Peer::l_shutdown(const std::string& reason) {
  logm("INFO ", "Leader@878", "Shutdown called. For the reason " + reason);
  go_looking_after_shutdown();
}

void Peer::l_on_ping_reply(ConnId c, std::map<int64_t, Duration> touches) {
  LearnerHandler* h = lh(c);
  if (!h) return;
  l_packet(*h);
  if (l_stage_ != LeaderStage::Broadcast) return;
  for (const auto& [s, to] : touches) touch(s, to);
}

void Peer::l_on_request(ConnId c, const WriteRequest& w) {
  LearnerHandler* h = lh(c);
  if (!h) return;
  l_packet(*h);
  if (l_stage_ != LeaderStage::Broadcast) return;
  l_submit(w);
}

void Peer::l_on_revalidate(ConnId c, ConnId client, int64_t session, Duration timeout) {
  LearnerHandler* h = lh(c);
  if (!h) return;
  l_packet(*h);
  if (l_stage_ != LeaderStage::Broadcast) return;
  bool valid = touch(session, timeout);
  l_send(*h, "REVALIDATE", [client, session, timeout, valid](Peer* f, ConnId c, uint64_t g) {
    f->f_on_revalidate_reply(c, g, client, session, timeout, valid);
  });
}

void Peer::l_submit(const WriteRequest& w) {
  // PrepRequestProcessor: validate against the committed tree plus outstanding changes.
  int rc = ZOK;
  Txn t;
  t.kind = w.kind;
  t.session = w.session;
  t.timeout = w.timeout;
  t.origin_sid = w.origin_sid;
  t.origin_conn = w.origin_conn;
  t.xid = w.xid;
  t.op = w.op;
  switch (w.kind) {
    case TxnKind::Create:
      if (w.session != 0 &&
          (!l_prep_tree_.sessions.count(w.session) || l_closing_.count(w.session))) {
        rc = ZSESSIONEXPIRED;
        break;
      }
      t.path = l_prep_tree_.resolve_create_path(w.path, w.sequential);
      t.ephemeral = w.ephemeral;
      rc = l_prep_tree_.check_create(t.path, w.session, w.ephemeral);
      break;
    case TxnKind::Delete:
      t.path = w.path;
      rc = l_prep_tree_.check_delete(w.path);
      break;
    case TxnKind::CloseSession:
      if (!l_prep_tree_.sessions.count(w.session)) rc = ZSESSIONEXPIRED;
      l_closing_.insert(w.session);
      break;
    case TxnKind::CreateSession:
    case TxnKind::Noop:
      break;
  }
  if (rc != ZOK) {
    if (w.origin_sid == myid_) {
      Reply r;
      r.xid = w.xid;
      r.op = w.op;
      r.rc = rc;
      r.zxid = tree_.last_zxid;
      c_reply(w.origin_conn, r);
    } else {
      for (auto& [c, h] : lhs_) {
        if (h->sid == w.origin_sid) {
          ConnId cc = w.origin_conn;
          int32_t xid = w.xid;
          Op op = w.op;
          l_send(*h, "error reply", [cc, xid, op, rc](Peer* f, ConnId c, uint64_t g) {
            f->f_on_error_reply(c, g, cc, xid, op, rc);
          });
        }
      }
    }
    return;
  }
  t.zxid = ++l_next_zxid_;
  l_prep_tree_.apply(t);
  // One immutable copy shared by every learner's PROPOSAL packet (no per-learner Txn copy).
  auto shared = std::make_shared<const Txn>(t);
  Outstanding& o = l_outstanding_[t.zxid];
  o.txn = std::move(t);
  o.acks = {myid_};
  for (auto& [c, h] : lhs_) {
    if (h->forwarding)
      l_send(*h, "PROPOSAL",
             [shared](Peer* f, ConnId c, uint64_t g) { f->f_on_proposal(c, g, *shared); });
  }
  l_try_commit();
}

void Peer::l_try_commit() {
  while (!l_outstanding_.empty() && is_quorum(l_outstanding_.begin()->second.acks)) {
    Txn t = std::move(l_outstanding_.begin()->second.txn);
    l_outstanding_.erase(l_outstanding_.begin());
    int64_t z = t.zxid;
    for (auto& [c, h] : lhs_) {
      if (h->forwarding)
        l_send(*h, "COMMIT", [z](Peer* f, ConnId c, uint64_t g) { f->f_on_commit(c, g, z); });
    }
    apply_committed(t);
  }
}

void Peer::l_arm_write_load() {
  if (cfg_.write_rate_per_s <= 0) return;
  double gap_s = rng_.exponential(1.0 / cfg_.write_rate_per_s);
  uint64_t g = gen_;
  l_write_timer_.arm(Duration::ns(static_cast<int64_t>(gap_s * 1e9)) + Duration::ns(1), [this, g] {
    if (g != gen_) return;
    l_write_load();
  });
}

void Peer::l_write_load() {
  WriteRequest w;
  w.kind = TxnKind::Noop;
  w.origin_sid = 0;
  l_submit(w);
  l_arm_write_load();
}

// ============================================================================================
// Sessions
// ============================================================================================

Time Peer::round_to_next_bucket(Time t) const {
  // ExpiryQueue.roundToNextInterval on this JVM's elapsed-time clock (origin clock_origin_).
  int64_t T = cfg_.tick.count_ns();
  int64_t local = t.ns() + clock_origin_.count_ns();
  return Time::from_ns((local / T + 1) * T - clock_origin_.count_ns());
}

std::optional<Time> Peer::session_expiry(int64_t session) const {
  auto it = l_expiry_.find(session);
  if (it == l_expiry_.end()) return std::nullopt;
  return it->second;
}

bool Peer::touch(int64_t session, Duration timeout) {
  if (l_stage_ != LeaderStage::Broadcast) return false;
  if (!tree_.sessions.count(session) || l_closing_.count(session)) return false;
  Time e = round_to_next_bucket(now() + timeout);
  auto& cur = l_expiry_[session];
  if (e > cur) cur = e;
  arm_session_timer();
  return true;
}

void Peer::track_all_sessions() {
  l_expiry_.clear();
  l_closing_.clear();
  for (const auto& [s, to] : tree_.sessions) l_expiry_[s] = round_to_next_bucket(now() + to);
  arm_session_timer();
}

void Peer::arm_session_timer() {
  Time next = Time::max();
  for (const auto& [s, e] : l_expiry_) {
    if (!l_closing_.count(s)) next = std::min(next, e);
  }
  if (next == Time::max()) {
    l_session_timer_.cancel();
    return;
  }
  if (l_session_timer_.armed() && l_session_timer_.deadline() == next) return;
  if (next < now()) next = now();
  uint64_t g = gen_;
  l_session_timer_.arm_at(next, [this, g] {
    if (g != gen_) return;
    session_timer_fired();
  });
}

void Peer::session_timer_fired() {
  std::vector<int64_t> expired;
  for (const auto& [s, e] : l_expiry_) {
    if (e <= now() && !l_closing_.count(s)) expired.push_back(s);
  }
  for (int64_t s : expired) {
    sim().probes.hit(kProbeSessionExpired);
    auto it = tree_.sessions.find(s);
    Duration to = it == tree_.sessions.end() ? Duration::zero() : it->second;
    log("INFO ", "SessionTracker", "ZooKeeperServer@728",
        fmt::format("Expiring session {}, timeout of {}ms exceeded", hex(s), to.to_ms()));
    l_expiry_.erase(s);
    WriteRequest w;
    w.kind = TxnKind::CloseSession;
    w.session = s;
    w.timeout = to;
    l_submit(w);
    auto oit = l_outstanding_.rbegin();
    if (oit != l_outstanding_.rend() && oit->second.txn.session == s &&
        oit->second.txn.kind == TxnKind::CloseSession) {
      oit->second.txn.expired = true;
    }
  }
  arm_session_timer();
}

void Peer::client_touch(int64_t session) {
  if (session == 0) return;
  if (state_ == State::Leading) {
    auto it = tree_.sessions.find(session);
    if (it != tree_.sessions.end()) touch(session, it->second);
  } else {
    auto it = tree_.sessions.find(session);
    touches_[session] = it == tree_.sessions.end() ? Duration::zero() : it->second;
  }
}

// ============================================================================================
// Applying commits (every server)
// ============================================================================================

void Peer::apply_committed(const Txn& t) {
  std::vector<std::string> deleted;
  auto triggers = tree_.apply(t, &deleted);
  if (state_ == State::Leading) {
    switch (t.kind) {
      case TxnKind::CreateSession:
        sim::Rec(sim().trace, now(), "zk.session.create", name())
            .f("session", hex(t.session))
            .f("timeout_ms", t.timeout.to_ms())
            .f("zxid", t.zxid)
            .emit();
        touch(t.session, t.timeout);
        break;
      case TxnKind::CloseSession:
        for (const auto& p : deleted) {
          sim::Rec(sim().trace, now(), "zk.znode.delete", name())
              .f("path", p)
              .f("session", hex(t.session))
              .f("zxid", t.zxid)
              .emit();
        }
        sim::Rec(sim().trace, now(), t.expired ? "zk.session.expire" : "zk.session.close", name())
            .f("session", hex(t.session))
            .f("timeout_ms", t.timeout.to_ms())
            .f("zxid", t.zxid)
            .emit();
        l_expiry_.erase(t.session);
        l_closing_.erase(t.session);
        break;
      case TxnKind::Create:
        sim::Rec(sim().trace, now(), "zk.znode.create", name())
            .f("path", t.path)
            .f("session", hex(t.ephemeral ? t.session : 0))
            .f("zxid", t.zxid)
            .emit();
        break;
      case TxnKind::Delete:
        for (const auto& p : deleted) {
          sim::Rec(sim().trace, now(), "zk.znode.delete", name())
              .f("path", p)
              .f("session", hex(t.session))
              .f("zxid", t.zxid)
              .emit();
        }
        break;
      case TxnKind::Noop:
        break;
    }
  }
  // Watches registered on this server fire as it applies the commit.
  for (const auto& tr : triggers) {
    auto& m = tr.child ? child_watches_ : data_watches_;
    auto it = m.find(tr.path);
    if (it == m.end()) continue;
    std::set<ConnId> conns = std::move(it->second);
    m.erase(it);
    for (ConnId c : conns) {
      auto ci = clients_.find(c);
      if (ci == clients_.end() || !ci->second.api) continue;
      ClientApi* api = ci->second.api;
      WatchEvent ev{tr.type, tr.path};
      sim().net.send(
          c, *this, [api, c, ev] { api->on_watch(c, ev); }, "WatchEvent");
    }
  }
  // FinalRequestProcessor: a closeSession that did not come through this server's connection
  // (the leader's expiry, or a close requested on another server) closes the session's client
  // connection here too (ServerCnxnFactory.closeSession), on every server that applies it.
  if (t.kind == TxnKind::CloseSession) {
    std::vector<ConnId> victims;
    for (const auto& [c, cc] : clients_) {
      if (cc.session == t.session && !(t.origin_sid == myid_ && c == t.origin_conn)) {
        victims.push_back(c);
      }
    }
    for (ConnId c : victims) c_close(c);
  }
  // Answer the client if the request came through this server.
  if (t.origin_sid != myid_ || t.origin_conn == 0) return;
  auto ci = clients_.find(t.origin_conn);
  if (ci == clients_.end()) return;
  switch (t.kind) {
    case TxnKind::CreateSession:
      c_finish_session_init(t.origin_conn, t.session, t.timeout, true);
      break;
    case TxnKind::CloseSession: {
      Reply r;
      r.xid = t.xid;
      r.op = Op::CloseSession;
      r.zxid = t.zxid;
      c_reply(t.origin_conn, r);
      c_close(t.origin_conn);
      break;
    }
    case TxnKind::Create:
    case TxnKind::Delete: {
      Reply r;
      r.xid = t.xid;
      r.op = t.op;
      r.path = t.path;
      r.zxid = t.zxid;
      c_reply(t.origin_conn, r);
      break;
    }
    case TxnKind::Noop:
      break;
  }
}

// ============================================================================================
// Client connections (NIOServerCnxn + ZooKeeperServer session handling)
// ============================================================================================

std::string Peer::client_addr(ConnId c) {
  auto it = clients_.find(c);
  if (it == clients_.end()) return "/?";
  return fmt::format("/{}:{}", sim().net.host_address(sim().process(it->second.proc)->host()),
                     30000 + static_cast<int>(c % 30000));
}

void Peer::c_on_accept(ConnId c, sim::ProcId client) {
  ClientConn cc;
  cc.proc = client;
  if (auto* h = dynamic_cast<ApiHolder*>(sim().process(client))) cc.api = h->client_api();
  clients_[c] = cc;
  sim().net.on_close(c, *this, [this, c](NetError) {
    clients_.erase(c);
    pending_revalidations_.erase(c);
  });
}

void Peer::c_close(ConnId c) {
  sim().net.close(c, *this);
  clients_.erase(c);
  pending_revalidations_.erase(c);
}

void Peer::c_close_all() {
  std::vector<ConnId> all;
  for (const auto& [c, cc] : clients_) all.push_back(c);
  for (ConnId c : all) c_close(c);
  data_watches_.clear();
  child_watches_.clear();
}

Duration Peer::negotiate(Duration requested) const {
  return std::clamp(requested, cfg_.min_session(), cfg_.max_session());
}

void Peer::c_reply(ConnId c, const Reply& r) {
  auto it = clients_.find(c);
  if (it == clients_.end() || !it->second.api) return;
  ClientApi* api = it->second.api;
  sim().net.send(
      c, *this, [api, c, r = r] { api->on_reply(c, r); }, "Reply");
}

void Peer::c_finish_session_init(ConnId c, int64_t session, Duration timeout, bool valid) {
  auto it = clients_.find(c);
  if (it == clients_.end()) return;
  ClientApi* api = it->second.api;
  ConnectResponse resp;
  if (valid) {
    resp.session_id = session;
    resp.timeout = timeout;
    it->second.session = session;
    it->second.established = true;
  } else {
    sim().probes.hit(kProbeSessionInvalid);
    log("INFO ", "NIOWorkerThread-1", "ZooKeeperServer@1178",
        fmt::format("Invalid session {} for client {}, probably expired", hex(session),
                    client_addr(c)));
  }
  if (api)
    sim().net.send(
        c, *this, [api, c, resp] { api->on_connect_response(c, resp); }, "ConnectResponse");
  if (!valid) c_close(c);
}

void Peer::c_forward_write(const WriteRequest& w) {
  if (state_ == State::Leading) {
    l_submit(w);
  } else {
    f_send("REQUEST", [w = w](Peer* l, ConnId c) { l->l_on_request(c, w); });
  }
}

void Peer::on_connect_request(ConnId conn, sim::ProcId client, const ConnectRequest& req) {
  if (!clients_.count(conn)) c_on_accept(conn, client);
  auto& cc = clients_[conn];
  if (cc.connect_seen) return;
  cc.connect_seen = true;
  if (!req.has_readonly_byte) {
    log("WARN ", "NIOWorkerThread-2", "ZooKeeperServer@1079",
        fmt::format("Connection request from old client {}; will be dropped if server is in r-o "
                    "mode",
                    client_addr(conn)));
  }
  if (!running_server_) {
    // NIOServerCnxn: "ZooKeeperServer not running" -- the socket is closed.
    c_close(conn);
    return;
  }
  Duration to = negotiate(req.timeout);
  if (req.session_id == 0) {
    ++session_seq_;
    WriteRequest w;
    w.kind = TxnKind::CreateSession;
    w.session = (static_cast<int64_t>(myid_) << 56) | ((current_epoch_ & 0xffff) << 32) |
                static_cast<int64_t>(session_seq_ & 0xffffffff);
    w.timeout = to;
    w.origin_sid = myid_;
    w.origin_conn = conn;
    c_forward_write(w);
    return;
  }
  if (state_ == State::Leading) {
    bool valid = touch(req.session_id, to);
    c_finish_session_init(conn, req.session_id, to, valid);
    return;
  }
  log("INFO ", "NIOWorkerThread-2", "Learner@115", "Revalidating client: " + hex(req.session_id));
  pending_revalidations_[conn] = req.session_id;
  int64_t s = req.session_id;
  f_send("REVALIDATE", [conn, s, to](Peer* l, ConnId c) { l->l_on_revalidate(c, conn, s, to); });
}

void Peer::on_request(ConnId conn, const Request& req) {
  auto it = clients_.find(conn);
  if (it == clients_.end() || !it->second.established || !running_server_) return;
  int64_t session = it->second.session;
  client_touch(session);
  Reply r;
  r.xid = req.xid;
  r.op = req.op;
  r.zxid = tree_.last_zxid;
  switch (req.op) {
    case Op::Ping:
      c_reply(conn, r);
      return;
    case Op::GetChildren: {
      auto n = tree_.nodes.find(req.path);
      if (n == tree_.nodes.end()) {
        r.rc = ZNONODE;
      } else {
        r.children.assign(n->second.children.begin(), n->second.children.end());
        if (req.watch) child_watches_[req.path].insert(conn);
      }
      c_reply(conn, r);
      return;
    }
    case Op::Exists: {
      r.exists = tree_.nodes.count(req.path) > 0;
      if (!r.exists) r.rc = ZNONODE;
      if (req.watch) data_watches_[req.path].insert(conn);
      c_reply(conn, r);
      return;
    }
    case Op::Create:
    case Op::Delete:
    case Op::CloseSession: {
      WriteRequest w;
      w.kind = req.op == Op::Create   ? TxnKind::Create
               : req.op == Op::Delete ? TxnKind::Delete
                                      : TxnKind::CloseSession;
      w.session = session;
      w.path = req.path;
      w.ephemeral = req.ephemeral;
      w.sequential = req.sequential;
      w.origin_sid = myid_;
      w.origin_conn = conn;
      w.xid = req.xid;
      w.op = req.op;
      auto si = tree_.sessions.find(session);
      w.timeout = si == tree_.sessions.end() ? Duration::zero() : si->second;
      c_forward_write(w);
      return;
    }
  }
}

}  // namespace zk
