#include "sim/network.h"

#include <boost/graph/adjacency_list.hpp>

#include <algorithm>

#include "sim/check.h"
#include "sim/sim.h"

namespace sim {
namespace {

constexpr Duration kInitialRto = Duration::ms(200);  // Linux TCP_RTO_MIN
constexpr Duration kMaxRto = Duration::s(120);       // Linux TCP_RTO_MAX
constexpr int kMaxRetries = 15;                      // net.ipv4.tcp_retries2
// Rare paths (sim/probe.h): TCP's own timeouts, which only long black holes reach.
// A connect gives up after tcp_syn_retries (ETIMEDOUT).
const ProbeSite kProbeSynTimeout{"net.tcp.syn_timeout"};
// An established connection gives up retransmitting (ETIMEDOUT after tcp_retries2).
const ProbeSite kProbeRetransmitTimeout{"net.tcp.retransmit_timeout"};
// A retransmission gets through: segments held back by a black hole, or behind one the link lost,
// go out.
const ProbeSite kProbeRetransmitHealed{"net.tcp.retransmit_delivered"};
constexpr int kMaxSynRetries = 6;             // net.ipv4.tcp_syn_retries
constexpr Duration kSynRto = Duration::s(1);  // Linux initial SYN RTO

}  // namespace

const char* to_string(NetError e) {
  switch (e) {
    case NetError::Ok:
      return "ok";
    case NetError::Refused:
      return "ECONNREFUSED";
    case NetError::HostUnreachable:
      return "EHOSTUNREACH";
    case NetError::NetUnreachable:
      return "ENETUNREACH";
    case NetError::Reset:
      return "ECONNRESET";
    case NetError::Eof:
      return "EOF";
    case NetError::TimedOut:
      return "ETIMEDOUT";
  }
  return "?";
}

struct Network::Topology {
  using Graph =
      boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, HostProps, LinkProps>;
  using Edge = Graph::edge_descriptor;
  Graph g;
  std::vector<Edge> edges;  // dense (from, to) -> edge
  size_t stride = 0;
};

Network::Network(Sim& sim) : sim_(sim), rng_(sim.rng("net")), topo_(std::make_unique<Topology>()) {}

Network::~Network() = default;

size_t Network::host_count() const {
  return boost::num_vertices(topo_->g);
}

const std::string& Network::host_name(HostId h) const {
  return topo_->g[h].name;
}

const std::string& Network::host_address(HostId h) const {
  const HostProps& p = topo_->g[h];
  return p.address.empty() ? p.name : p.address;
}

void Network::set_host_address(HostId h, std::string address) {
  topo_->g[h].address = std::move(address);
}

bool Network::host_up(HostId h) const {
  return topo_->g[h].up;
}

Network::LinkProps& Network::props(HostId from, HostId to) {
  return topo_->g[topo_->edges[from * topo_->stride + to]];
}

const Network::LinkProps& Network::props(HostId from, HostId to) const {
  return topo_->g[topo_->edges[from * topo_->stride + to]];
}

HostId Network::add_host(const std::string& name) {
  SIM_CHECK(find_host(name) == kNoHost, "duplicate host {}", name);
  auto& g = topo_->g;
  HostId h = static_cast<HostId>(boost::add_vertex(HostProps{name, true, {}}, g));
  LinkProps lp;
  lp.params = default_link_;
  for (HostId o = 0; o <= h; ++o) {
    boost::add_edge(h, o, lp, g);
    if (o != h) boost::add_edge(o, h, lp, g);
  }
  rebuild_edges();
  return h;
}

void Network::rebuild_edges() {
  auto& t = *topo_;
  t.stride = boost::num_vertices(t.g);
  t.edges.assign(t.stride * t.stride, Topology::Edge{});
  for (auto [it, end] = boost::edges(t.g); it != end; ++it) {
    t.edges[boost::source(*it, t.g) * t.stride + boost::target(*it, t.g)] = *it;
  }
}

HostId Network::find_host(std::string_view name) const {
  for (HostId h = 0; h < host_count(); ++h) {
    if (topo_->g[h].name == name) return h;
  }
  return kNoHost;
}

void Network::set_default_link(const LinkParams& p) {
  default_link_ = p;
  auto& g = topo_->g;
  for (auto [it, end] = boost::edges(g); it != end; ++it) g[*it].params = p;
}

void Network::set_link(HostId from, HostId to, const LinkParams& p) {
  props(from, to).params = p;
}

const LinkParams& Network::link(HostId from, HostId to) const {
  return props(from, to).params;
}

void Network::set_host_up(HostId h, bool up) {
  topo_->g[h].up = up;
}

void Network::set_link_up(HostId from, HostId to, bool up, bool reject) {
  auto& l = props(from, to);
  l.up = up;
  l.reject = !up && reject;
}

void Network::set_port_up(HostId from, HostId to, uint16_t port, bool up, bool reject) {
  auto& cuts = props(from, to).port_cuts;
  std::erase_if(cuts, [port](const PortCut& pc) { return pc.port == port; });
  if (!up) cuts.push_back(PortCut{port, reject});
}

const Network::PortCut* Network::port_cut(HostId from, HostId to, uint16_t port) const {
  for (const auto& pc : props(from, to).port_cuts) {
    if (pc.port == port) return &pc;
  }
  return nullptr;
}

bool Network::rejects(HostId from, HostId to, uint16_t port) const {
  if (props(from, to).reject) return true;
  const PortCut* pc = port_cut(from, to, port);
  return pc && pc->reject;
}

void Network::partition(const std::vector<std::vector<HostId>>& groups, bool reject) {
  std::vector<size_t> group(host_count(), groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    for (HostId h : groups[i]) group[h] = i;
  }
  for (HostId a = 0; a < host_count(); ++a) {
    for (HostId b = 0; b < host_count(); ++b) {
      if (group[a] != group[b]) set_link_up(a, b, false, reject);
    }
  }
}

void Network::heal_links() {
  auto& g = topo_->g;
  for (auto [it, end] = boost::edges(g); it != end; ++it) {
    LinkProps& l = g[*it];
    l.up = true;
    l.reject = false;
    l.extra_latency = Duration::zero();
    l.extra_loss = 0;
    l.port_cuts.clear();
  }
}

void Network::set_link_extra(HostId from, HostId to, Duration extra_latency, double extra_loss) {
  auto& l = props(from, to);
  l.extra_latency = extra_latency;
  l.extra_loss = extra_loss;
}

bool Network::deliverable(HostId from, HostId to) const {
  return host_up(from) && host_up(to) && props(from, to).up;
}

bool Network::deliverable(HostId from, HostId to, uint16_t port) const {
  return deliverable(from, to) && port_cut(from, to, port) == nullptr;
}

Duration Network::sample_delay(HostId from, HostId to) {
  const auto& l = props(from, to);
  double s = l.params.latency.sample(rng_);
  return Duration::ns(static_cast<int64_t>(std::max(0.0, s) * 1e9)) + l.extra_latency;
}

bool Network::loses(HostId from, HostId to) {
  const auto& l = props(from, to);
  double loss = std::min(0.99, l.params.loss + l.extra_loss);
  return loss > 0 && rng_.bernoulli(loss);
}

bool Network::side_alive(const Side& s) const {
  Process* p = sim_.process(s.proc);
  return p->alive() && p->incarnation() == s.inc;
}

void Network::listen(Process& p, uint16_t port, AcceptFn on_accept) {
  unlisten(p, port);
  listeners_.push_back(Listener{p.id(), p.incarnation(), p.host(), port, std::move(on_accept)});
}

void Network::unlisten(Process& p, uint16_t port) {
  std::erase_if(listeners_, [&](const Listener& l) { return l.proc == p.id() && l.port == port; });
}

ConnId Network::connect(Process& from, HostId to, uint16_t port, ResultFn on_result) {
  ConnId c = conns_.size();
  conns_.emplace_back();
  Conn& cn = conns_.back();
  cn.port = port;
  cn.on_result = std::move(on_result);
  Side& s0 = cn.side[0];
  s0.proc = from.id();
  s0.inc = from.incarnation();
  s0.host = from.host();
  s0.open = true;
  s0.rto = kInitialRto;
  cn.side[1].host = to;
  cn.side[1].rto = kInitialRto;
  if (!host_up(from.host())) {
    // No route: the kernel answers at once.
    sim_.engine.after(Duration::zero(), [this, c] { result(c, NetError::NetUnreachable); });
    return c;
  }
  send_syn(c);
  return c;
}

void Network::send_syn(ConnId c) {
  Conn& cn = conns_[c];
  HostId a = cn.side[0].host, b = cn.side[1].host;
  if (!cn.connecting || !cn.side[0].open) return;
  if (!host_up(a)) {
    result(c, NetError::NetUnreachable);
    return;
  }
  // A lossy link may drop the SYN: then it is retransmitted like one sent into a black hole.
  bool lost = loses(a, b);
  if (!lost && rejects(a, b, cn.port)) {
    sim_.engine.after(sample_delay(a, b), [this, c] { result(c, NetError::HostUnreachable); });
    return;
  }
  if (!lost && deliverable(a, b, cn.port)) {
    ++segments_;
    sim_.engine.after(sample_delay(a, b), [this, c] { syn_arrive(c); });
    return;
  }
  // SYN lost (a black hole or the link's loss): retransmit with back-off, then give up one back-off
  // after the last retransmission (Linux, tcp_syn_retries = 6: SYNs at 0, 1, 3, ..., 63 s;
  // ETIMEDOUT at 127 s).
  if (cn.syn_retries > kMaxSynRetries) {
    sim_.probes.hit(kProbeSynTimeout);
    result(c, NetError::TimedOut);
    return;
  }
  Duration wait = kSynRto * (int64_t{1} << cn.syn_retries);
  ++cn.syn_retries;
  sim_.engine.after(wait, [this, c] { send_syn(c); });
}

void Network::syn_arrive(ConnId c) {
  Conn& cn = conns_[c];
  if (!cn.connecting) return;
  HostId b = cn.side[1].host;
  auto it = std::find_if(listeners_.begin(), listeners_.end(), [&](const Listener& l) {
    if (l.host != b || l.port != cn.port) return false;
    Process* p = sim_.process(l.proc);
    return p->alive() && p->incarnation() == l.inc;
  });
  if (it == listeners_.end()) {
    // Nothing listening: the host's kernel resets.
    raw_rst(c, 1);
    return;
  }
  // The kernel completes the handshake even if the listening process is paused.
  Side& s1 = cn.side[1];
  s1.proc = it->proc;
  s1.inc = it->inc;
  s1.open = true;
  s1.last_arrival = sim_.now();
  cn.established = true;
  // The SYN-ACK leaves before the process sees the connection: a server that closes it at once
  // (a ZooKeeper peer refusing a smaller sid's election connection, a leader that stepped down)
  // sends its FIN behind the SYN-ACK, so the connector's connect succeeds and then reads EOF, as
  // in TCP. (Handing the connection over first put the FIN ahead: the connect hung to its timeout.)
  push(c, 1, Segment{SegKind::SynAck, nullptr, 0, {}});
  Process* server = sim_.process(it->proc);
  AcceptFn accept = it->fn;
  ProcId client = cn.side[0].proc;
  server->deliver([this, c, accept, client] {
    if (conns_[c].side[1].open) accept(c, client);
  });
}

void Network::result(ConnId c, NetError e) {
  Conn& cn = conns_[c];
  if (!cn.connecting) return;
  cn.connecting = false;
  Side& s0 = cn.side[0];
  if (!s0.open || !side_alive(s0)) return;
  if (e != NetError::Ok) s0.open = false;
  ResultFn fn = cn.on_result;
  Process* p = sim_.process(s0.proc);
  p->deliver([this, c, fn, e] {
    if (e != NetError::Ok || conns_[c].side[0].open) fn(c, e);
  });
  if (e == NetError::Ok) {
    // Data queued before the handshake completed goes out now.
    if (!s0.backlog.empty() && !s0.retry_pending) {
      auto q = std::move(s0.backlog);
      s0.backlog.clear();
      for (auto& seg : q) push(c, 0, std::move(seg));
    }
  }
}

void Network::raw_rst(ConnId c, int from_side) {
  Conn& cn = conns_[c];
  HostId a = cn.side[from_side].host, b = cn.side[1 - from_side].host;
  if (!deliverable(a, b, cn.port)) return;
  sim_.engine.after(sample_delay(a, b), [this, c, from_side] {
    Conn& cn = conns_[c];
    if (from_side == 1 && cn.connecting) {
      result(c, NetError::Refused);
      return;
    }
    arrive(c, 1 - from_side, Segment{SegKind::Rst, nullptr, 0, {}});
  });
}

void Network::on_close(ConnId c, Process& p, CloseFn fn) {
  Conn& cn = conns_[c];
  int s = cn.side[0].proc == p.id() && cn.side[0].inc == p.incarnation() ? 0 : 1;
  cn.side[s].on_close = std::move(fn);
}

bool Network::is_open(ConnId c, const Process& p) const {
  if (c >= conns_.size()) return false;
  const Conn& cn = conns_[c];
  for (const auto& s : cn.side) {
    if (s.proc == p.id() && s.inc == p.incarnation()) return s.open;
  }
  return false;
}

ProcId Network::peer(ConnId c, const Process& p) const {
  const Conn& cn = conns_[c];
  return cn.side[0].proc == p.id() ? cn.side[1].proc : cn.side[0].proc;
}

void Network::send(ConnId c, Process& from, Callback deliver, std::string_view label) {
  Conn& cn = conns_[c];
  int s = cn.side[0].proc == from.id() && cn.side[0].inc == from.incarnation() ? 0 : 1;
  if (!cn.side[s].open) return;
  uint64_t flow = 0;
  if (sim_.trace.messages() && !label.empty()) {
    flow = sim_.trace.next_span_id();
    Rec(sim_.trace, sim_.now(), "net.send", from.name())
        .f("msg", std::string(label))
        .f("conn", static_cast<int64_t>(c))
        .flow(SpanKind::FlowOut, flow)
        .emit();
  }
  push(c, s, Segment{SegKind::Data, std::move(deliver), flow, flow ? std::string(label) : ""});
}

void Network::close(ConnId c, Process& p) {
  if (c >= conns_.size()) return;
  Conn& cn = conns_[c];
  int s = cn.side[0].proc == p.id() && cn.side[0].inc == p.incarnation() ? 0 : 1;
  if (!cn.side[s].open) return;
  cn.side[s].open = false;
  cn.side[s].on_close = nullptr;
  if (s == 0 && cn.connecting) {
    cn.connecting = false;  // abandoned connect: a late SYN-ACK will be answered with a reset
    return;
  }
  push(c, s, Segment{SegKind::Fin, nullptr, 0, {}});
}

void Network::on_process_crash(Process& p) {
  std::erase_if(listeners_, [&](const Listener& l) { return l.proc == p.id(); });
  for (ConnId c = 0; c < conns_.size(); ++c) {
    Conn& cn = conns_[c];
    for (int s = 0; s < 2; ++s) {
      Side& sd = cn.side[s];
      if (sd.proc != p.id()) continue;
      sd.held.clear();  // the process's queued inputs that would take them are gone
      if (!sd.open) continue;
      // The kernel closes a dead process's sockets: the peer sees EOF once the FIN gets through.
      sd.open = false;
      sd.on_close = nullptr;
      if (s == 0 && cn.connecting) {
        cn.connecting = false;
        continue;
      }
      push(c, s, Segment{SegKind::Fin, nullptr, 0, {}});
    }
  }
}

void Network::push(ConnId c, int s, Segment&& seg) {
  Conn& cn = conns_[c];
  Side& sd = cn.side[s];
  bool handshake_done = s == 1 || cn.established;
  HostId a = sd.host, b = cn.side[1 - s].host;
  if (!handshake_done || !sd.backlog.empty() || sd.retry_pending || !deliverable(a, b, cn.port)) {
    sd.backlog.push_back(std::move(seg));
    if (handshake_done && !sd.retry_pending) schedule_retry(c, s);
    return;
  }
  transmit(c, s, std::move(seg));
}

void Network::schedule_retry(ConnId c, int s) {
  Side& sd = conns_[c].side[s];
  sd.retry_pending = true;
  sim_.engine.after(sd.rto, [this, c, s] {
    Conn& cn = conns_[c];
    Side& sd = cn.side[s];
    sd.retry_pending = false;
    HostId a = sd.host, b = cn.side[1 - s].host;
    // The retransmission gets through if the path is open and the link's loss, as it is now, spares
    // it. (Handshake data queued behind the SYN does not wait here: result() pushes it.)
    if (deliverable(a, b, cn.port) && !loses(a, b)) {
      sim_.probes.hit(kProbeRetransmitHealed);
      sd.rto = kInitialRto;
      sd.retries = 0;
      auto q = std::move(sd.backlog);
      sd.backlog.clear();
      SIM_CHECK(!q.empty(), "retransmission on connection {} side {} with nothing queued", c, s);
      send_now(c, s, std::move(q.front()));
      // The rest follow; one the link loses starts a new wait, with the ones after it behind it.
      size_t i = 1;
      while (i < q.size() && transmit(c, s, std::move(q[i]))) ++i;
      for (++i; i < q.size(); ++i) sd.backlog.push_back(std::move(q[i]));
      return;
    }
    if (++sd.retries > kMaxRetries) {
      // TCP gives up: the local side sees ETIMEDOUT; whatever was queued is lost.
      sim_.probes.hit(kProbeRetransmitTimeout);
      sd.backlog.clear();
      if (sd.open && side_alive(sd)) {
        sd.open = false;
        CloseFn fn = std::move(sd.on_close);
        if (fn) sim_.process(sd.proc)->deliver([fn] { fn(NetError::TimedOut); });
      }
      return;
    }
    sd.rto = std::min(sd.rto * 2, kMaxRto);
    schedule_retry(c, s);
  });
}

bool Network::transmit(ConnId c, int s, Segment&& seg) {
  Conn& cn = conns_[c];
  Side& sd = cn.side[s];
  if (loses(sd.host, cn.side[1 - s].host)) {
    sd.backlog.push_back(std::move(seg));
    if (!sd.retry_pending) schedule_retry(c, s);
    return false;
  }
  send_now(c, s, std::move(seg));
  return true;
}

void Network::send_now(ConnId c, int s, Segment&& seg) {
  Conn& cn = conns_[c];
  Side& sd = cn.side[s];
  HostId a = sd.host, b = cn.side[1 - s].host;
  ++segments_;
  Time arrival = sim_.now() + sample_delay(a, b);
  // FIFO per direction: a segment never overtakes the one sent before it.
  if (arrival < sd.last_arrival) arrival = sd.last_arrival;
  sd.last_arrival = arrival;
  sd.in_flight.push_back(std::move(seg));
  sim_.engine.at(arrival, [this, c, s] {
    // Arrival events of one direction run in transmit order (non-decreasing times, FIFO ties).
    Side& from = conns_[c].side[s];
    Segment seg = std::move(from.in_flight.front());
    from.in_flight.pop_front();
    arrive(c, 1 - s, std::move(seg));
  });
}

void Network::arrive(ConnId c, int to_side, Segment&& seg) {
  Conn& cn = conns_[c];
  Side& rx = cn.side[to_side];
  if (seg.kind == SegKind::SynAck) {
    if (cn.side[0].open && cn.connecting) {
      result(c, NetError::Ok);
    } else if (!cn.side[0].open) {
      raw_rst(c, 0);  // the connector gave up: reset the half-open server side
    }
    return;
  }
  bool alive = rx.proc != UINT32_MAX && side_alive(rx);
  if (!rx.open || !alive) {
    if (seg.kind == SegKind::Data) raw_rst(c, to_side);
    return;
  }
  Process* p = sim_.process(rx.proc);
  if (seg.kind == SegKind::Data) {
    if (seg.flow != 0) {
      Rec(sim_.trace, sim_.now(), "net.recv", p->name())
          .f("msg", seg.label)
          .f("conn", static_cast<int64_t>(c))
          .flow(SpanKind::FlowIn, seg.flow)
          .emit();
    }
    if (p->running()) {
      seg.fn();
      return;
    }
    rx.held.push_back(std::move(seg.fn));
    p->deliver([this, c, to_side] {
      Side& rx = conns_[c].side[to_side];
      Callback fn = std::move(rx.held.front());
      rx.held.pop_front();
      // The receiver may have closed the connection while this waited in a pause.
      if (rx.open) fn();
    });
    return;
  }
  // FIN or RST: the connection is over for this side too. (Never before the SYN-ACK: the server
  // side sends it behind one, in order.)
  SIM_CHECK(!(to_side == 0 && cn.connecting),
            "connection {}: FIN or RST reached a connector still waiting for its SYN-ACK", c);
  NetError e = seg.kind == SegKind::Fin ? NetError::Eof : NetError::Reset;
  p->deliver([this, c, to_side, e] {
    Side& rx = conns_[c].side[to_side];
    if (!rx.open) return;
    rx.open = false;
    CloseFn fn = std::move(rx.on_close);
    if (fn) fn(e);
  });
}

}  // namespace sim
