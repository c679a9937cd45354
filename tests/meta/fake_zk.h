// A small stand-in for a ZooKeeper ensemble, for unit tests of the C client and the meta model
// without zk::Peer: one shared data tree and session table (FakeEnsemble) served by FakeServer
// processes, one per host. Sessions expire exactly `timeout` after the last touch (no tick
// buckets) unless a test sets `expiry_bucket`; ephemerals go with their session and fire
// NodeDeleted watches. A server can be Serving, Looking (accepts, reads the ConnectRequest, closes:
// "ZooKeeperServer not running") or Silent (accepts and never answers, like a paused JVM whose
// kernel still takes bytes).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/zk/proto.h"
#include "sim/process.h"
#include "sim/sim.h"

namespace fakezk {

class FakeServer;

struct FakeEnsemble {
  explicit FakeEnsemble(sim::Sim& s) : sim(s) { nodes["/"] = Node{}; }

  struct Session {
    sim::Duration timeout;
    sim::Time last_touch;
    bool alive = true;
    sim::EventId expiry;
  };
  struct Node {
    int64_t owner = 0;
    int64_t cversion = 0;
  };
  struct Watch {
    FakeServer* server;
    sim::ConnId conn;
    bool child;
  };

  sim::Sim& sim;
  sim::Duration min_st = sim::Duration::s(4);
  sim::Duration max_st = sim::Duration::s(40);
  sim::Duration expiry_bucket = sim::Duration::zero();  // 0: exact expiry at last touch + ST
  bool expire_sessions = true;
  std::map<int64_t, Session> sessions;
  std::map<std::string, Node> nodes;
  std::multimap<std::string, Watch> watches;
  std::vector<std::pair<sim::Time, int64_t>> expired;  // (when, session)
  int64_t next_session = 0x1000;
  int64_t zxid = 0;

  static std::string parent_of(const std::string& p) {
    auto i = p.rfind('/');
    return i == 0 ? "/" : p.substr(0, i);
  }
  std::vector<std::string> children(const std::string& p) const {
    std::vector<std::string> out;
    std::string prefix = p == "/" ? "/" : p + "/";
    for (const auto& [path, n] : nodes) {
      if (path.size() > prefix.size() && path.rfind(prefix, 0) == 0 &&
          path.find('/', prefix.size()) == std::string::npos) {
        out.push_back(path.substr(prefix.size()));
      }
    }
    return out;
  }
  int64_t create_session(sim::Duration requested) {
    int64_t id = next_session++;
    Session s;
    s.timeout = std::clamp(requested, min_st, max_st);
    sessions[id] = s;
    touch(id);
    return id;
  }
  bool valid(int64_t id) const {
    auto it = sessions.find(id);
    return it != sessions.end() && it->second.alive;
  }
  void touch(int64_t id);
  void kill(int64_t id);
  void fire(const std::string& path, zk::WatchType type, bool child);
};

class FakeServer : public sim::Process, public zk::ApiHolder, public zk::ServerApi {
 public:
  enum class Mode { Serving, Looking, Silent };

  FakeServer(sim::Sim& s, sim::HostId host, FakeEnsemble& ens, int myid)
      : sim::Process(s, fmt::format("zk:{}", myid), host), ens_(ens) {
    s.net.listen(*this, zk::kClientPort, [](sim::ConnId, sim::ProcId) {});
  }

  Mode mode = Mode::Serving;
  // (time, what) of every request this server handled: "connect:<session>", "ping", "create", ...
  std::vector<std::pair<sim::Time, std::string>> log;

  zk::ServerApi* server_api() override { return this; }

  void on_connect_request(sim::ConnId conn, sim::ProcId client,
                          const zk::ConnectRequest& req) override {
    log.emplace_back(now(), fmt::format("connect:{}", req.session_id));
    if (mode == Mode::Silent) return;
    if (mode == Mode::Looking) {
      sim().net.close(conn, *this);
      return;
    }
    zk::ConnectResponse resp;
    if (req.session_id != 0) {
      if (!ens_.valid(req.session_id)) {
        // Invalid session: id 0, timeout 0, then close.
        send(conn, client,
             [resp](zk::ClientApi* api, sim::ConnId c) { api->on_connect_response(c, resp); });
        sim().net.close(conn, *this);
        return;
      }
      resp.session_id = req.session_id;
      ens_.touch(req.session_id);
    } else {
      resp.session_id = ens_.create_session(req.timeout);
    }
    resp.timeout = ens_.sessions[resp.session_id].timeout;
    clients_[conn] = Conn{client, resp.session_id};
    send(conn, client,
         [resp](zk::ClientApi* api, sim::ConnId c) { api->on_connect_response(c, resp); });
  }

  void on_request(sim::ConnId conn, const zk::Request& req) override {
    auto it = clients_.find(conn);
    if (it == clients_.end() || mode != Mode::Serving) return;
    int64_t sid = it->second.session;
    if (!ens_.valid(sid)) return;
    ens_.touch(sid);
    zk::Reply r;
    r.xid = req.xid;
    r.op = req.op;
    switch (req.op) {
      case zk::Op::Ping:
        log.emplace_back(now(), "ping");
        break;
      case zk::Op::CloseSession:
        log.emplace_back(now(), "close");
        ens_.kill(sid);
        break;
      case zk::Op::Create: {
        log.emplace_back(now(), "create");
        std::string parent = FakeEnsemble::parent_of(req.path);
        if (!ens_.nodes.count(parent)) {
          r.rc = zk::ZNONODE;
          break;
        }
        std::string path = req.path;
        auto& pn = ens_.nodes[parent];
        if (req.sequential) path += fmt::format("{:010d}", pn.cversion);
        if (ens_.nodes.count(path)) {
          r.rc = zk::ZNODEEXISTS;
          break;
        }
        ++pn.cversion;
        ens_.nodes[path] = FakeEnsemble::Node{req.ephemeral ? sid : 0, 0};
        r.path = path;
        r.zxid = ++ens_.zxid;
        ens_.fire(path, zk::WatchType::NodeCreated, false);
        ens_.fire(parent, zk::WatchType::NodeChildrenChanged, true);
        break;
      }
      case zk::Op::Delete:
        log.emplace_back(now(), "delete");
        if (!ens_.nodes.count(req.path)) {
          r.rc = zk::ZNONODE;
          break;
        }
        ens_.nodes.erase(req.path);
        ens_.fire(req.path, zk::WatchType::NodeDeleted, false);
        ens_.fire(FakeEnsemble::parent_of(req.path), zk::WatchType::NodeChildrenChanged, true);
        break;
      case zk::Op::GetChildren:
        log.emplace_back(now(), "children");
        if (!ens_.nodes.count(req.path)) {
          r.rc = zk::ZNONODE;
          break;
        }
        r.children = ens_.children(req.path);
        if (req.watch) ens_.watches.emplace(req.path, FakeEnsemble::Watch{this, conn, true});
        break;
      case zk::Op::Exists:
        log.emplace_back(now(), "exists");
        r.exists = ens_.nodes.count(req.path) > 0;
        r.rc = r.exists ? zk::ZOK : zk::ZNONODE;
        if (req.watch) ens_.watches.emplace(req.path, FakeEnsemble::Watch{this, conn, false});
        break;
    }
    sim::ProcId client = it->second.client;
    send(conn, client, [r = r](zk::ClientApi* api, sim::ConnId c) { api->on_reply(c, r); });
  }

  void notify(sim::ConnId conn, const zk::WatchEvent& ev) {
    auto it = clients_.find(conn);
    if (it == clients_.end()) return;
    send(conn, it->second.client,
         [ev = ev](zk::ClientApi* api, sim::ConnId c) { api->on_watch(c, ev); });
  }

  // Closes every client connection (a server going LOOKING).
  void drop_clients() {
    for (auto& [c, info] : clients_) sim().net.close(c, *this);
    clients_.clear();
  }

 private:
  struct Conn {
    sim::ProcId client;
    int64_t session;
  };
  template <class F>
  void send(sim::ConnId conn, sim::ProcId client, F f) {
    sim::Sim* s = &sim();
    sim().net.send(conn, *this, [s, client, conn, f] {
      auto* h = dynamic_cast<zk::ApiHolder*>(s->process(client));
      if (h != nullptr && h->client_api() != nullptr) f(h->client_api(), conn);
    });
  }
  FakeEnsemble& ens_;
  std::map<sim::ConnId, Conn> clients_;
};

inline void FakeEnsemble::touch(int64_t id) {
  auto& s = sessions[id];
  s.last_touch = sim.now();
  sim.engine.cancel(s.expiry);
  if (!expire_sessions) return;
  sim::Time at = sim.now() + s.timeout;
  if (expiry_bucket > sim::Duration::zero()) {
    // ExpiryQueue.roundToNextInterval.
    int64_t b = expiry_bucket.count_ns();
    at = sim::Time::from_ns((at.ns() / b + 1) * b);
  }
  s.expiry = sim.engine.at(at, [this, id] {
    expired.emplace_back(sim.now(), id);
    kill(id);
  });
}

inline void FakeEnsemble::kill(int64_t id) {
  auto& s = sessions[id];
  if (!s.alive) return;
  s.alive = false;
  sim.engine.cancel(s.expiry);
  std::vector<std::string> gone;
  for (const auto& [path, n] : nodes) {
    if (n.owner == id) gone.push_back(path);
  }
  for (const auto& p : gone) {
    nodes.erase(p);
    fire(p, zk::WatchType::NodeDeleted, false);
    fire(parent_of(p), zk::WatchType::NodeChildrenChanged, true);
  }
}

inline void FakeEnsemble::fire(const std::string& path, zk::WatchType type, bool child) {
  auto [lo, hi] = watches.equal_range(path);
  std::vector<Watch> hit;
  for (auto it = lo; it != hi;) {
    if (it->second.child == child) {
      hit.push_back(it->second);
      it = watches.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& w : hit) w.server->notify(w.conn, zk::WatchEvent{type, path});
}

}  // namespace fakezk
