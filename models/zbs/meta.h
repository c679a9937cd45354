// The ZBS meta server (zbs-metad) as far as leadership goes: its QuorumCluster wrapper around the
// ZooKeeper C client, the local session timer, and leader election through an
// EPHEMERAL_SEQUENTIAL znode.
//
// Theory of operation (docs/meta-model.md has the long version).
//   - QuorumCluster states: Running (session connected), Running_Connecting (connection lost, the
//     session may still be alive), Expired, Stopped. A (re)start goes Stopped -> Running_Connecting
//     and the first CONNECTED makes it Running.
//   - On the C client's CONNECTED -> CONNECTING event the wrapper starts its *local* session timer
//     ("Start the session timeout timer: 3600"); a reconnect stops it. When it fires, or when the
//     client reports a real EXPIRED (a server answered a reconnect with an invalid session), the
//     quorum server stops ("Sending stopping signal to upper layer."): the meta stops leading and
//     serving at that instant, closes its ZooKeeper handle and rejoins with a new session after
//     `rejoin_delay`.
//   - Election (ZK-SEMANTICS §5 recipe): create <election_path>/meta-<host>-<gen>_NNNNNNNNNN,
//     list the children; the lowest sequence leads ("[ROLE CHANGE] I am the leader now.  seq is
//     N"), the others watch their predecessor with exists(watch) and re-list when it goes. The
//     model's protocol has no SetWatches, so after a reconnect of the same session the meta lists
//     again instead of relying on re-registered watches.
//   - The split brain: while CONNECTING the old leader keeps leading until its local timer fires,
//     while ZooKeeper expires its session (ST < t <= ST + tick after the last touch at the leader)
//     and the successor's watch fires. Whoever is earlier decides between an overlap (two leaders)
//     and a gap (none).
// The meta also answers the detector's GetMetaSummary RPC on `rpc_port` (10100).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/zk/client.h"
#include "models/zk/proto.h"
#include "sim/process.h"
#include "sim/rng.h"
#include "sim/sim.h"

namespace zbs {

struct MetaConfig {
  std::vector<zk::ServerAddr> servers;                  // the ZooKeeper ensemble
  sim::Duration session_timeout = sim::Duration::s(6);  // requested from ZooKeeper
  sim::Duration local_timer = sim::Duration::ms(3600);  // the wrapper's session timeout timer
  // Assumption: after stopping, zbs-metad restarts its quorum server (a new ZooKeeper handle and
  // session) one second later; the seeds do not show this delay.
  sim::Duration rejoin_delay = sim::Duration::s(1);
  // Between the role change and "Meta rpc server starts" (the seed shows 0-290 ms); leadership
  // counts from the role change.
  sim::Duration rpc_start_delay = sim::Duration::zero();
  std::string election_path = "/zbs/meta/election";
  uint16_t rpc_port = 10100;
  bool zookeeper_2466_double_advance = true;
  bool old_34_client = false;
  bool deterministic_conn_order = false;
};

struct MetaSummary {
  bool is_leader = false;
  std::string quorum_state;
  int64_t seq = -1;
};

// Whoever asks a meta for its summary (the detector) implements this.
class SummaryClient {
 public:
  virtual ~SummaryClient() = default;
  virtual void on_meta_summary(sim::ConnId conn, uint64_t key, const MetaSummary& s) = 0;
};

class Meta : public sim::Process, public zk::ApiHolder {
 public:
  enum class Role { Stopped, Candidate, Leader };

  // Process name "meta:<host name>". Call start() (or let the world do it) to boot it.
  Meta(sim::Sim& sim, sim::HostId host, MetaConfig cfg);
  ~Meta() override;

  void start();

  // Believes it leads AND serves: from the role change to the stop.
  bool is_leader() const { return leading_; }
  // "Running", "Running_Connecting", "Expired", "Stopped".
  const std::string& quorum_state() const { return quorum_; }
  // The sequence number of its current election znode, -1 if none.
  int64_t seq() const { return seq_; }
  Role role() const { return role_; }
  const std::string& election_node() const { return my_node_; }
  int sessions_started() const { return session_gen_; }
  zk::Client* client() { return client_.get(); }
  const MetaConfig& config() const { return cfg_; }

  zk::ClientApi* client_api() override { return client_.get(); }

  // GetMetaSummary: answers on `conn` to the SummaryClient process `from`.
  void serve_summary(sim::ConnId conn, sim::ProcId from, uint64_t key);

 protected:
  void on_start() override;
  void on_crash() override;

 private:
  void start_quorum();
  void on_session(int state);
  void on_watch(const zk::WatchEvent& ev);
  void on_local_timer();
  void expire(bool local);
  void set_quorum(const std::string& to);
  void set_role(Role r);
  void set_leading(bool on);
  // Election steps.
  void election_connected();
  void ensure_parents(size_t depth);
  void create_node();
  void find_own_node();
  void check();
  void become_leader();
  std::string node_prefix() const;
  // glog line on this host's zbs-metad.log.
  void glog(char sev, int tid, const char* file, int line, const std::string& msg);
  void zoo_log(zk::ZooLogLevel level, std::string_view func, int line, const std::string& text);

  MetaConfig cfg_;
  std::string host_name_;
  std::string address_;
  sim::Rng log_rng_;
  int pid_ = 0;
  int tid_quorum_ = 0;
  int tid_io_ = 0;
  int tid_rpc_ = 0;
  uint64_t thread_handle_ = 0;
  int64_t last_log_ns_ = 0;
  bool glog_header_ = false;  // glog's file header, written before the first line

  std::unique_ptr<zk::Client> client_;
  std::vector<std::unique_ptr<zk::Client>> retired_;  // closed handles of earlier sessions
  int session_gen_ = 0;
  uint64_t gen_ = 0;  // bumped on every stop: stale completions are ignored
  int zk_state_ = zk::CONNECTING_STATE;
  std::string quorum_ = "Stopped";
  sim::Timer local_timer_;
  sim::Timer rejoin_timer_;
  sim::Timer rpc_timer_;

  Role role_ = Role::Stopped;
  bool leading_ = false;
  bool creating_ = false;
  bool create_uncertain_ = false;
  std::string my_node_;      // child name with its sequence suffix
  std::string predecessor_;  // child name being watched
  int64_t seq_ = -1;
};

// The sequence number of an election child name ("meta-node2-1_0000000053" -> 53), -1 if none.
int64_t parse_seq(const std::string& child);

}  // namespace zbs
