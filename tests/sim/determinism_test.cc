#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>

#include "sim/sim.h"

namespace sim {
namespace {

// A process that keeps connections to its peers and chats: pings at random intervals, a pong for
// every ping, reconnects after losing a connection.
class Chatter : public Process {
 public:
  Chatter(Sim& s, std::string name, HostId host, std::vector<HostId> connect_to)
      : Process(s, std::move(name), host),
        rng_(s.rng("chatter/" + this->name())),
        connect_to_(std::move(connect_to)),
        tick_(*this),
        reconnect_(*this) {}
  void boot() { on_start(); }
  void on_ping(ConnId c, uint64_t n) {
    Rec(sim().trace, now(), "chat.ping", name()).f("n", n).emit();
    Chatter* peer = peer_of(c);
    if (peer)
      sim().net.send(
          c, *this, [peer, n] { peer->on_pong(n); }, "pong");
  }
  void on_pong(uint64_t n) { Rec(sim().trace, now(), "chat.pong", name()).f("n", n).emit(); }

 protected:
  void on_start() override {
    Rec(sim().trace, now(), "chat.start", name()).set("state", "up").emit();
    sim().net.listen(*this, 1, [this](ConnId c, ProcId from) {
      Rec(sim().trace, now(), "chat.accept", name()).f("from", static_cast<int64_t>(from)).emit();
      adopt(c);
    });
    connect_all();
    tick_.arm(think(), [this] { tick(); });
  }
  void on_crash() override {
    Rec(sim().trace, now(), "chat.crash", name()).set("state", "down").emit();
    conns_.clear();
  }
  void on_pause() override {
    Rec(sim().trace, now(), "chat.pause", name()).begin("gc", "pause", ++pauses_).emit();
  }
  void on_resume() override {
    Rec(sim().trace, now(), "chat.resume", name()).end("gc", pauses_).emit();
  }

 private:
  Duration think() { return Duration::ns(static_cast<int64_t>(rng_.exponential(0.05) * 1e9)); }
  Chatter* peer_of(ConnId c) {
    return static_cast<Chatter*>(sim().process(sim().net.peer(c, *this)));
  }
  void adopt(ConnId c) {
    conns_.push_back(c);
    sim().net.on_close(c, *this, [this, c](NetError e) {
      Rec(sim().trace, now(), "chat.closed", name()).f("err", to_string(e)).emit();
      std::erase(conns_, c);
      reconnect_.arm(Duration::ms(500), [this] { connect_all(); });
    });
  }
  void connect_all() {
    for (HostId h : connect_to_) {
      sim().net.connect(*this, h, 1, [this, h](ConnId c, NetError e) {
        Rec(sim().trace, now(), "chat.connect", name())
            .f("to", static_cast<int64_t>(h))
            .f("err", to_string(e))
            .emit();
        if (e == NetError::Ok) {
          adopt(c);
        } else {
          reconnect_.arm(Duration::ms(500), [this] { connect_all(); });
        }
      });
    }
  }
  void tick() {
    if (!conns_.empty()) {
      ConnId c = conns_[rng_.below(conns_.size())];
      uint64_t n = ++sent_;
      Chatter* peer = peer_of(c);
      Rec(sim().trace, now(), "chat.send", name()).f("n", n).emit();
      sim().net.send(
          c, *this, [peer, c, n] { peer->on_ping(c, n); }, "ping");
    }
    tick_.arm(think(), [this] { tick(); });
  }

  Rng rng_;
  std::vector<HostId> connect_to_;
  std::vector<ConnId> conns_;
  Timer tick_, reconnect_;
  uint64_t sent_ = 0;
  uint64_t pauses_ = 0;
};

struct Outcome {
  uint64_t hash;
  uint64_t count;
  std::vector<std::string> lines;
};

Outcome run_chatter(uint64_t seed) {
  Sim s(seed);
  s.trace.set_messages(true);
  VectorSink v;
  s.trace.add_sink(&v);
  LinkParams lp;
  lp.latency = Dist::lognormal_median_p99(200e-6, 5e-3);
  lp.loss = 0.01;
  s.net.set_default_link(lp);
  std::vector<HostId> hosts;
  for (int i = 0; i < 3; ++i) hosts.push_back(s.net.add_host("h" + std::to_string(i)));
  std::vector<std::unique_ptr<Chatter>> procs;
  for (int i = 0; i < 3; ++i) {
    std::vector<HostId> higher(hosts.begin() + i + 1, hosts.end());
    procs.push_back(std::make_unique<Chatter>(s, "n" + std::to_string(i), hosts[i], higher));
  }
  for (auto& p : procs) p->boot();
  // GC-like pauses of n1 at random instants.
  Rng gc = s.rng("gc/n1");
  std::function<void()> pause_loop = [&] {
    procs[1]->pause();
    Duration len = Duration::ns(static_cast<int64_t>(gc.uniform(0.02, 0.3) * 1e9));
    s.engine.after(len, [&] { procs[1]->resume(); });
    s.engine.after(len + Duration::ns(static_cast<int64_t>(gc.exponential(0.3) * 1e9)), pause_loop);
  };
  s.engine.after(Duration::ms(700), pause_loop);
  s.engine.at(Time::zero() + Duration::s(3), [&] { procs[2]->crash(); });
  s.engine.at(Time::zero() + Duration::s(4), [&] { procs[2]->restart(); });
  s.engine.at(Time::zero() + Duration::s(5), [&] {
    s.net.partition({{hosts[0]}, {hosts[1], hosts[2]}});
  });
  s.engine.at(Time::zero() + Duration::s(6), [&] { s.net.heal_links(); });
  s.engine.run(Time::zero() + Duration::s(10));
  s.trace.finish(s.now());
  Outcome o{s.trace.hash(), s.trace.count(), {}};
  for (const auto& r : v.records) o.lines.push_back(to_json_line(r));
  return o;
}

TEST(sim_determinism, SameSeedSameTraceDifferentSeedDifferentTrace) {
  Outcome a = run_chatter(1), b = run_chatter(1);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.lines, b.lines);
  // The scenario really exercised what it claims to.
  auto count = [&](const std::string& type) {
    return std::count_if(a.lines.begin(), a.lines.end(), [&](const std::string& l) {
      return l.find("\"type\":\"" + type + "\"") != std::string::npos;
    });
  };
  EXPECT_GT(count("chat.ping"), 100);
  EXPECT_GT(count("chat.pong"), 100);
  EXPECT_GT(count("net.send"), 200);
  EXPECT_GT(count("chat.pause"), 5);
  EXPECT_LE(count("chat.pause") - count("chat.resume"), 1);  // the last may outlast the run
  EXPECT_GE(count("chat.pause"), count("chat.resume"));
  EXPECT_EQ(count("chat.crash"), 1);
  EXPECT_GE(count("chat.closed"), 2);  // n0 and n1 lose their connection to n2
  EXPECT_GE(count("chat.connect"), 3);

  std::set<uint64_t> hashes = {a.hash};
  for (uint64_t seed : {2, 3, 4, 5}) {
    Outcome o = run_chatter(seed);
    EXPECT_TRUE(hashes.insert(o.hash).second) << "seed " << seed << " repeats a hash";
  }
}

}  // namespace
}  // namespace sim
