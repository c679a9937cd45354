// The simulated zookeeper.log files follow the real 3.9 log4j layout, so the seed's pipelines
// (`rg 'Exception when following the leader' | grep '07-20T' | grep 'myid=1' | wc -l`) work.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/zk/cluster.h"

namespace zktest {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

TEST(zkLogs, SeedPipelinesCountSimulatedExceptions) {
  std::string dir = std::string(ZKSIM_BINARY_DIR) + "/zk_log_test";
  std::filesystem::remove_all(dir);
  zk::Config cfg;
  Cluster c(5, cfg, 1);
  c.sim.logs.set_dir(dir);
  c.sim.logs.wall_epoch_ns = sim::ns_from_civil(2025, 7, 20, 0, 0, 0);
  TestClient cl(c.sim, "cA", "node1");
  c.run_until(s(20));
  ASSERT_TRUE(c.stable());
  int l = c.leader();
  int f = l == 1 ? 2 : 1;
  cl.connect(f, s(4));
  c.run_for(s(1));
  ASSERT_TRUE(cl.connected);
  cl.set_pinging(false);  // expires: "Expiring session"
  c.run_for(s(10));
  c.pause(c.leader(), s(12));
  c.run_for(s(20));
  l = c.leader();
  c.pause(l, s(12));
  c.run_for(s(20));
  c.sim.logs.flush();

  for (int id = 1; id <= 5; ++id) {
    size_t expected =
        c.records("zk.follower.exception", Time::zero(), fmt::format("zk:{}", id)).size();
    std::string got =
        run(fmt::format("grep -rh 'Exception when following the leader' {} | grep '07-20T' | grep "
                        "'myid={}' | wc -l",
                        dir, id));
    EXPECT_EQ(got, std::to_string(expected)) << "myid=" << id;
  }
  std::string total = run("grep -rh 'Exception when following the leader' " + dir + " | wc -l");
  EXPECT_EQ(total, std::to_string(c.records("zk.follower.exception").size()));
  EXPECT_GE(std::stoi(total), 8);
  EXPECT_NE(run("grep -rh 'Peer state changed: following - discovery' " + dir + " | wc -l"), "0");
  EXPECT_NE(run("grep -rhE 'LEADING - LEADER ELECTION TOOK - [0-9]+ MS' " + dir + " | wc -l"), "0");
  EXPECT_NE(run("grep -rh 'Not sufficient followers synced, only synced with sids: \\[ \\[' " +
                dir + " | wc -l"),
            "0");
  EXPECT_EQ(run("grep -rhE 'Expiring session 0x[0-9a-f]+, timeout of 4000ms exceeded' " + dir +
                " | wc -l"),
            "1");
  // The exact layout of the seed line.
  std::ifstream in(dir + fmt::format("/node{}/zookeeper.log", f));
  std::string line, prev;
  std::regex layout(
      R"(^2025-07-20T\d\d:\d\d:\d\d,\d{3} \[myid:\] - WARN  \[QuorumPeer\[myid=\d\]\(plain=node\d:2181\)\(secure=disabled\):Follower@100\] - Exception when following the leader$)");
  int matched = 0;
  while (std::getline(in, line)) {
    if (std::regex_match(prev, layout)) {
      ++matched;
      EXPECT_EQ(line, "java.net.SocketTimeoutException: Read timed out");
    }
    if (prev == "java.net.SocketTimeoutException: Read timed out") {
      EXPECT_EQ(line.rfind("\tat ", 0), 0u);
    }
    prev = line;
  }
  EXPECT_GE(matched, 1);
}

// Log lines show the scenario's host addresses where ZooKeeper prints an address (the
// QuorumPeer thread name, learner and leader connections), never the simulator's host names.
TEST(zkLogs, AddressesNotHostNames) {
  std::string dir = std::string(ZKSIM_BINARY_DIR) + "/zk_log_test_addr";
  std::filesystem::remove_all(dir);
  Cluster c(5, {}, 2);
  for (int id = 1; id <= 5; ++id)
    c.sim.net.set_host_address(c.host(id), fmt::format("10.10.10.{}", 140 + id));
  c.sim.logs.set_dir(dir);
  c.run_until(s(20));
  ASSERT_TRUE(c.stable());
  c.pause(c.leader(), s(12));
  c.run_for(s(20));
  c.sim.logs.flush();
  for (int id = 1; id <= 5; ++id) {
    std::string n = run(
        fmt::format("grep -c 'QuorumPeer\\[myid={}\\](plain=10.10.10.{}:2181)(secure=disabled)' "
                    "{}/node{}/zookeeper.log",
                    id, 140 + id, dir, id));
    EXPECT_NE(n, "0") << "myid=" << id;
    EXPECT_NE(n, "") << "myid=" << id;
  }
  EXPECT_NE(run("grep -rhE 'Successfully connected to leader, using address: "
                "/10\\.10\\.10\\.14[1-5]:2888' " +
                dir + " | wc -l"),
            "0");
  EXPECT_NE(run("grep -rhE 'Follower sid: ([1-5]) : info : 10\\.10\\.10\\.14\\1:2888:3888' " + dir +
                " | wc -l"),
            "0");
  EXPECT_NE(run("grep -rhE 'LearnerHandler-/10\\.10\\.10\\.14[1-5]:[0-9]+' " + dir + " | wc -l"),
            "0");
  // No simulator host name anywhere in the log text.
  EXPECT_EQ(run("grep -rhE 'node[0-9]' " + dir + " | wc -l"), "0");
}

// Election connections at start, as in the real 3.8 loopback logs (../shared/data/zk-server-logs/
// real-3.8-loopback): a smaller sid that dials a larger one connects, logs "Have smaller server
// identifier, so dropping the connection" and is dialled back. Without faults no connect times out
// (the simulated refusal once put the FIN ahead of the SYN-ACK: every start logged "connect timed
// out" 5 s in).
TEST(zkLogs, ElectionConnectionsAtStartAsInRealLogs) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    std::string dir = std::string(ZKSIM_BINARY_DIR) + "/zk_log_test_qcm";
    std::filesystem::remove_all(dir);
    Cluster c(5, {}, seed);
    c.sim.logs.set_dir(dir);
    c.run_until(s(20));
    ASSERT_TRUE(c.stable());
    c.sim.logs.flush();
    EXPECT_EQ(run("grep -rh 'connect timed out' " + dir + " | wc -l"), "0");
    EXPECT_NE(run("grep -rhE 'Have smaller server identifier, so dropping the connection: "
                  "\\(myId:[1-4] --> sid:[2-5]\\)' " +
                  dir + " | wc -l"),
              "0");
  }
}

}  // namespace
}  // namespace zktest
