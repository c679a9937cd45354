// The C client's timing rules against the fake ensemble (ZK-SEMANTICS.md §6).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "models/zk/client.h"
#include "sim/sim.h"
#include "tests/meta/fake_zk.h"

namespace {

using fakezk::FakeEnsemble;
using fakezk::FakeServer;
using sim::Duration;
using sim::Time;

Time at_ms(int64_t v) {
  return Time::from_ns(v * 1000'000);
}

// The client's owner: a process holding one zk::Client.
struct Owner : sim::Process, zk::ApiHolder {
  Owner(sim::Sim& s, sim::HostId h) : sim::Process(s, "meta:c", h) {}
  std::unique_ptr<zk::Client> client;
  std::vector<std::pair<Time, int>> events;
  std::vector<std::string> logs;
  zk::ClientApi* client_api() override { return client.get(); }
};

struct Fixture : ::testing::Test {
  sim::Sim sim{7};
  sim::VectorSink sink;
  FakeEnsemble ens{sim};
  std::vector<std::unique_ptr<FakeServer>> servers;
  std::unique_ptr<Owner> owner;
  sim::HostId client_host;

  Fixture() {
    sim.trace.add_sink(&sink);
    auto dir = std::filesystem::path(ZKSIM_BINARY_DIR) / "meta_test_logs" /
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    sim.logs.set_dir(dir.string());
    client_host = sim.net.add_host("c");
    for (int i = 1; i <= 3; ++i) {
      sim::HostId h = sim.net.add_host("s" + std::to_string(i));
      servers.push_back(std::make_unique<FakeServer>(sim, h, ens, i));
    }
    owner = std::make_unique<Owner>(sim, client_host);
  }

  void make_client(zk::ClientConfig cfg,
                   std::vector<zk::ServerAddr> addrs = {{"s1"}, {"s2"}, {"s3"}}) {
    zk::ClientCallbacks cb;
    Owner* o = owner.get();
    cb.on_session = [o](int st) { o->events.emplace_back(o->now(), st); };
    cb.on_log = [o](zk::ZooLogLevel, std::string_view, int, const std::string& t) {
      o->logs.push_back(t);
    };
    owner->client = std::make_unique<zk::Client>(*owner, cfg, addrs, sim.rng("client"), cb);
  }
  zk::ClientConfig det_cfg() {
    zk::ClientConfig cfg;
    cfg.deterministic_conn_order = true;
    return cfg;
  }
  void run_until(int64_t ms) { sim.engine.run(at_ms(ms)); }
  // Times at which the client's state record went to `to`.
  std::vector<Time> state_times(const std::string& to) const {
    std::vector<Time> out;
    for (const auto& r : sink.records) {
      if (r.type == "client.state" && r.get_str("to") == to) out.push_back(r.t);
    }
    return out;
  }
  // (time, server id) of every connect request any server saw, in time order.
  std::vector<std::pair<Time, int>> connects() const {
    std::vector<std::pair<Time, int>> out;
    for (size_t i = 0; i < servers.size(); ++i) {
      for (const auto& [t, what] : servers[i]->log) {
        if (what.rfind("connect:", 0) == 0) out.emplace_back(t, static_cast<int>(i + 1));
      }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
  }
  int count_logs(const std::string& needle) const {
    int n = 0;
    for (const auto& l : owner->logs) n += l.find(needle) != std::string::npos;
    return n;
  }
};

TEST_F(Fixture, meta_client_PingsEveryThirdOfTheNegotiatedTimeout) {
  make_client(det_cfg());
  owner->client->start();
  run_until(20'000);
  ASSERT_EQ(owner->client->state(), zk::CONNECTED_STATE);
  EXPECT_EQ(owner->client->recv_timeout(), Duration::s(6));
  std::vector<Time> pings;
  for (const auto& [t, w] : servers[0]->log) {
    if (w == "ping") pings.push_back(t);
  }
  ASSERT_GE(pings.size(), 8u);
  ASSERT_LE(pings.size(), 10u);
  for (size_t i = 1; i < pings.size(); ++i) {
    Duration gap = pings[i] - pings[i - 1];
    EXPECT_GE(gap, Duration::ms(2000)) << i;
    EXPECT_LE(gap, Duration::ms(2012)) << i;
  }
  ASSERT_EQ(owner->events.size(), 1u);
  EXPECT_EQ(owner->events[0].second, zk::CONNECTED_STATE);
}

TEST_F(Fixture, meta_client_NegotiatedTimeoutIsClampedAndDrivesThePings) {
  zk::ClientConfig cfg = det_cfg();
  cfg.session_timeout = Duration::ms(1000);  // below 2*tick: the server says 4000
  make_client(cfg);
  owner->client->start();
  run_until(10'000);
  EXPECT_EQ(owner->client->recv_timeout(), Duration::s(4));
  std::vector<Time> pings;
  for (const auto& [t, w] : servers[0]->log) {
    if (w == "ping") pings.push_back(t);
  }
  ASSERT_GE(pings.size(), 6u);
  for (size_t i = 1; i < pings.size(); ++i) {
    EXPECT_GE(pings[i] - pings[i - 1], Duration::ms(1333));
    EXPECT_LE(pings[i] - pings[i - 1], Duration::ms(1345));
  }
  EXPECT_EQ(count_logs("negotiated timeout=4000"), 1);
}

TEST_F(Fixture, meta_client_DeadConnectionAfterTwoThirdsAndMinus7ForPendingOps) {
  make_client(det_cfg());
  owner->client->start();
  run_until(10'000);
  servers[0]->mode = FakeServer::Mode::Silent;  // a paused JVM: bytes go in, nothing comes out
  Time last_reply;
  for (const auto& [t, w] : servers[0]->log) last_reply = t;  // last handled before silence
  last_reply += Duration::us(100);                            // its reply's one-way latency
  int rc = 1;
  sim.engine.at(at_ms(11'000),
                [&] { owner->client->aexists("/x", false, [&](int r, bool) { rc = r; }); });
  run_until(20'000);
  auto connecting = state_times("CONNECTING_STATE");
  ASSERT_GE(connecting.size(), 2u);  // initial connect, then the timeout
  Duration to = connecting[1] - last_reply;
  EXPECT_GE(to, Duration::ms(4000));
  EXPECT_LE(to, Duration::ms(4006));
  EXPECT_EQ(rc, zk::ZOPERATIONTIMEOUT);
  // No ping while the exists was outstanding (the ping rule needs an empty queue).
  for (const auto& [t, w] : servers[0]->log) {
    if (w == "ping") {
      EXPECT_LT(t, at_ms(11'000));
    }
  }
  std::regex re(
      R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}:\d+\(0x[0-9a-f]+\):ZOO_ERROR@handle_socket_error_msg@2522: Socket \[s1:2181\] zk retcode=-7, errno=110\(Connection timed out\): connection to s1:2181 timed out \(exceeded timeout by ([0-9]+)ms\)$)");
  int found = 0;
  for (const auto& l : owner->logs) {
    std::smatch m;
    if (std::regex_match(l, m, re)) {
      ++found;
      EXPECT_LE(std::stoi(m[1]), 5);
    }
  }
  EXPECT_EQ(found, 1);
  ASSERT_GE(owner->events.size(), 2u);
  EXPECT_EQ(owner->events[1].second, zk::CONNECTING_STATE);
  // The session event reaches the owner through the completion thread, a little later.
  EXPECT_GT(owner->events[1].first, connecting[1]);
  EXPECT_LT(owner->events[1].first - connecting[1], Duration::ms(1));
  // Then it moved on (2 servers serve) and is connected again.
  EXPECT_EQ(owner->client->state(), zk::CONNECTED_STATE);
}

TEST_F(Fixture, meta_client_TimeoutWhileConnectingAndTheDoubleAdvance) {
  // s1 is a black hole: the SYN is never answered; the 2/3 rule abandons it after 4 s.
  sim.net.set_link_up(client_host, 1, false);
  sim.net.set_link_up(1, client_host, false);
  make_client(det_cfg());
  owner->client->start();
  run_until(6000);
  auto c = connects();
  ASSERT_FALSE(c.empty());
  // ZOOKEEPER-2466: handle_error and zoo_cycle_next_server both advance: s2 is skipped.
  EXPECT_EQ(c[0].second, 3);
  EXPECT_GE(c[0].first, at_ms(4000));
  EXPECT_LE(c[0].first, at_ms(4006));
  EXPECT_EQ(count_logs("connection to s1:2181 timed out"), 1);
}

TEST_F(Fixture, meta_client_FixedCursorTriesTheNextServer) {
  sim.net.set_link_up(client_host, 1, false);
  sim.net.set_link_up(1, client_host, false);
  zk::ClientConfig cfg = det_cfg();
  cfg.zookeeper_2466_double_advance = false;
  make_client(cfg);
  owner->client->start();
  run_until(6000);
  auto c = connects();
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].second, 2);
}

TEST_F(Fixture, meta_client_DelayAfterExhaustingTheListWithDoubleAdvance) {
  for (auto& s : servers) s->mode = FakeServer::Mode::Looking;
  make_client(det_cfg());
  owner->client->start();
  run_until(350);
  auto c = connects();
  ASSERT_GE(c.size(), 7u);
  std::vector<int> order;
  for (size_t i = 0; i < 7; ++i) order.push_back(c[i].second);
  EXPECT_EQ(order, (std::vector<int>{1, 3, 2, 1, 3, 2, 1}));
  // The gap after each s3 failure is the recv_timeout/60 = 100 ms delay; the others are a
  // connect plus a round trip.
  for (size_t i = 1; i < 7; ++i) {
    Duration gap = c[i].first - c[i - 1].first;
    if (c[i - 1].second == 3) {
      EXPECT_GE(gap, Duration::ms(100)) << i;
      EXPECT_LE(gap, Duration::ms(106)) << i;
    } else {
      EXPECT_LE(gap, Duration::ms(6)) << i;
    }
  }
  EXPECT_GE(count_logs("Delaying connection after exhaustively trying all servers "
                       "[s1:2181,s2:2181,s3:2181]"),
            2);
  EXPECT_GE(count_logs("zk retcode=-4, errno=112(Host is down): failed while receiving a server "
                       "response"),
            6);
  EXPECT_GE(count_logs("initiated connection to server [s3:2181]"), 2);
}

TEST_F(Fixture, meta_client_DelayAfterExhaustingTheListFixed) {
  for (auto& s : servers) s->mode = FakeServer::Mode::Looking;
  zk::ClientConfig cfg = det_cfg();
  cfg.zookeeper_2466_double_advance = false;
  make_client(cfg);
  owner->client->start();
  run_until(250);
  auto c = connects();
  ASSERT_GE(c.size(), 6u);
  std::vector<int> order;
  for (size_t i = 0; i < 6; ++i) order.push_back(c[i].second);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 1, 2, 3}));
  EXPECT_GE(c[3].first - c[2].first, Duration::ms(100));
  EXPECT_LE(c[3].first - c[2].first, Duration::ms(106));
}

// Own interface down: every connect fails at once (ENETUNREACH). With two servers the double
// advance never lands on the end of the list, so the real client never delays and spins; the
// model waits 1 ms after each burst of 2n+3 same-instant failures (it used to loop forever at one
// instant: zksim hung). Reconnects right after ifup.
TEST_F(Fixture, meta_client_EvenServerListSpinsWhileTheOwnInterfaceIsDown) {
  make_client(det_cfg(), {{"s1"}, {"s2"}});
  owner->client->start();
  run_until(1000);
  ASSERT_EQ(owner->client->state(), zk::CONNECTED_STATE);
  sim.net.set_host_up(client_host, false);
  run_until(5000);
  sim.net.set_host_up(client_host, true);
  run_until(8000);
  std::vector<Time> spins;
  for (const auto& r : sink.records) {
    if (r.type == "client.spin") {
      spins.push_back(r.t);
      EXPECT_EQ(r.get_int("servers"), 2);
      EXPECT_EQ(r.get_int("errno"), 101);
    }
  }
  // One record per episode: from the receive timeout (4 s after the last byte, at connect) to ifup.
  ASSERT_EQ(spins.size(), 1u);
  EXPECT_GE(spins[0], at_ms(4000));
  EXPECT_LE(spins[0], at_ms(4020));
  // About 1 s of bursts of 7 failures, each burst >= 1 ms after the last.
  int failed = count_logs("errno=101(Network is unreachable): connect() call failed");
  EXPECT_GE(failed, 7 * 100);
  EXPECT_LE(failed, 7 * 1000);
  EXPECT_EQ(count_logs("Delaying connection"), 0);
  // Back within a few ms of ifup (a burst's wait plus a round trip), on s1: the double advance
  // never tries s2.
  auto c = connects();
  ASSERT_GE(c.size(), 2u);
  EXPECT_GE(c.back().first, at_ms(5000));
  EXPECT_LE(c.back().first, at_ms(5010));
  EXPECT_EQ(c.back().second, 1);
  EXPECT_EQ(owner->client->state(), zk::CONNECTED_STATE);  // within the 6 s session
}

// Three servers: the delay fires every few failures, so no spin.
TEST_F(Fixture, meta_client_OddServerListDelaysWhileTheOwnInterfaceIsDown) {
  make_client(det_cfg());
  owner->client->start();
  run_until(1000);
  sim.net.set_host_up(client_host, false);
  run_until(9000);
  for (const auto& r : sink.records) EXPECT_NE(r.type, "client.spin") << r.t.ns();
  EXPECT_GE(count_logs("Delaying connection after exhaustively trying all servers"), 30);
}

TEST_F(Fixture, meta_client_Old34ClientWaitsAThirdAfterTheLastServer) {
  for (auto& s : servers) s->mode = FakeServer::Mode::Looking;
  zk::ClientConfig cfg = det_cfg();
  cfg.old_34_client = true;
  make_client(cfg);
  owner->client->start();
  run_until(2500);
  auto c = connects();
  ASSERT_GE(c.size(), 4u);
  EXPECT_EQ(c[0].second, 1);
  EXPECT_EQ(c[1].second, 2);
  EXPECT_EQ(c[2].second, 3);
  EXPECT_EQ(c[3].second, 1);
  EXPECT_GE(c[3].first - c[2].first, Duration::ms(2000));
  EXPECT_LE(c[3].first - c[2].first, Duration::ms(2006));
  EXPECT_EQ(count_logs("Delaying connection"), 0);
}

TEST_F(Fixture, meta_client_SocketErrorFailsPendingOpsWithMinus4) {
  make_client(det_cfg());
  owner->client->start();
  run_until(1000);
  servers[0]->mode = FakeServer::Mode::Silent;
  int rc = 1;
  owner->client->aget_children("/", false, [&](int r, const std::vector<std::string>&) { rc = r; });
  sim.engine.at(at_ms(1500), [&] { servers[0]->drop_clients(); });
  run_until(1600);
  EXPECT_EQ(rc, zk::ZCONNECTIONLOSS);
  EXPECT_EQ(count_logs("Socket [s1:2181] zk retcode=-4, errno=112(Host is down): failed while "
                       "receiving a server response"),
            1);
  ASSERT_GE(owner->events.size(), 2u);
  EXPECT_EQ(owner->events[1].second, zk::CONNECTING_STATE);
}

TEST_F(Fixture, meta_client_ExpiredOnlyWhenAServerAnswersTheReconnect) {
  make_client(det_cfg());
  owner->client->start();
  run_until(5000);
  int64_t sid = owner->client->session_id();
  ASSERT_NE(sid, 0);
  sim.net.set_host_up(client_host, false);  // ifdown
  run_until(15'000);
  // The session expired at the server long ago, but the client only knows CONNECTING.
  ASSERT_EQ(ens.expired.size(), 1u);
  EXPECT_EQ(owner->client->state(), zk::CONNECTING_STATE);
  EXPECT_GE(count_logs("connect() call failed"), 3);
  sim.net.set_host_up(client_host, true);
  run_until(16'000);
  EXPECT_EQ(owner->client->state(), zk::EXPIRED_SESSION_STATE);
  ASSERT_EQ(owner->events.size(), 3u);
  EXPECT_EQ(owner->events[0].second, zk::CONNECTED_STATE);
  EXPECT_EQ(owner->events[1].second, zk::CONNECTING_STATE);
  EXPECT_EQ(owner->events[2].second, zk::EXPIRED_SESSION_STATE);
  EXPECT_EQ(count_logs(fmt::format("zk retcode=-112, errno=116(Stale file handle): sessionId={:#x} "
                                   "has expired.",
                                   sid)),
            1);
  int rc = 1;
  owner->client->aexists("/", false, [&](int r, bool) { rc = r; });
  run_until(16'100);
  EXPECT_EQ(rc, zk::ZINVALIDSTATE);
}

TEST_F(Fixture, meta_client_ShuffleIsDeterministicPerStream) {
  std::vector<zk::ServerAddr> addrs = {{"s1"}, {"s2"}, {"s3"}};
  std::set<std::vector<std::string>> orders;
  for (int i = 0; i < 12; ++i) {
    zk::Client a(*owner, {}, addrs, sim.rng("client/" + std::to_string(i)), {});
    zk::Client b(*owner, {}, addrs, sim.rng("client/" + std::to_string(i)), {});
    EXPECT_EQ(a.server_order(), b.server_order());
    orders.insert(a.server_order());
  }
  EXPECT_GE(orders.size(), 3u);
}

}  // namespace
