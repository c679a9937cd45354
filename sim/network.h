// The network: hosts and directed links on a Boost.Graph graph, and TCP-like connections.
//
// ZooKeeper's timings hinge on what a TCP user sees, so connections model the three outcomes
// that matter (ARCHITECTURE.md): a silent black hole (segments are retransmitted with exponential
// back-off and arrive after the path heals; a reader meanwhile sees nothing and times out), an
// unreachable or downed local interface (connect fails at once: ENETUNREACH / EHOSTUNREACH), and a
// dead process on a live host (connect refused, an established peer sees EOF or a reset).
// Loss (a link's `loss`) is drawn per segment and per attempt, at the time of the attempt: a lost
// segment waits, with every later one of its direction behind it, for its retransmission, so a
// loss that ends lets the next retransmission through, and a loss that lasts times the connection
// out like a black hole. A lost SYN waits for the SYN retransmission (1 s, doubling); resets and
// ICMP errors are not lost.
// Delivery on a connection is FIFO. A paused process's kernel still accepts connections and data;
// the process handles them when it resumes (Process::deliver).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/callback.h"
#include "sim/rng.h"
#include "sim/time.h"

namespace sim {

class Sim;
class Process;
using ProcId = uint32_t;
using HostId = uint32_t;
using ConnId = uint64_t;
inline constexpr HostId kNoHost = UINT32_MAX;

enum class NetError {
  Ok,
  Refused,          // ECONNREFUSED: host up, nothing listening (process dead)
  HostUnreachable,  // EHOSTUNREACH: an ICMP-rejecting partition
  NetUnreachable,   // ENETUNREACH: our own interface is down (ifdown)
  Reset,            // ECONNRESET
  Eof,              // orderly close by the peer
  TimedOut,         // ETIMEDOUT: TCP gave up retransmitting
};
const char* to_string(NetError e);

struct LinkParams {
  Dist latency = Dist::constant(100e-6);  // one-way, seconds
  double loss = 0;                        // per-segment, per-attempt loss probability
};

class Network {
 public:
  explicit Network(Sim& sim);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // --- topology ---------------------------------------------------------------------------
  // Adds a host linked both ways to every existing host (a switched LAN) with the default link.
  HostId add_host(const std::string& name);
  HostId find_host(std::string_view name) const;
  size_t host_count() const;
  const std::string& host_name(HostId h) const;
  // The address shown in logs ("172.16.91.1"); defaults to the host name.
  const std::string& host_address(HostId h) const;
  void set_host_address(HostId h, std::string address);
  void set_default_link(const LinkParams& p);
  void set_link(HostId from, HostId to, const LinkParams& p);
  const LinkParams& link(HostId from, HostId to) const;

  // --- faults -------------------------------------------------------------------------------
  void set_host_up(HostId h, bool up);  // ifdown / ifup
  bool host_up(HostId h) const;
  // One direction cut silently (black hole) or with rejection (EHOSTUNREACH on connect).
  void set_link_up(HostId from, HostId to, bool up, bool reject = false);
  // One direction of one port cut: segments from `from` to `to` on connections whose server
  // (listening) port is `port` are black-holed, and SYNs to that port are lost or, with `reject`,
  // answered with EHOSTUNREACH. Connections on other ports between the same hosts deliver, as
  // with a firewall rule on one port. A connection is matched by the port it was opened to, so
  // both directions of a client's traffic to `port` are covered by cutting both links.
  void set_port_up(HostId from, HostId to, uint16_t port, bool up, bool reject = false);
  // Cuts every link between hosts of different groups (hosts not listed form one more group).
  void partition(const std::vector<std::vector<HostId>>& groups, bool reject = false);
  // Restores every link and port (not host interfaces) and clears extra latency and loss.
  void heal_links();
  void set_link_extra(HostId from, HostId to, Duration extra_latency, double extra_loss);
  // True if a segment sent now from `from` reaches `to`.
  bool deliverable(HostId from, HostId to) const;
  // The same for a segment of a connection opened to `port` (port cuts apply).
  bool deliverable(HostId from, HostId to, uint16_t port) const;

  // --- sockets ------------------------------------------------------------------------------
  using AcceptFn = std::function<void(ConnId, ProcId client)>;
  using ResultFn = std::function<void(ConnId, NetError)>;
  using CloseFn = std::function<void(NetError)>;

  void listen(Process& p, uint16_t port, AcceptFn on_accept);
  void unlisten(Process& p, uint16_t port);
  // Starts a connect; `on_result` runs on `from` with Ok or an error, or never (black hole: the
  // caller's own timeout decides; close() abandons the attempt).
  ConnId connect(Process& from, HostId to, uint16_t port, ResultFn on_result);
  // What the side `p` runs when the peer closes or resets (not called after p's own close()).
  void on_close(ConnId c, Process& p, CloseFn fn);
  // Queues `deliver` to run on the peer process, FIFO with everything else on this connection.
  void send(ConnId c, Process& from, Callback deliver, std::string_view label = {});
  // Orderly close by `p`: the peer sees Eof after what was sent before.
  void close(ConnId c, Process& p);
  bool is_open(ConnId c, const Process& p) const;
  ProcId peer(ConnId c, const Process& p) const;

  void on_process_crash(Process& p);

  uint64_t segments_sent() const { return segments_; }

 private:
  struct HostProps {
    std::string name;
    bool up = true;
    std::string address;
  };
  struct PortCut {
    uint16_t port;
    bool reject;
  };
  struct LinkProps {
    LinkParams params;
    bool up = true;
    bool reject = false;
    Duration extra_latency;
    double extra_loss = 0;
    std::vector<PortCut> port_cuts;  // few (usually none): a linear search is cheapest
  };
  // The Boost.Graph graph of hosts (vertices) and links (edges), defined in network.cc so that
  // the many files including this header do not compile Boost.Graph.
  struct Topology;

  enum class SegKind : uint8_t { Data, Fin, Rst, SynAck };
  // A FIFO on a vector that allocates only when first used (most connections carry few segments
  // at a time; std::deque allocates a map and a block up front).
  template <class T>
  class Fifo {
   public:
    void push_back(T&& v) { v_.push_back(std::move(v)); }
    T& front() { return v_[head_]; }
    void pop_front() {
      if (++head_ == v_.size()) {
        v_.clear();
        head_ = 0;
      } else if (head_ >= 64 && head_ * 2 >= v_.size()) {
        // Never empty for long (a steady stream): drop the consumed prefix.
        v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }
    bool empty() const { return head_ == v_.size(); }
    void clear() {
      v_.clear();
      head_ = 0;
    }

   private:
    std::vector<T> v_;
    size_t head_ = 0;
  };
  struct Segment {
    SegKind kind;
    Callback fn;
    uint64_t flow = 0;
    std::string label;  // only for traced messages (flow != 0)
  };
  struct Side {
    ProcId proc = UINT32_MAX;
    uint64_t inc = 0;
    HostId host = kNoHost;
    bool open = false;
    CloseFn on_close;
    // Outbound direction from this side.
    std::vector<Segment> backlog;  // taken whole when it can go out
    // Transmitted, not yet arrived, in arrival order (FIFO per direction): the arrival events
    // carry only the connection and side, not the payload.
    Fifo<Segment> in_flight;
    // Inbound data that arrived while this side's process was paused, in arrival order: the
    // process's queued inputs only say "take the next one" (a closure holding the payload would
    // not fit the queue's inline storage). Cleared when the process crashes.
    Fifo<Callback> held;
    bool retry_pending = false;
    int retries = 0;
    Duration rto;
    Time last_arrival;
  };
  struct Conn {
    Side side[2];  // 0 = connector, 1 = acceptor
    uint16_t port = 0;
    bool established = false;
    bool connecting = true;
    int syn_retries = 0;
    ResultFn on_result;
  };
  struct Listener {
    ProcId proc;
    uint64_t inc;
    HostId host;
    uint16_t port;
    AcceptFn fn;
  };

  LinkProps& props(HostId from, HostId to);
  const LinkProps& props(HostId from, HostId to) const;
  void rebuild_edges();
  const PortCut* port_cut(HostId from, HostId to, uint16_t port) const;
  bool rejects(HostId from, HostId to, uint16_t port) const;
  Duration sample_delay(HostId from, HostId to);  // one-way latency, no loss
  // Whether the link drops this attempt (draws only on a lossy link).
  bool loses(HostId from, HostId to);
  void push(ConnId c, int s, Segment&& seg);
  // Puts a segment on the wire; false when the link lost it: it went to the backlog (empty before)
  // and its retransmission is scheduled.
  bool transmit(ConnId c, int s, Segment&& seg);
  void send_now(ConnId c, int s, Segment&& seg);
  void schedule_retry(ConnId c, int s);
  void arrive(ConnId c, int to_side, Segment&& seg);
  void send_syn(ConnId c);
  void syn_arrive(ConnId c);
  void result(ConnId c, NetError e);
  void raw_rst(ConnId c, int from_side);
  bool side_alive(const Side& s) const;

  Sim& sim_;
  Rng rng_;
  std::unique_ptr<Topology> topo_;
  LinkParams default_link_;
  std::deque<Conn> conns_;  // stable addresses; Segments are move-only
  std::vector<Listener> listeners_;
  uint64_t segments_ = 0;
};

}  // namespace sim
