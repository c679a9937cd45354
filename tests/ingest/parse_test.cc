// Line parsers, classifiers and time handling on single lines copied from the seeds and the real
// logs (ZooKeeper 3.4 / 3.8 / 3.9 layouts, zbs-metad glog with [ZOO] lines, detector output).
#include <gtest/gtest.h>

#include "tools/ingest/parse.h"
#include "tools/ingest/timeline.h"

namespace zksim::ingest {
namespace {

TEST(ingest_time, CivilRoundTripAndFormatting) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2025, 7, 20), 20289);
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(20289, y, m, d);
  EXPECT_EQ(y, 2025);
  EXPECT_EQ(m, 7u);
  EXPECT_EQ(d, 20u);
  // 2025-07-20 00:02:04.749 at +08:00 is 2025-07-19 16:02:04.749 UTC.
  const std::int64_t t = local_to_utc_ns(2025, 7, 20, 0, 2, 4, 749'000'000, 8 * 3600);
  EXPECT_EQ(t, 1752940924749000000);
  EXPECT_EQ(format_utc(t), "2025-07-19T16:02:04.749000Z");
  EXPECT_EQ(format_local(t, 8 * 3600), "2025-07-20 00:02:04.749000");
}

TEST(ingest_time, TimeZones) {
  EXPECT_EQ(parse_tz_offset("UTC"), 0);
  EXPECT_EQ(parse_tz_offset("Z"), 0);
  EXPECT_EQ(parse_tz_offset("+08:00"), 8 * 3600);
  EXPECT_EQ(parse_tz_offset("+0800"), 8 * 3600);
  EXPECT_EQ(parse_tz_offset("UTC+8"), 8 * 3600);
  EXPECT_EQ(parse_tz_offset("-05:30"), -(5 * 3600 + 30 * 60));
  for (const char* bad : {"Mars/Olympus", "", "+25:00", "+8:0", "CST", "08:00", "+08:60"}) {
    try {
      parse_tz_offset(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const IngestError& e) {
      EXPECT_NE(std::string(e.what()).find("unknown time zone"), std::string::npos) << e.what();
    }
  }
}

TEST(ingest_zk_line, Layout39SeedLine) {
  auto z = parse_zk_line(
      "2025-07-20T00:02:04,749 [myid:] - WARN  [QuorumPeer[myid=1](plain=10.10.10.146:2181)"
      "(secure=disabled):Follower@100] - Exception when following the leader");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->year, 2025);
  EXPECT_EQ(z->millis, 749u);
  EXPECT_EQ(z->myid, -1);
  EXPECT_EQ(z->level, "WARN");
  EXPECT_EQ(z->thread, "QuorumPeer[myid=1](plain=10.10.10.146:2181)(secure=disabled)");
  EXPECT_EQ(z->class_name, "Follower");
  EXPECT_EQ(z->source_line, 100);
  EXPECT_EQ(z->message, "Exception when following the leader");
  EXPECT_EQ(myid_from_thread(z->thread), 1);
  Event ev;
  ASSERT_TRUE(classify_zk_message(*z, "java.net.SocketTimeoutException: Read timed out", "", ev));
  EXPECT_EQ(ev.type, EventType::kFollowerException);
  EXPECT_EQ(ev.detail, "java.net.SocketTimeoutException: Read timed out");
}

TEST(ingest_zk_line, Layout34AndPeerStates) {
  auto z = parse_zk_line(
      "2015-07-29 19:04:12,394 - INFO  [/10.10.34.11:3888:QuorumCnxManager$Listener@493] - "
      "Received connection request /10.10.34.11:45307\r");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->thread, "/10.10.34.11:3888");
  EXPECT_EQ(z->class_name, "QuorumCnxManager$Listener");
  EXPECT_EQ(z->message, "Received connection request /10.10.34.11:45307");

  auto p = parse_zk_line(
      "2025-07-20T00:02:06,066 [myid:] - INFO  [QuorumPeer[myid=4](plain=10.10.10.152:2181)"
      "(secure=disabled):QuorumPeer@751] - Peer state changed: following - discovery");
  ASSERT_TRUE(p);
  Event ev;
  ASSERT_TRUE(classify_zk_message(*p, "", "", ev));
  EXPECT_EQ(ev.type, EventType::kPeerState);
  EXPECT_EQ(ev.state, "following");
  EXPECT_EQ(ev.phase, "discovery");

  auto t = parse_zk_line(
      "2017-09-13 11:19:30,520 [myid:2] - INFO  [QuorumPeer[myid=2]/0:0:0:0:0:0:0:0:2181:"
      "Leader@361] - LEADING - LEADER ELECTION TOOK - 277");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->myid, 2);
  Event e2;
  ASSERT_TRUE(classify_zk_message(*t, "", "", e2));
  EXPECT_EQ(e2.type, EventType::kElectionTook);
  EXPECT_EQ(e2.state, "leading");
  EXPECT_EQ(e2.num, 277);

  auto q = parse_zk_line(
      "2026-11-23 00:27:59,470 [myid:5] - INFO  [QuorumPeer[myid=5](plain=127.0.1.5:2181)"
      "(secure=disabled):Leader@1046] - Shutdown called. For the reason Not sufficient followers "
      "synced, only synced with sids: [ [5] ]");
  ASSERT_TRUE(q);
  Event e3;
  ASSERT_TRUE(classify_zk_message(*q, "", "", e3));
  EXPECT_EQ(e3.type, EventType::kLeaderQuorumLoss);
  EXPECT_EQ(e3.detail, "Not sufficient followers synced, only synced with sids: [ [5] ]");
}

TEST(ingest_zk_line, RejectsDamagedLines) {
  EXPECT_FALSE(parse_zk_line("2025-07-20T00:02:0"));
  EXPECT_FALSE(parse_zk_line("2025-13-20T00:02:04,749 [myid:] - WARN  [a:B@1] - x"));
  EXPECT_FALSE(parse_zk_line("2025-07-20T00:02:04,749 [myid:] - WARN  [QuorumPeer[myid=1]"));
  EXPECT_FALSE(parse_zk_line("\tat java.net.SocketInputStream.read(SocketInputStream.java:171)"));
}

TEST(ingest_glog, MetaLinesAndZooClientLines) {
  auto g = parse_glog_line(
      "I0804 21:23:30.942200 22200 quorum_cluster.cc:443] QuorumCluster state change: Running "
      "--> Running_Connecting");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->severity, 'I');
  EXPECT_EQ(g->micros, 942200u);
  EXPECT_EQ(g->thread, 22200u);
  EXPECT_EQ(g->source_file, "quorum_cluster.cc");
  EXPECT_EQ(g->source_line, 443);
  Event ev;
  ASSERT_TRUE(classify_meta_message(g->source_file, g->message, ev));
  EXPECT_EQ(ev.type, EventType::kQuorumClusterState);
  EXPECT_EQ(ev.prev, "Running");
  EXPECT_EQ(ev.state, "Running_Connecting");

  // Go glog pads the thread id: "W0805 00:23:23.902854    7158 client.go:290] ..."
  EXPECT_TRUE(parse_glog_line("W0805 00:23:23.902854    7158 client.go:290] [zbs-client] x"));

  auto z = parse_glog_line(
      "E0720 00:02:04.957154 25813 main.cc:81] [ZOO] handle_socket_error_msg:2647 2025-07-20 "
      "00:02:04,957:5095(0x7f5955d6b700):ZOO_ERROR@handle_socket_error_msg@2647: Socket "
      "[10.10.10.148:2181] zk retcode=-4, errno=112(Host is down): failed while receiving a server "
      "response");
  ASSERT_TRUE(z);
  Event ce;
  ASSERT_TRUE(classify_meta_message(z->source_file, z->message, ce));
  EXPECT_EQ(ce.type, EventType::kConnectionError);
  EXPECT_EQ(ce.server, "10.10.10.148:2181");
  EXPECT_EQ(ce.num, 112);
  EXPECT_EQ(ce.num2, -4);
  EXPECT_EQ(ce.state, "Host is down");
  EXPECT_EQ(ce.detail, "failed while receiving a server response");

  Event te;
  ASSERT_TRUE(classify_meta_message("zookeeper.cc", "Start the session timeout timer: 200", te));
  EXPECT_EQ(te.type, EventType::kLocalTimerStart);
  EXPECT_EQ(te.num, 200);
  Event re;
  ASSERT_TRUE(classify_meta_message("quorum_cluster.cc",
                                    "[ROLE CHANGE] I am the leader now.  seq is 53", re));
  EXPECT_EQ(re.type, EventType::kMetaRoleChange);
  EXPECT_EQ(re.state, "leader");
  EXPECT_EQ(re.num, 53);
  Event none;
  EXPECT_FALSE(classify_meta_message("meta_rpc_server.cc", "[COW PEXTENT]: pid: 3379307", none));
}

TEST(ingest_detector, MatrixAndMultiLeader) {
  auto d = parse_detector_line("2022/08/04 20:15:00.883250 quorum matrix: [L L]");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 2022);
  EXPECT_EQ(d->micros, 883250u);
  Event ev;
  ASSERT_TRUE(classify_detector_message(d->message, ev));
  EXPECT_EQ(ev.type, EventType::kDetectorMatrix);
  EXPECT_EQ(ev.state, "L L");
  EXPECT_EQ(ev.num, 2);
  Event m;
  ASSERT_TRUE(classify_detector_message("more than 1 leader appear at this tick, cnt=2", m));
  EXPECT_EQ(m.type, EventType::kDetectorMultiLeader);
  EXPECT_EQ(m.num, 2);
}

TEST(ingest_gc, RecognizesGcLayouts) {
  EXPECT_TRUE(looks_like_gc_line(
      "[0.202s][info][gc] GC(0) Pause Young (G1 Evacuation Pause) 14M->12M(128M) 6.529ms"));
  EXPECT_TRUE(looks_like_gc_line("0.356: [GC pause (young) 4096K->3936K(16M), 0.0121737 secs]"));
  EXPECT_TRUE(looks_like_gc_line(
      "2022-08-01T17:17:33.375+0000: 0.163: #0: [GC pause (G1 Evacuation Pause) (young), "
      "0.0087570 secs]"));
  EXPECT_FALSE(looks_like_gc_line("I0804 21:23:30.942200 22200 quorum_cluster.cc:443] x"));
}

TEST(ingest_types, NamesRoundTrip) {
  for (int i = 0; i < kEventTypeCount; ++i) {
    auto t = static_cast<EventType>(i);
    auto back = event_type_from_name(event_type_name(t));
    ASSERT_TRUE(back) << event_type_name(t);
    EXPECT_EQ(*back, t);
  }
  EXPECT_FALSE(event_type_from_name("no_such_type"));
}

}  // namespace
}  // namespace zksim::ingest
