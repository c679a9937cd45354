// The meta server's QuorumCluster states, local session timer and election, against the fake
// ensemble (exact expiry at last touch + ST, so the numbers are easy to derive by hand).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "models/zbs/detector.h"
#include "models/zbs/meta.h"
#include "models/zbs/metrics.h"
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

struct MetaFixture : ::testing::Test {
  sim::Sim sim{11};
  sim::VectorSink sink;
  FakeEnsemble ens{sim};
  std::vector<std::unique_ptr<FakeServer>> servers;
  std::vector<std::unique_ptr<zbs::Meta>> metas;
  std::unique_ptr<zbs::Detector> detector;
  std::filesystem::path dir;

  MetaFixture() {
    sim.trace.add_sink(&sink);
    dir = std::filesystem::path(ZKSIM_BINARY_DIR) / "meta_test_logs" /
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    sim.logs.set_dir(dir.string());
    sim.logs.wall_epoch_ns = sim::ns_from_civil(2022, 8, 4, 21, 20, 0);
    for (int i = 1; i <= 3; ++i) {
      sim::HostId h = sim.net.add_host("node" + std::to_string(i));
      sim.net.set_host_address(h, "172.16.91." + std::to_string(i));
      servers.push_back(std::make_unique<FakeServer>(sim, h, ens, i));
    }
  }

  void make_metas(Duration local_timer, Duration st = Duration::s(6)) {
    for (int i = 1; i <= 3; ++i) {
      zbs::MetaConfig cfg;
      cfg.servers = {{"node1"}, {"node2"}, {"node3"}};
      cfg.session_timeout = st;
      cfg.local_timer = local_timer;
      metas.push_back(std::make_unique<zbs::Meta>(sim, static_cast<sim::HostId>(i - 1), cfg));
    }
    // node2's meta boots first and wins the first election.
    sim.engine.at(at_ms(100), [this] { metas[1]->start(); });
    sim.engine.at(at_ms(300), [this] { metas[2]->start(); });
    sim.engine.at(at_ms(500), [this] { metas[0]->start(); });
  }
  void run_until(int64_t ms) { sim.engine.run(at_ms(ms)); }
  std::vector<zbs::LeaderFlip> flips() const {
    std::vector<zbs::LeaderFlip> out;
    for (const auto& r : sink.records) {
      if (r.type == "meta.leader") {
        out.push_back({r.t, r.node, std::get<bool>(*r.get("leading"))});
      }
    }
    return out;
  }
  std::vector<std::string> quorum_changes(const std::string& node) const {
    std::vector<std::string> out;
    for (const auto& r : sink.records) {
      if (r.type == "meta.quorum" && r.node == node) out.push_back(r.get_str("to"));
    }
    return out;
  }
  std::vector<Time> records(const std::string& type, const std::string& node,
                            const std::string& key, const std::string& value) const {
    std::vector<Time> out;
    for (const auto& r : sink.records) {
      if (r.type == type && r.node == node && r.get_str(key) == value) out.push_back(r.t);
    }
    return out;
  }
  std::vector<std::string> lines(const std::string& host, const std::string& file) {
    sim.logs.flush();
    std::vector<std::string> out;
    std::ifstream in(dir / host / file);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  // The time the leader's client last heard from its server before the fault: the client's
  // timeout is 2/3 of the negotiated timeout after it.
  int count_leaders() const {
    int n = 0;
    for (const auto& m : metas) n += m->is_leader();
    return n;
  }
};

TEST_F(MetaFixture, meta_server_ElectsTheLowestSequence) {
  make_metas(Duration::ms(3600));
  run_until(3000);
  EXPECT_EQ(count_leaders(), 1);
  EXPECT_TRUE(metas[1]->is_leader());
  EXPECT_EQ(metas[1]->seq(), 0);
  EXPECT_EQ(metas[2]->seq(), 1);
  EXPECT_EQ(metas[0]->seq(), 2);
  for (const auto& m : metas) EXPECT_EQ(m->quorum_state(), "Running");
  EXPECT_EQ(quorum_changes("meta:node2"),
            (std::vector<std::string>{"Running_Connecting", "Running"}));
  EXPECT_EQ(metas[0]->role(), zbs::Meta::Role::Candidate);
  auto log = lines("node2", "zbs-metad.log");
  std::regex role(
      R"(^I0804 21:20:00\.\d{6} +\d+ quorum_cluster\.cc:518\] \[ROLE CHANGE\] I am the leader now\.  seq is 0$)");
  std::regex rpc(
      R"(^I0804 21:20:00\.\d{6} +\d+ meta_server\.cc:289\] Meta rpc server starts at 172\.16\.91\.2:10100$)");
  int r1 = 0, r2 = 0;
  for (const auto& l : log) {
    r1 += std::regex_match(l, role);
    r2 += std::regex_match(l, rpc);
  }
  EXPECT_EQ(r1, 1);
  EXPECT_EQ(r2, 1);
}

// The seed's fault with exact expiry: ifdown of the leader's host for 10 s (a 4 s outage never
// expires a 6 s session: the client is back before last touch + 6 s; see docs/meta-model.md). Its
// client times out at
// last_recv + 4000 ms (+ poll slack), the local timer stops it 3600 ms later; the fake ensemble
// expires the session at last_touch + 6000 ms and node3's watch fires. Overlap = 3600 + 4000 -
// 6000 = 1600 ms (plus the slack, minus the reply latency and the successor's round trips).
TEST_F(MetaFixture, meta_server_IfdownOfTheLeaderGivesADualLeaderWindow) {
  make_metas(Duration::ms(3600));
  run_until(20'000);
  ASSERT_TRUE(metas[1]->is_leader());
  sim::HostId h2 = 1;
  sim.engine.at(at_ms(20'300), [&] { sim.net.set_host_up(h2, false); });
  sim.engine.at(at_ms(30'300), [&] { sim.net.set_host_up(h2, true); });
  run_until(40'000);

  auto m = zbs::compute_leader_metrics(flips(), at_ms(40'000), at_ms(20'300));
  ASSERT_EQ(m.dual.count, 1);
  EXPECT_GE(m.dual.total, Duration::ms(1590));
  EXPECT_LE(m.dual.total, Duration::ms(1610));
  EXPECT_EQ(m.unavailable.count, 0);
  EXPECT_EQ(m.leader_changes, 1);
  EXPECT_TRUE(metas[2]->is_leader());
  EXPECT_FALSE(metas[1]->is_leader());

  // Timer started at the CONNECTING event, fired 3600 ms later; the stop is at the fire.
  auto start = records("meta.timer", "meta:node2", "action", "start");
  auto fire = records("meta.timer", "meta:node2", "action", "fire");
  ASSERT_EQ(start.size(), 1u);
  ASSERT_EQ(fire.size(), 1u);
  EXPECT_EQ(fire[0] - start[0], Duration::ms(3600));
  EXPECT_EQ(m.dual.windows[0].end, fire[0]);
  // The session at the fake server expired exactly when node3 started leading (+ round trips).
  ASSERT_EQ(ens.expired.size(), 1u);
  EXPECT_GE(m.dual.windows[0].begin - ens.expired[0].first, Duration::us(200));
  EXPECT_LE(m.dual.windows[0].begin - ens.expired[0].first, Duration::ms(2));

  EXPECT_EQ(quorum_changes("meta:node2"),
            (std::vector<std::string>{"Running_Connecting", "Running", "Running_Connecting",
                                      "Expired", "Stopped", "Running_Connecting", "Running"}));
  // It rejoined with a new session and is a candidate behind node3 and node1.
  EXPECT_EQ(metas[1]->sessions_started(), 2);
  EXPECT_EQ(metas[1]->seq(), 3);
  EXPECT_EQ(metas[1]->role(), zbs::Meta::Role::Candidate);

  // The log lines of the seed, in order, on node2.
  auto log = lines("node2", "zbs-metad.log");
  std::vector<std::string> want = {
      "main.cc:81] [ZOO] handle_socket_error_msg:2522 ",
      "zookeeper.cc:220] zookeeper session event: CONNECTED_STATE --> CONNECTING_STATE",
      "zookeeper.cc:183] Start the session timeout timer: 3600",
      "quorum_cluster.cc:443] QuorumCluster state change: Running --> Running_Connecting",
      "zookeeper.cc:199] Stop the session timeout timer.",
      "zookeeper.cc:220] zookeeper session event: CONNECTING_STATE --> EXPIRED_SESSION_STATE",
      "quorum_cluster.cc:349] Zookeeper session timeout.",
      "quorum_cluster.cc:443] QuorumCluster state change: Running_Connecting --> Expired",
      "quorum_server.cc:64] Get quorum cluster event: EXPIRED",
      "quorum_server.cc:79] Session expired.",
      "quorum_server.cc:42] Stop quorum server:",
      "quorum_cluster.cc:208] Stopping quorum cluster.",
      "quorum_cluster.cc:443] QuorumCluster state change: Expired --> Stopped",
      "quorum_cluster.cc:210] Sending stopping signal to upper layer.",
      "quorum_server.cc:64] Get quorum cluster event: STOPPED"};
  size_t k = 0;
  for (const auto& l : log) {
    if (k < want.size() && l.find(want[k]) != std::string::npos) ++k;
  }
  EXPECT_EQ(k, want.size()) << "missing: " << (k < want.size() ? want[k] : "");
  std::regex zoo(
      R"(^E0804 21:20:\d\d\.\d{6} +\d+ main\.cc:81\] \[ZOO\] handle_socket_error_msg:2522 2022-08-04 21:20:\d\d,\d{3}:\d+\(0x[0-9a-f]+\):ZOO_ERROR@handle_socket_error_msg@2522: Socket \[172\.16\.91\.\d:2181\] zk retcode=-7, errno=110\(Connection timed out\): connection to 172\.16\.91\.\d:2181 timed out \(exceeded timeout by \dms\)$)");
  int z = 0;
  for (const auto& l : log) z += std::regex_match(l, zoo);
  EXPECT_EQ(z, 1);
  auto log3 = lines("node3", "zbs-metad.log");
  int role3 = 0;
  for (const auto& l : log3) {
    role3 += l.find("[ROLE CHANGE] I am the leader now.  seq is 1") != std::string::npos;
  }
  EXPECT_EQ(role3, 1);
}

TEST_F(MetaFixture, meta_server_ShortLocalTimerGivesAGapNotAnOverlap) {
  make_metas(Duration::ms(200));
  run_until(20'000);
  ASSERT_TRUE(metas[1]->is_leader());
  sim.engine.at(at_ms(20'300), [&] { sim.net.set_host_up(1, false); });
  sim.engine.at(at_ms(30'300), [&] { sim.net.set_host_up(1, true); });
  run_until(40'000);
  auto m = zbs::compute_leader_metrics(flips(), at_ms(40'000), at_ms(20'300));
  EXPECT_EQ(m.dual.count, 0);
  ASSERT_EQ(m.unavailable.count, 1);
  // Stop at last_recv + 4000 + 200, new leader at last_touch + 6000: about 1800 ms without one.
  EXPECT_GE(m.unavailable.total, Duration::ms(1790));
  EXPECT_LE(m.unavailable.total, Duration::ms(1810));
}

TEST_F(MetaFixture, meta_server_ReconnectStopsTheLocalTimer) {
  // A 1 s silence of the leader's server (a GC pause): the client times out after 4 s only if the
  // silence is long; here the server drops its clients (LOOKING) and the client moves on at once.
  make_metas(Duration::ms(3600));
  run_until(10'000);
  ASSERT_TRUE(metas[1]->is_leader());
  std::string server = metas[1]->client()->current_server();
  int idx = server[std::string("172.16.91.").size()] - '1';
  sim.engine.at(at_ms(10'000), [&, idx] {
    servers[idx]->mode = FakeServer::Mode::Looking;
    servers[idx]->drop_clients();
  });
  sim.engine.at(at_ms(12'000), [&, idx] { servers[idx]->mode = FakeServer::Mode::Serving; });
  run_until(20'000);
  auto start = records("meta.timer", "meta:node2", "action", "start");
  auto stop = records("meta.timer", "meta:node2", "action", "stop");
  ASSERT_EQ(start.size(), 1u);
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_LT(stop[0] - start[0], Duration::ms(150));  // next server within one pass + delay
  EXPECT_TRUE(metas[1]->is_leader());
  EXPECT_EQ(flips().size(), 1u);  // leadership never flipped
  EXPECT_EQ(
      quorum_changes("meta:node2"),
      (std::vector<std::string>{"Running_Connecting", "Running", "Running_Connecting", "Running"}));
}

TEST_F(MetaFixture, meta_server_RealExpiryStopsOnReconnect) {
  // Local timer longer than the outage: the stop comes from the server's invalid-session answer.
  make_metas(Duration::s(60));
  run_until(20'000);
  sim.engine.at(at_ms(20'300), [&] { sim.net.set_host_up(1, false); });
  sim.engine.at(at_ms(30'300), [&] { sim.net.set_host_up(1, true); });
  run_until(40'000);
  std::vector<std::string> causes;
  for (const auto& r : sink.records) {
    if (r.type == "meta.stop") causes.push_back(r.get_str("cause"));
  }
  EXPECT_EQ(causes, (std::vector<std::string>{"session_expired"}));
  auto m = zbs::compute_leader_metrics(flips(), at_ms(40'000), at_ms(20'300));
  ASSERT_EQ(m.dual.count, 1);
  // From the expiry (~last touch + 6 s) to the reconnect after ifup at 30.3 s: about 4 s.
  EXPECT_GE(m.dual.total, Duration::ms(3900));
  EXPECT_LE(m.dual.total, Duration::ms(4500));
  EXPECT_GE(m.dual.windows[0].end, at_ms(30'300));
}

TEST_F(MetaFixture, meta_detector_SeesBothLeadersDuringTheOverlap) {
  make_metas(Duration::ms(3600));
  sim::HostId dh = sim.net.add_host("detector");
  detector = std::make_unique<zbs::Detector>(
      sim, dh, std::vector<zbs::Meta*>{metas[1].get(), metas[2].get()}, zbs::DetectorConfig{});
  sim.engine.at(at_ms(1000), [&] { detector->start(); });
  sim.engine.at(at_ms(20'300), [&] { sim.net.set_host_up(1, false); });
  sim.engine.at(at_ms(30'300), [&] { sim.net.set_host_up(1, true); });
  run_until(40'000);
  auto m = zbs::compute_leader_metrics(flips(), at_ms(40'000));
  ASSERT_EQ(m.dual.count, 1);
  // A 1.6 s overlap sampled every ~300 ms: 4 to 6 ticks see two leaders.
  EXPECT_GE(detector->multi_leader_ticks(), 4u);
  EXPECT_LE(detector->multi_leader_ticks(), 6u);
  EXPECT_EQ(detector->last_matrix(), "[X L]");
  auto log = lines("detector", "detector.log");
  std::regex multi(
      R"(^2022/08/04 21:20:\d\d\.\d{6} more than 1 leader appear at this tick, cnt=2$)");
  std::regex ll(R"(^2022/08/04 21:20:\d\d\.\d{6} quorum matrix: \[L L\]$)");
  int a = 0, b = 0;
  for (const auto& l : log) {
    a += std::regex_match(l, multi);
    b += std::regex_match(l, ll);
  }
  EXPECT_EQ(a, static_cast<int>(detector->multi_leader_ticks()));
  EXPECT_EQ(b, a);
}

TEST_F(MetaFixture, meta_detector_OverTheDataNetworkAnIsolatedMetaDoesNotAnswer) {
  make_metas(Duration::ms(3600));
  sim::HostId dh = sim.net.add_host("detector");
  zbs::DetectorConfig dc;
  dc.management_network = false;
  detector = std::make_unique<zbs::Detector>(
      sim, dh, std::vector<zbs::Meta*>{metas[1].get(), metas[2].get()}, dc);
  sim.engine.at(at_ms(1000), [&] { detector->start(); });
  sim.engine.at(at_ms(20'300), [&] { sim.net.set_host_up(1, false); });
  sim.engine.at(at_ms(30'300), [&] { sim.net.set_host_up(1, true); });
  run_until(30'000);
  EXPECT_EQ(detector->multi_leader_ticks(), 0u);
  auto log = lines("detector", "detector.log");
  int failed = 0;
  for (const auto& l : log) {
    failed += l.find("failed to get meta summary for meta 0, connection is shut down") !=
              std::string::npos;
  }
  EXPECT_GE(failed, 6);
  EXPECT_LE(failed, 9);  // 10 s outage, 1 s RPC timeout + 300 ms interval
}

TEST_F(MetaFixture, meta_server_CrashedLeaderIsReplacedAfterExpiry) {
  make_metas(Duration::ms(3600));
  run_until(10'000);
  sim.engine.at(at_ms(10'000), [&] { metas[1]->crash(); });
  sim.engine.at(at_ms(12'000), [&] { metas[1]->restart(); });
  run_until(30'000);
  auto m = zbs::compute_leader_metrics(flips(), at_ms(30'000), at_ms(10'000));
  EXPECT_EQ(m.dual.count, 0);
  ASSERT_TRUE(m.failover.has_value());
  // The dead session's ephemeral goes at last touch + 6 s: between 4 and 6 s after the crash.
  EXPECT_GE(*m.failover, Duration::ms(4000));
  EXPECT_LE(*m.failover, Duration::ms(6010));
  EXPECT_TRUE(metas[2]->is_leader());
  EXPECT_EQ(metas[1]->role(), zbs::Meta::Role::Candidate);
}

}  // namespace
