// A small fluent harness for ZooKeeper ensemble tests: builds hosts node1..nodeN and peers
// zk:1..zk:N, injects faults, and reads the trace back.
#pragma once

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/zk/config.h"
#include "models/zk/peer.h"
#include "models/zk/proto.h"
#include "sim/sim.h"
#include "sim/trace.h"

namespace zktest {

using sim::Duration;
using sim::Time;
using zk::Peer;

inline Duration ms(int64_t v) {
  return Duration::ms(v);
}
inline Duration s(int64_t v) {
  return Duration::s(v);
}
inline Time at(Duration d) {
  return Time::zero() + d;
}

class Cluster {
 public:
  explicit Cluster(int n, zk::Config cfg = {}, uint64_t seed = 1) : sim(seed), cfg(cfg) {
    sim.trace.add_sink(&sink);
    std::vector<zk::PeerSpec> ens;
    for (int i = 1; i <= n; ++i) {
      sim.net.add_host(fmt::format("node{}", i));
      ens.push_back({i, fmt::format("node{}", i)});
    }
    for (int i = 1; i <= n; ++i) peers.push_back(std::make_unique<Peer>(sim, cfg, ens, i));
    for (auto& p : peers) p->start();
  }

  Time now() const { return sim.now(); }
  void run_until(Time t) { sim.engine.run(t); }
  void run_until(Duration t) { run_until(at(t)); }
  void run_for(Duration d) { run_until(now() + d); }

  Peer& peer(int id) { return *peers.at(id - 1); }
  int size() const { return static_cast<int>(peers.size()); }
  sim::HostId host(int id) { return sim.net.find_host(fmt::format("node{}", id)); }

  // The peer leading in broadcast (nullptr if none). With two, returns the higher epoch.
  Peer* leader_in_broadcast() {
    Peer* best = nullptr;
    for (auto& p : peers) {
      if (p->running() && p->state() == Peer::State::Leading &&
          p->phase() == Peer::Phase::Broadcast && (!best || p->epoch() > best->epoch())) {
        best = p.get();
      }
    }
    return best;
  }
  int leader() {
    Peer* l = leader_in_broadcast();
    return l ? l->myid() : -1;
  }
  // All running peers are in broadcast under one leader.
  bool stable() {
    int l = leader();
    if (l < 0) return false;
    for (auto& p : peers) {
      if (!p->running()) continue;
      if (p->phase() != Peer::Phase::Broadcast || p->leader_id() != l) return false;
    }
    return true;
  }

  void pause(int id, Duration d) {
    Peer* p = &peer(id);
    p->pause();
    sim.engine.after(d, [p] { p->resume(); });
  }
  void crash(int id, std::optional<Duration> restart_after = std::nullopt) {
    Peer* p = &peer(id);
    p->crash();
    if (restart_after) sim.engine.after(*restart_after, [p] { p->restart(); });
  }
  void ifdown(int id, Duration d) {
    sim::HostId h = host(id);
    sim.net.set_host_up(h, false);
    sim.engine.after(d, [this, h] { sim.net.set_host_up(h, true); });
  }
  // Both directions of every link of the peer's host lose `rate` of the segments for `d`.
  void loss(int id, double rate, Duration d) {
    sim::HostId h = host(id);
    auto set = [this, h](double r) {
      for (int i = 1; i <= size(); ++i) {
        sim::HostId o = host(i);
        if (o == h) continue;
        sim.net.set_link_extra(h, o, Duration::zero(), r);
        sim.net.set_link_extra(o, h, Duration::zero(), r);
      }
    };
    set(rate);
    sim.engine.after(d, [set] { set(0); });
  }
  void partition(const std::vector<std::vector<int>>& groups, Duration d) {
    std::vector<std::vector<sim::HostId>> hg;
    for (const auto& g : groups) {
      hg.emplace_back();
      for (int id : g) hg.back().push_back(host(id));
    }
    sim.net.partition(hg);
    sim.engine.after(d, [this] { sim.net.heal_links(); });
  }

  // ---- trace queries ----
  std::vector<const sim::Record*> records(const std::string& type, Time since = Time::zero(),
                                          const std::string& node = {}) const {
    std::vector<const sim::Record*> out;
    for (const auto& r : sink.records) {
      if (r.type == type && r.t >= since && (node.empty() || r.node == node)) out.push_back(&r);
    }
    return out;
  }
  // First zk.state record at/after `since` matching state/phase (and node if given).
  std::optional<Time> first_state(const std::string& state, const std::string& phase, Time since,
                                  const std::string& node = {}) const {
    for (const auto& r : sink.records) {
      if (r.type != "zk.state" || r.t < since) continue;
      if (!node.empty() && r.node != node) continue;
      if (r.get_str("state") == state && (phase.empty() || r.get_str("phase") == phase)) return r.t;
    }
    return std::nullopt;
  }
  const sim::Record* first_state_rec(const std::string& state, const std::string& phase,
                                     Time since) const {
    for (const auto& r : sink.records) {
      if (r.type == "zk.state" && r.t >= since && r.get_str("state") == state &&
          r.get_str("phase") == phase)
        return &r;
    }
    return nullptr;
  }

  // Safety: at no time two peers leading in broadcast with the same epoch. Checked over the
  // whole trace (records are in time order).
  std::string two_leaders_same_epoch() const {
    std::map<std::string, std::pair<bool, int64_t>> lead;  // node -> (in broadcast, epoch)
    for (const auto& r : sink.records) {
      if (r.type != "zk.state") continue;
      bool b = r.get_str("state") == "LEADING" && r.get_str("phase") == "broadcast";
      lead[r.node] = {b, r.get_int("epoch")};
      std::map<int64_t, std::string> by_epoch;
      for (const auto& [n, v] : lead) {
        if (!v.first) continue;
        if (by_epoch.count(v.second)) {
          return fmt::format("{} and {} both lead epoch {} at {}", by_epoch[v.second], n, v.second,
                             sim::format_time(r.t));
        }
        by_epoch[v.second] = n;
      }
    }
    return {};
  }

  sim::Sim sim;
  zk::Config cfg;
  sim::VectorSink sink;
  std::vector<std::unique_ptr<Peer>> peers;
};

// A scripted client process speaking zk/proto.h (a stand-in for the C client model): connects to
// one server, pings every ST/3 while `pinging`, issues requests and records what comes back.
class TestClient : public sim::Process, public zk::ApiHolder, public zk::ClientApi {
 public:
  TestClient(sim::Sim& sim, const std::string& name, const std::string& host)
      : sim::Process(sim, name, sim.net.find_host(host)), ping_timer_(*this) {}

  zk::ClientApi* client_api() override { return this; }

  void connect(int server_id, Duration timeout, int64_t session = 0) {
    connected = false;
    closed = false;
    requested_timeout_ = timeout;
    sim::HostId h = sim().net.find_host(fmt::format("node{}", server_id));
    conn_ = sim().net.connect(
        *this, h, zk::kClientPort, [this, session](sim::ConnId c, sim::NetError e) {
          if (c != conn_) return;
          if (e != sim::NetError::Ok) {
            closed = true;
            return;
          }
          sim().net.on_close(c, *this, [this, c](sim::NetError) {
            if (c == conn_) {
              closed = true;
              connected = false;
              close_times.push_back(now());
            }
          });
          auto* srv =
              dynamic_cast<zk::ApiHolder*>(sim().process(sim().net.peer(c, *this)))->server_api();
          server_ = srv;
          zk::ConnectRequest req;
          req.session_id = session;
          req.timeout = requested_timeout_;
          sim::ProcId me = id();
          sim().net.send(c, *this, [srv, c, me, req] { srv->on_connect_request(c, me, req); });
        });
  }
  void disconnect() {
    sim().net.close(conn_, *this);
    connected = false;
    ping_timer_.cancel();
  }
  void request(zk::Request r) {
    r.xid = ++xid_;
    auto* srv = server_;
    sim::ConnId c = conn_;
    last_send = now();
    sim().net.send(c, *this, [srv, c, r] { srv->on_request(c, r); });
  }
  void create(const std::string& path, bool ephemeral, bool sequential) {
    zk::Request r;
    r.op = zk::Op::Create;
    r.path = path;
    r.ephemeral = ephemeral;
    r.sequential = sequential;
    request(r);
  }
  void set_pinging(bool on) {
    pinging = on;
    if (on)
      arm_ping();
    else
      ping_timer_.cancel();
  }

  void on_connect_response(sim::ConnId c, const zk::ConnectResponse& resp) override {
    if (c != conn_) return;
    responses.push_back(resp);
    if (resp.session_id != 0) {
      session = resp.session_id;
      negotiated = resp.timeout;
      connected = true;
      if (pinging) arm_ping();
    }
  }
  void on_reply(sim::ConnId c, const zk::Reply& r) override {
    if (c != conn_) return;
    replies.push_back(r);
  }
  void on_watch(sim::ConnId, const zk::WatchEvent& ev) override {
    watches.push_back(ev);
    watch_times.push_back(now());
  }

  bool connected = false;
  bool closed = false;
  bool pinging = true;
  int64_t session = 0;
  Duration negotiated;
  Time last_send;
  std::vector<zk::ConnectResponse> responses;
  std::vector<zk::Reply> replies;
  std::vector<zk::WatchEvent> watches;
  std::vector<Time> watch_times;
  std::vector<Time> close_times;

 private:
  void arm_ping() {
    if (!connected) return;
    ping_timer_.arm(negotiated / 3, [this] {
      if (!connected || !pinging) return;
      zk::Request r;
      r.op = zk::Op::Ping;
      request(r);
      arm_ping();
    });
  }
  sim::Timer ping_timer_;
  sim::ConnId conn_ = 0;
  zk::ServerApi* server_ = nullptr;
  Duration requested_timeout_;
  int32_t xid_ = 0;
};

inline double ms_between(Time a, Time b) {
  return (b - a).to_ms_f();
}

}  // namespace zktest
