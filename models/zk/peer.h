// A ZooKeeper 3.8/3.9 quorum peer (QuorumPeer + FastLeaderElection + QuorumCnxManager + Leader /
// Follower + the session tracker and a reduced data tree).
//
// Theory of operation (details and citations: /work/shared/design/ZK-SEMANTICS.md,
// docs/zk-model.md)
//
//  * States. LOOKING runs fast leader election (FLE); its decision moves the peer to LEADING or
//    FOLLOWING, whose Zab phases are discovery -> synchronization -> broadcast. Any failure in
//    following or leading goes back to LOOKING after a short shutdown (no back-off), exactly like
//    QuorumPeer.run's loop.
//  * Election traffic uses one TCP connection per pair of peers on the election port; only the
//    larger sid keeps a connection it did not initiate (QCM's rule), connects are asynchronous
//    with a 5 s timeout, and established election connections never time out on read, so a
//    paused peer keeps its connections and answers its backlog when it resumes.
//  * Zab traffic uses a learner -> leader connection on the quorum port. The follower's read
//    timeout is tickTime*initLimit until NEWLEADER and tickTime*syncLimit afterwards; the leader
//    pings every tickTime/2 and, once per tick, requires a quorum of learners whose last packet
//    is at most syncLimit ticks old ("Not sufficient followers synced").
//  * Clients are served only in broadcast. Writes go through the leader (proposal, quorum of
//    ACKs, commit); each server applies the commit, fires its watches and answers its clients.
//    Only the leader expires sessions (tick-wide buckets); followers forward touches in their ping
//    replies; a new leader re-arms every session at activation.
//  * Everything a thread would do "a little later" (shutdown, leader construction, sync, startup)
//    takes a short random time from the peer's own RNG stream, calibrated to ZK-MEASURED.md.
//
// The model is event driven on the sim engine: every input is a timer or a network delivery
// handled on this process, so pauses and crashes have their real effect (sim/process.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "models/zk/config.h"
#include "models/zk/data_tree.h"
#include "models/zk/proto.h"
#include "sim/process.h"
#include "sim/rng.h"
#include "sim/sim.h"

namespace zk {

class Peer : public sim::Process, public ApiHolder, public ServerApi {
 public:
  enum class State { Looking, Following, Leading };
  enum class Phase { Election, Discovery, Synchronization, Broadcast };

  Peer(sim::Sim& sim, const Config& cfg, std::vector<PeerSpec> ensemble, int myid);
  ~Peer() override;

  // Starts the peer (JVM boot, then LOOKING). Call once after every peer has been constructed.
  void start() { on_start(); }

  // --- queries (fault targeting, checks, tests) -------------------------------------------
  int myid() const { return myid_; }
  State state() const { return state_; }
  Phase phase() const { return phase_; }
  // In broadcast with the client port serving (leader after startZkServer, learner after UPTODATE).
  bool serving() const { return running_server_; }
  int64_t epoch() const { return current_epoch_; }
  int64_t accepted_epoch() const { return accepted_epoch_; }
  int64_t last_zxid() const { return tree_.last_zxid; }
  int leader_id() const { return leader_id_; }
  int64_t logical_clock() const { return logicalclock_; }
  // "following - broadcast" style (QuorumPeer.getDetailedPeerState).
  std::string detailed_state() const;
  const DataTree& tree() const { return tree_; }
  // Leader only: the session tracker's expiry time of a session (nullopt if not tracked).
  std::optional<sim::Time> session_expiry(int64_t session) const;
  // This JVM's clock origin: the simulated time at which its elapsed-time clock
  // (Time.currentElapsedTime) read a multiple of tickTime, in [0, tick). Session expiry buckets
  // are multiples of tickTime on that clock (ExpiryQueue.roundToNextInterval), so their phase
  // relative to pings and elections varies across seeds and restarts.
  sim::Duration clock_origin() const { return clock_origin_; }
  // Learners currently counted as synced by this leader (itself included), sorted.
  std::vector<int> synced_sids() const;

  // --- zk::ApiHolder / zk::ServerApi ------------------------------------------------------
  ServerApi* server_api() override { return this; }
  void on_connect_request(sim::ConnId conn, sim::ProcId client, const ConnectRequest& req) override;
  void on_request(sim::ConnId conn, const Request& req) override;

  // --- wire messages between peers (public so that closures can call them) ---------------
  struct Notification {
    int sid = 0;
    State state = State::Looking;
    int64_t leader = 0;
    int64_t zxid = 0;
    int64_t round = 0;  // electionEpoch (logicalclock)
    int64_t peer_epoch = 0;
  };
  // A client write as the leader receives it (from its own client or forwarded by a learner).
  struct WriteRequest {
    TxnKind kind = TxnKind::Noop;
    int64_t session = 0;
    sim::Duration timeout;
    std::string path;
    bool ephemeral = false;
    bool sequential = false;
    int origin_sid = 0;
    sim::ConnId origin_conn = 0;
    int32_t xid = 0;
    Op op = Op::Ping;
  };

 protected:
  void on_start() override;
  void on_crash() override;
  void on_restart() override;

 private:
  struct Vote {
    int64_t leader = 0;
    int64_t zxid = 0;
    int64_t round = 0;
    int64_t peer_epoch = 0;
    State state = State::Looking;
  };
  struct QcmLink {
    sim::ConnId conn = 0;
    bool connected = false;
    bool connecting = false;
    sim::ConnId connecting_conn = 0;
    std::optional<Notification> pending;    // SEND_CAPACITY = 1
    std::optional<Notification> last_sent;  // re-sent when a connection starts
    std::unique_ptr<sim::Timer> cnx_timer;
  };
  enum class LhStage {
    WaitInfo,
    WaitEpochQuorum,
    WaitAckEpoch,
    WaitSync,
    WaitNewLeaderAck,
    Synced
  };
  struct LearnerHandler {
    sim::ConnId conn = 0;
    int sid = 0;
    std::string remote;  // "/host:port" for logs
    LhStage stage = LhStage::WaitInfo;
    int64_t peer_last_zxid = 0;
    int64_t tick_deadline = 0;
    sim::Time last_packet;
    sim::Duration read_timeout;
    bool forwarding = false;  // receives proposals, commits and pings
    bool uptodate_sent = false;
    std::unique_ptr<sim::Timer> read_timer;
  };
  struct ClientConn {
    sim::ProcId proc = 0;
    ClientApi* api = nullptr;
    int64_t session = 0;
    bool established = false;
    bool connect_seen = false;
  };
  struct Outstanding {
    Txn txn;
    std::set<int> acks;
  };
  enum class LeaderStage { Setup, Epoch, EpochAck, NewLeaderAck, Startup, Broadcast };

  // ---- helpers ----
  sim::Duration draw(sim::Duration lo, sim::Duration hi);
  // Runs `fn` on this process after `d` (same incarnation only). A template so that the closure
  // is stored once, without a std::function wrapping another (per-message cost).
  template <class F>
  void later(sim::Duration d, F&& fn);
  Peer* peer_by_sid(int sid);
  const PeerSpec& spec(int sid) const;
  int quorum_size() const { return static_cast<int>(ensemble_.size()) / 2 + 1; }
  bool is_quorum(const std::set<int>& s) const {
    return static_cast<int>(s.size()) >= quorum_size();
  }
  void set_state(State s, Phase p, const char* sync_mode = nullptr);
  void emit_state(const char* sync_mode);
  const std::string& main_thread();
  // The address of a peer's host as its logs show it (the scenario's host "address").
  const std::string& addr(int sid);
  bool logging() { return sim().logs.enabled(); }
  void draw_clock_origin();
  void log(const char* level, const std::string& thread, const std::string& where,
           const std::string& msg, const std::vector<std::string>& extra = {});
  void logm(const char* level, const std::string& where, const std::string& msg,
            const std::vector<std::string>& extra = {}) {
    if (logging()) log(level, main_thread(), where, msg, extra);
  }
  std::vector<std::string> stack(const std::string& exc, const std::vector<std::string>& frames);

  // ---- QCM ----
  void qcm_start();
  void qcm_send(int sid, const Notification& n);
  void qcm_connect_one(int sid);
  void qcm_connect_all();
  bool qcm_have_delivered() const;
  void qcm_on_connect_result(int sid, sim::ConnId c, sim::NetError e);
  void qcm_register(int sid, sim::ConnId c);
  void qcm_flush(int sid, bool resend_last);
  void qcm_on_accept(sim::ConnId c, sim::ProcId client);
  void qcm_on_message(const Notification& n);
  void qcm_handle(const Notification& n);

  // ---- FLE ----
  void start_looking();
  void fle_receive(const Notification& n);
  void fle_process(const Notification& n);
  void fle_timeout();
  void fle_send_notifications();
  void fle_arm(sim::Duration d);
  bool fle_term(const std::map<int, Vote>& votes, const Vote& v) const;
  bool fle_check_leader(const std::map<int, Vote>& votes, int64_t leader, int64_t round) const;
  void fle_decide(int64_t leader, int64_t zxid, int64_t peer_epoch);
  static bool total_order(int64_t id, int64_t zxid, int64_t ep, int64_t cid, int64_t czxid,
                          int64_t cep);
  static bool vote_equal(const Vote& a, const Vote& b);

  // ---- follower ----
  void start_following(int leader);
  void f_try_connect();
  void f_connect_failed(sim::NetError e);
  void f_on_connected();
  void f_packet();  // bookkeeping for every packet from the leader
  void f_arm_read_timer();
  void f_fail(const std::string& cause);
  template <class F>
  void f_send(std::string_view label, F&& fn);  // to the leader's handler: fn(Peer* leader, ConnId)
 public:
  // Leader -> follower packets (called on the follower's process).
  void f_on_leaderinfo(sim::ConnId c, uint64_t gen, int64_t epoch);
  void f_on_sync(sim::ConnId c, uint64_t gen, std::string mode, std::shared_ptr<const DataTree> t);
  void f_on_newleader(sim::ConnId c, uint64_t gen, int64_t zxid);
  void f_on_uptodate(sim::ConnId c, uint64_t gen);
  void f_on_ping(sim::ConnId c, uint64_t gen);
  void f_on_proposal(sim::ConnId c, uint64_t gen, const Txn& t);
  void f_on_commit(sim::ConnId c, uint64_t gen, int64_t zxid);
  void f_on_revalidate_reply(sim::ConnId c, uint64_t gen, sim::ConnId client, int64_t session,
                             sim::Duration timeout, bool valid);
  void f_on_error_reply(sim::ConnId c, uint64_t gen, sim::ConnId client, int32_t xid, Op op,
                        int rc);
  // Follower -> leader packets (called on the leader's process, `c` = the learner connection).
  void l_on_followerinfo(sim::ConnId c, int sid, int64_t accepted_epoch);
  void l_on_ackepoch(sim::ConnId c, int64_t current_epoch, int64_t last_zxid);
  void l_on_ack(sim::ConnId c, int64_t zxid, bool newleader);
  void l_on_ping_reply(sim::ConnId c, std::map<int64_t, sim::Duration> touches);
  void l_on_request(sim::ConnId c, const WriteRequest& w);
  void l_on_revalidate(sim::ConnId c, sim::ConnId client, int64_t session, sim::Duration timeout);

 private:
  // ---- leader ----
  void start_leading();
  void l_on_accept(sim::ConnId c, sim::ProcId client);
  LearnerHandler* lh(sim::ConnId c);
  void l_packet(LearnerHandler& h);
  void l_arm_read_timer(LearnerHandler& h);
  void l_drop(sim::ConnId c, const std::string& why);
  void l_epoch_decided();
  void l_epoch_acked();
  void l_start_sync(LearnerHandler& h);
  void l_newleader_quorum();
  void l_start_broadcast();
  void l_send_uptodate(LearnerHandler& h);
  void l_tick();
  void l_shutdown(const std::string& reason);
  template <class F>
  void l_send(LearnerHandler& h, std::string_view label,
              F&& fn);  // fn(Peer* follower, ConnId, follower gen)
  void l_submit(const WriteRequest& w);
  void l_try_commit();
  void l_write_load();
  void l_arm_write_load();

  // ---- sessions (leader tracker, follower touch table) ----
  sim::Time round_to_next_bucket(sim::Time t) const;
  bool touch(int64_t session, sim::Duration timeout);  // leader; false if unknown/closing
  void track_all_sessions();
  void arm_session_timer();
  void session_timer_fired();
  void client_touch(int64_t session);

  // ---- client side ----
  void c_on_accept(sim::ConnId c, sim::ProcId client);
  void c_close(sim::ConnId c);
  void c_close_all();
  void c_finish_session_init(sim::ConnId c, int64_t session, sim::Duration timeout, bool valid);
  void c_reply(sim::ConnId c, const Reply& r);
  void c_forward_write(const WriteRequest& w);
  sim::Duration negotiate(sim::Duration requested) const;
  std::string client_addr(sim::ConnId c);

  // ---- common ----
  void apply_committed(const Txn& t);
  void go_looking_after_shutdown();  // shutdown delay, then LOOKING
  void stop_role(bool crashed);      // cancels every role timer and connection

  // ---- configuration ----
  Config cfg_;
  std::vector<PeerSpec> ensemble_;  // sorted by myid
  int myid_;
  sim::Rng rng_;
  sim::Rng clock_rng_;  // "zk/<myid>/clock": the JVM clock origin, redrawn at every (re)start
  sim::Duration clock_origin_;
  std::map<int, Peer*> peers_;  // lazily resolved
  std::string main_thread_;     // cached thread name (built on first use)

  // ---- persistent (survives crash) ----
  int64_t accepted_epoch_ = 0;
  int64_t current_epoch_ = 0;
  DataTree tree_;
  std::vector<Txn> uncommitted_;  // logged proposals not yet committed (replayed on restart)
  uint64_t session_seq_ = 0;

  // ---- volatile ----
  State state_ = State::Looking;
  Phase phase_ = Phase::Election;
  bool running_server_ = false;
  bool shutting_down_ = false;
  bool started_ = false;
  int leader_id_ = -1;
  uint64_t gen_ = 0;  // bumped at every role change; stale callbacks compare it
  Vote current_vote_;

  // QCM
  std::map<int, QcmLink> qcm_;
  sim::Time recv_free_;

  // FLE
  int64_t logicalclock_ = 0;
  Vote proposal_;
  std::map<int, Vote> recvset_, outofelection_;
  sim::Duration not_timeout_;
  bool finalizing_ = false;
  sim::Time fle_start_;
  sim::Time fle_end_;
  sim::Timer fle_timer_;

  // follower
  int f_leader_ = -1;
  sim::ConnId f_conn_ = 0;
  bool f_connected_ = false;
  int f_tries_ = 0;
  sim::Time f_deadline_;
  sim::Time f_connected_at_;
  sim::Time f_last_packet_;
  sim::Duration f_read_timeout_;
  int64_t f_new_epoch_ = 0;
  bool f_synced_ = false;
  sim::Timer f_connect_timer_;
  sim::Timer f_read_timer_;
  std::map<int64_t, sim::Duration> touches_;
  std::map<sim::ConnId, int64_t> pending_revalidations_;

  // leader
  LeaderStage l_stage_ = LeaderStage::Setup;
  int64_t l_epoch_ = 0;
  std::set<int> l_connecting_, l_electing_, l_newleader_acks_;
  std::map<sim::ConnId, std::unique_ptr<LearnerHandler>> lhs_;
  sim::Timer l_wait_timer_;
  sim::Timer l_tick_timer_;
  int64_t l_tick_ = 0;
  bool l_tick_skip_ = true;
  int64_t l_next_zxid_ = 0;
  std::map<int64_t, Outstanding> l_outstanding_;
  DataTree l_prep_tree_;  // committed tree + outstanding changes (PrepRequestProcessor)
  std::set<int64_t> l_closing_;
  std::map<int64_t, sim::Time> l_expiry_;
  sim::Timer l_session_timer_;
  sim::Timer l_write_timer_;

  // clients
  std::map<sim::ConnId, ClientConn> clients_;
  std::map<std::string, std::set<sim::ConnId>> data_watches_, child_watches_;
};

const char* to_string(Peer::State s);
const char* to_string(Peer::Phase p);

}  // namespace zk
