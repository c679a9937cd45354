// The two seed incidents (../shared/seeds/*.txt): their log excerpts are cut out of the notes at
// test time into a temporary cluster-log folder laid out like a real bundle, then ingested.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tests/ingest/test_util.h"
#include "tools/ingest/parse.h"

namespace zksim::ingest {
namespace {

namespace fs = std::filesystem;

using testing::of_type;
using testing::TempDir;

constexpr int kChina = 8 * 3600;  // both seed clusters log in +08:00

std::vector<std::string> seed_lines(const char* name) {
  std::istringstream in(testing::read_file(testing::shared_dir() / "seeds" / name));
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool is_glog(const std::string& l) {
  return parse_glog_line(l).has_value();
}

// 2025-07-20 election storm: ZooKeeper lines go to the host named in their thread
// ("(plain=10.10.10.146:2181)"), stack-trace lines follow their record, and glog lines go to the
// file named by the "// <path>" comment of their block.
void build_storm_fixture(const TempDir& dir) {
  std::map<std::string, std::string> files;
  std::string target, glog_target;
  bool in_block = false;
  for (const std::string& l : seed_lines("incident-2025-07-20-zk-election-storm.txt")) {
    if (l.starts_with("```")) {
      in_block = !in_block;
      glog_target.clear();
      target.clear();
      continue;
    }
    if (!in_block) continue;
    if (l.starts_with("// ")) {
      glog_target = l.substr(3);
      continue;
    }
    if (auto z = parse_zk_line(l)) {
      auto p = l.find("(plain=");
      if (p == std::string::npos) {
        target.clear();  // a line of a host the note does not name: leave it out
        continue;
      }
      std::string host = l.substr(p + 7, l.find(':', p) - p - 7);
      std::replace(host.begin(), host.end(), '.', '_');
      target = host + "/base_component_logs/zookeeper/zookeeper.log";
      files[target] += l + "\n";
    } else if ((l.starts_with("java.") || l.starts_with("\tat ")) && !target.empty()) {
      files[target] += l + "\n";
    } else if (is_glog(l) && !glog_target.empty()) {
      files[glog_target] += l + "\n";
    }
  }
  ASSERT_EQ(files.size(), 3u);
  for (const auto& [rel, text] : files) dir.write(rel, text);
}

TEST(ingest_seed, ElectionStorm20250720) {
  if (!fs::exists(testing::shared_dir() / "seeds")) GTEST_SKIP() << "shared data absent";
  TempDir dir;
  build_storm_fixture(dir);
  IngestOptions opt;
  opt.tz = "+08:00";
  Timeline tl = ingest_dir(dir.path(), opt);
  auto at = [](const Event* e) { return format_local(e->time_ns, kChina); };
  for (const FileReport& f : tl.files) EXPECT_EQ(f.unknown, 0u) << f.path;

  // The follower exception on myid 1 at 00:02:04,749 and its cause.
  auto fe = of_type(tl, EventType::kFollowerException);
  ASSERT_EQ(fe.size(), 1u);
  EXPECT_EQ(at(fe[0]), "2025-07-20 00:02:04.749000");
  EXPECT_EQ(fe[0]->time_ns, 1752940924749000000);  // UTC ns
  EXPECT_EQ(fe[0]->host, "10.10.10.146");
  EXPECT_EQ(fe[0]->myid, 1);
  EXPECT_EQ(fe[0]->detail, "java.net.SocketTimeoutException: Read timed out");

  // The meta's client: CONNECTING at 00:02:04.948, local timer 200 ms, EXPIRED at 00:02:05.148.
  auto sc = of_type(tl, EventType::kClientStateChange);
  ASSERT_EQ(sc.size(), 2u);
  EXPECT_EQ(at(sc[0]), "2025-07-20 00:02:04.948875");
  EXPECT_EQ(sc[0]->prev, "CONNECTED_STATE");
  EXPECT_EQ(sc[0]->state, "CONNECTING_STATE");
  EXPECT_EQ(at(sc[1]), "2025-07-20 00:02:05.148986");
  EXPECT_EQ(sc[1]->state, "EXPIRED_SESSION_STATE");
  EXPECT_EQ(sc[1]->host, "10.10.10.152");
  EXPECT_EQ(sc[1]->process, Process::kMeta);
  auto ts = of_type(tl, EventType::kLocalTimerStart);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0]->num, 200);
  EXPECT_EQ(at(ts[0]), "2025-07-20 00:02:04.948887");
  auto tp = of_type(tl, EventType::kLocalTimerStop);
  ASSERT_EQ(tp.size(), 1u);
  EXPECT_EQ(at(tp[0]), "2025-07-20 00:02:05.148940");
  EXPECT_EQ(tp[0]->time_ns - ts[0]->time_ns, 200'053'000);  // the 200 ms timer, as logged

  // Connection errors: timed out on .152, then "Host is down" from .148 and .153.
  std::vector<std::string> errs;
  for (const Event* e : of_type(tl, EventType::kConnectionError))
    errs.push_back(fmt::format("{} {} rc={} errno={}({})", at(e).substr(11), e->server, e->num2,
                               e->num, e->state));
  EXPECT_EQ(errs, (std::vector<std::string>{
                      "00:02:04.948199 10.10.10.152:2181 rc=-7 errno=110(Connection timed out)",
                      "00:02:04.957154 10.10.10.148:2181 rc=-4 errno=112(Host is down)",
                      "00:02:05.058606 10.10.10.153:2181 rc=-4 errno=112(Host is down)",
                  }));
  EXPECT_EQ(of_type(tl, EventType::kClientConnectInitiated).size(), 3u);
  EXPECT_EQ(of_type(tl, EventType::kClientDelaying).size(), 1u);
  auto qc = of_type(tl, EventType::kQuorumClusterState);
  ASSERT_EQ(qc.size(), 1u);
  EXPECT_EQ(qc[0]->state, "Running_Connecting");

  // myid 4's state history 00:02:06 → 00:23:05.
  std::vector<std::string> h;
  for (const Event* e : of_type(tl, EventType::kPeerState)) {
    EXPECT_EQ(e->myid, 4);
    EXPECT_EQ(e->host, "10.10.10.152");
    h.push_back(at(e).substr(11, 12) + " " + e->state + (e->phase.empty() ? "" : " - " + e->phase));
  }
  EXPECT_EQ(
      h, (std::vector<std::string>{
             "00:02:06.008 looking", "00:02:06.064 following", "00:02:06.066 following - discovery",
             "00:02:10.076 looking", "00:02:10.086 following", "00:02:10.086 following - discovery",
             "00:23:03.327 leading - discovery", "00:23:04.361 leading - synchronization",
             "00:23:05.670 leading - broadcast"}));

  // The summary: ~21 minutes with no ZooKeeper leader, then myid 4 leads.
  Summary s = summarize(tl, kChina);
  ASSERT_EQ(s.zk_leaders.size(), 1u);
  EXPECT_EQ(s.zk_leaders[0].myid, 4);
  EXPECT_EQ(format_local(s.zk_leaders[0].start_ns, kChina), "2025-07-20 00:23:03.327000");
  ASSERT_EQ(s.no_zk_leader.size(), 1u);
  EXPECT_EQ(format_local(s.no_zk_leader[0].start_ns, kChina), "2025-07-20 00:02:06.008000");
  EXPECT_EQ(s.no_zk_leader[0].end_ns - s.no_zk_leader[0].start_ns, 1'257'319'000'000);
  const auto& day = s.per_host_day.at("10.10.10.146").at("2025-07-20");
  EXPECT_EQ(day[static_cast<std::size_t>(EventType::kFollowerException)], 1u);
  std::string text = render_summary(tl, s, kChina);
  EXPECT_NE(text.find("10.10.10.146     2025-07-20 follower_exception=1"), std::string::npos)
      << text;
}

// 2022-08-04 ifdown: node2's meta loses ZooKeeper (its errno line is wrapped over two lines in the
// note), node3 becomes meta leader, the detector prints the quorum matrix per tick.
void build_ifdown_fixture(const TempDir& dir, const std::string& node2_prefix,
                          bool node3_later = false) {
  std::map<std::string, std::string> files;
  const std::string n2 = "172_16_91_2/zbs_logs/zbs-metad/zbs-metad.log.20220804-212000.22188";
  const std::string n3 = "172_16_91_3/zbs_logs/zbs-metad/zbs-metad.log.20220804-212000.19959";
  const std::string det = "detector/detector.log";
  files[n2] = node2_prefix;
  std::string target;
  bool in_block = false;
  for (const std::string& l : seed_lines("ifdown-2022-08-04-dual-leader.txt")) {
    if (l == "# detector") break;  // later excerpts mix hosts and days
    if (l.starts_with("```")) {
      in_block = !in_block;
      target = in_block ? det : "";
      continue;
    }
    if (!in_block || l.empty()) continue;
    if (l.starts_with("# node2")) {
      target = n2;
    } else if (l.starts_with("# node3")) {
      target = n3;
    } else if (l.starts_with("#")) {
      continue;
    } else if (!target.empty()) {
      files[target] += l + "\n";
    }
  }
  if (node3_later) {
    // node3's own later line from the same note (it leads again at 00:23:20 the next day): its
    // log goes on, so its leadership does not end with the first excerpt.
    for (const std::string& l : seed_lines("ifdown-2022-08-04-dual-leader.txt"))
      if (l.starts_with("I0805 00:23:20.124768 19959 ")) files[n3] += l + "\n";
  }
  for (const auto& [rel, text] : files) dir.write(rel, text);
}

TEST(ingest_seed, Ifdown20220804MetaAndDetector) {
  if (!fs::exists(testing::shared_dir() / "seeds")) GTEST_SKIP() << "shared data absent";
  TempDir dir;
  build_ifdown_fixture(dir, "");
  IngestOptions opt;
  opt.tz = "+08:00";
  Timeline tl = ingest_dir(dir.path(), opt);
  auto at = [](const Event* e) { return format_local(e->time_ns, kChina); };
  ASSERT_EQ(tl.files.size(), 3u);
  for (const FileReport& f : tl.files) {
    EXPECT_EQ(f.unknown, 0u) << f.path;
    if (f.host == "172.16.91.2") {
      EXPECT_EQ(f.kind, FileKind::kMeta);
      EXPECT_EQ(f.continuation, 3u);  // the wrapped errno text, "Traceback:", "[EAgain]:"
    }
    if (f.host == "detector") {
      EXPECT_EQ(f.kind, FileKind::kDetector);
    }
  }
  // The wrapped C-client line is one record.
  auto ce = of_type(tl, EventType::kConnectionError);
  ASSERT_EQ(ce.size(), 1u);
  EXPECT_EQ(at(ce[0]), "2022-08-04 21:23:30.942003");
  EXPECT_EQ(ce[0]->server, "172.16.91.1:2181");
  EXPECT_EQ(ce[0]->num, 110);
  EXPECT_EQ(ce[0]->state, "Connection timed out");
  EXPECT_EQ(ce[0]->detail.substr(ce[0]->detail.find("connection")),
            "connection to 172.16.91.1:2181 timed out (exceeded timeout by 2ms)");

  std::vector<std::string> meta;
  for (const Event& e : tl.events) {
    if (e.process != Process::kMeta) continue;
    std::string what = std::string(event_type_name(e.type));
    if (!e.prev.empty()) what += " " + e.prev + " -> " + e.state;
    if (e.type == EventType::kLocalTimerStart || e.type == EventType::kMetaRoleChange)
      what += fmt::format(" {} {}", e.state, e.num);
    meta.push_back(fmt::format("{} {} {}", at(&e).substr(11), e.host, what));
  }
  EXPECT_EQ(meta, (std::vector<std::string>{
                      "21:21:58.612960 172.16.91.3 meta_start",
                      "21:23:30.942003 172.16.91.2 connection_error",
                      "21:23:30.942158 172.16.91.2 client_state_change CONNECTED_STATE -> "
                      "CONNECTING_STATE",
                      "21:23:30.942174 172.16.91.2 local_timer_start  3600",
                      "21:23:30.942200 172.16.91.2 quorum_cluster_state Running -> "
                      "Running_Connecting",
                      "21:23:34.126585 172.16.91.3 meta_role_change leader 53",
                      "21:23:34.542235 172.16.91.2 local_timer_stop",
                      "21:23:34.542359 172.16.91.2 client_state_change CONNECTING_STATE -> "
                      "EXPIRED_SESSION_STATE",
                      "21:23:34.542371 172.16.91.2 meta_session_timeout",
                      "21:23:34.542377 172.16.91.2 quorum_cluster_state Running_Connecting -> "
                      "Expired",
                      "21:23:34.542412 172.16.91.2 meta_quorum_stopping",
                      "21:23:34.542415 172.16.91.2 quorum_cluster_state Expired -> Stopped",
                  }));

  std::vector<std::string> det;
  for (const Event& e : tl.events) {
    if (e.process != Process::kDetector) continue;
    det.push_back(
        fmt::format("{} {} {} {}", at(&e).substr(11), event_type_name(e.type), e.state,
                    e.type == EventType::kDetectorCmd ? e.detail : std::to_string(e.num)));
  }
  EXPECT_EQ(det, (std::vector<std::string>{
                     "20:15:00.456073 detector_cmd  ifdown ens224",
                     "20:15:00.514593 detector_matrix L X 1",
                     "20:15:00.883173 detector_multi_leader  2",
                     "20:15:00.883250 detector_matrix L L 2",
                     "20:15:01.049143 detector_error  0",
                     "20:15:01.160537 detector_matrix X L 1",
                     "20:15:01.346164 detector_error  0",
                     "20:15:01.497170 detector_matrix X L 1",
                     "20:15:02.166984 detector_cmd  ifup ens224",
                 }));
}

TEST(ingest_seed, Ifdown20220804DualMetaLeaderWindow) {
  if (!fs::exists(testing::shared_dir() / "seeds")) GTEST_SKIP() << "shared data absent";
  TempDir dir;
  // The note does not show when node2 became leader; this one synthetic line (not from the seed)
  // says it led before the fault, as the note's text states.
  build_ifdown_fixture(dir,
                       "I0804 21:00:00.000000 22200 quorum_cluster.cc:518] [ROLE CHANGE] I am the "
                       "leader now.  seq is 52\n",
                       /*node3_later=*/true);
  IngestOptions opt;
  opt.tz = "+08:00";
  Timeline tl = ingest_dir(dir.path(), opt);
  Summary s = summarize(tl, kChina);
  ASSERT_EQ(s.meta_leaders.size(), 2u);
  EXPECT_EQ(s.meta_leaders[0].host, "172.16.91.2");
  EXPECT_EQ(s.meta_leaders[0].end_reason, "session expired");
  EXPECT_EQ(s.meta_leaders[1].host, "172.16.91.3");
  EXPECT_EQ(format_local(s.meta_leaders[1].end_ns, kChina), "2022-08-05 00:23:20.124768");
  // node3 leads at 21:23:34.126585 while node2 holds on until its session expires at .542359.
  std::vector<LeaderWindow> dual;
  for (const auto& w : s.meta_windows)
    if (w.leaders >= 2) dual.push_back(w);
  ASSERT_EQ(dual.size(), 1u);
  EXPECT_EQ(format_local(dual[0].start_ns, kChina), "2022-08-04 21:23:34.126585");
  EXPECT_EQ(format_local(dual[0].end_ns, kChina), "2022-08-04 21:23:34.542359");
  EXPECT_EQ(dual[0].end_ns - dual[0].start_ns, 415'774'000);  // "two leaders for 416 ms"
  EXPECT_EQ(dual[0].who, (std::vector<std::string>{"172.16.91.2", "172.16.91.3"}));
}

}  // namespace
}  // namespace zksim::ingest
