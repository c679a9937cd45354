// Ingest of the real ZooKeeper server logs in ../shared/data/zk-server-logs: loghub's 3.4 sample
// (checked line by line against loghub's own structured CSV), the 3-node 3.4.9 log (leader history
// and the stop of myid 1 extracted exactly) and the 3.8 loopback runs (one folder per peer, gzip).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/ingest/test_util.h"
#include "tools/ingest/parse.h"

namespace zksim::ingest {
namespace {

namespace fs = std::filesystem;

using testing::count_type;
using testing::of_type;
using testing::shared_dir;

fs::path logs_dir() {
  return shared_dir() / "data" / "zk-server-logs";
}

#define REQUIRE_SHARED(p) \
  if (!fs::exists(p)) GTEST_SKIP() << "shared data absent: " << (p)

// Minimal RFC 4180 reader: quoted fields, "" escapes, CRLF records.
std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::string text = testing::read_file(p);
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(field);
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// Lines of a plain or gzipped file, read independently of the ingest reader.
std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> out;
  gzFile g = gzopen(p.c_str(), "rb");
  if (g == nullptr) return out;
  std::string cur;
  char buf[8192];
  while (gzgets(g, buf, sizeof buf) != nullptr) {
    cur += buf;
    if (!cur.empty() && cur.back() == '\n') {
      cur.pop_back();
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  gzclose(g);
  return out;
}

// The key event a loghub template stands for (nullopt: a line ingest does not keep).
std::optional<EventType> type_of_template(const std::string& t) {
  static const std::vector<std::pair<std::string, EventType>> prefix = {
      {"******* GOODBYE", EventType::kLearnerGoodbye},
      {"Cannot open channel to", EventType::kElectionChannelFailed},
      {"Connection broken for id", EventType::kPeerConnectionBroken},
      {"Established session", EventType::kSessionEstablished},
      {"Expiring session", EventType::kSessionExpiry},
      {"FOLLOWING - LEADER ELECTION TOOK", EventType::kElectionTook},
      {"Have quorum of supporters", EventType::kLeaderQuorumFormed},
      {"New election.", EventType::kNewElection},
      {"Notification time out", EventType::kNotificationTimeout},
      {"Notification: ", EventType::kFleNotification},
      {"Starting quorum peer", EventType::kPeerStart},
      {"Unexpected exception causing shutdown", EventType::kLearnerHandlerError},
  };
  if (t == "FOLLOWING" || t == "LOOKING" || t == "LEADING") return EventType::kPeerRole;
  for (const auto& [p, ty] : prefix)
    if (t.rfind(p, 0) == 0) return ty;
  return std::nullopt;
}

TEST(ingest_real_logs, LoghubEveryLineMatchesStructuredCsv) {
  const fs::path dir = logs_dir() / "loghub";
  REQUIRE_SHARED(dir);
  auto rows = read_csv(dir / "Zookeeper_2k.log_structured.csv");
  auto lines = read_lines(dir / "Zookeeper_2k.log");
  ASSERT_EQ(rows.size(), 2001u);  // header + 2000
  ASSERT_EQ(lines.size(), 2000u);
  ASSERT_EQ(rows[0][0], "LineId");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    ASSERT_EQ(r.size(), 10u) << "csv row " << i;
    auto z = parse_zk_line(lines[i - 1]);
    ASSERT_TRUE(z) << "line " << i << ": " << lines[i - 1];
    EXPECT_EQ(fmt::format("{:04}-{:02}-{:02}", z->year, z->month, z->day), r[1]) << "line " << i;
    EXPECT_EQ(fmt::format("{:02}:{:02}:{:02},{:03}", z->hour, z->minute, z->second, z->millis),
              r[2])
        << "line " << i;
    EXPECT_EQ(z->level, r[3]) << "line " << i;
    EXPECT_EQ(std::to_string(z->source_line), r[6]) << "line " << i;
    EXPECT_EQ(z->message, r[7]) << "line " << i;
    // loghub splits "thread:Class" at the first ':'; the class is the tail of its Component.
    EXPECT_TRUE(r[5].ends_with(std::string(z->class_name))) << "line " << i << " " << r[5];
  }
}

TEST(ingest_real_logs, LoghubCountsPerEventTypeFollowCsvTemplates) {
  const fs::path dir = logs_dir() / "loghub";
  REQUIRE_SHARED(dir);
  auto rows = read_csv(dir / "Zookeeper_2k.log_structured.csv");
  std::map<EventType, std::size_t> expected;
  std::map<std::uint64_t, EventType> expected_at_line;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (auto t = type_of_template(rows[i][9])) {
      ++expected[*t];
      expected_at_line[std::stoull(rows[i][0])] = *t;
    }
  }
  // Sanity of the oracle itself (SOURCES.md: 40 expiries, 291 broken, 86 channel, 2 TOOK).
  ASSERT_EQ(expected[EventType::kSessionExpiry], 40u);
  ASSERT_EQ(expected[EventType::kPeerConnectionBroken], 291u);
  ASSERT_EQ(expected[EventType::kElectionChannelFailed], 86u);
  ASSERT_EQ(expected[EventType::kElectionTook], 2u);

  Timeline tl = ingest_dir(dir, IngestOptions{});
  std::map<EventType, std::size_t> got;
  for (const Event& e : tl.events) ++got[e.type];
  EXPECT_EQ(got, expected);
  // And each event sits on the very line the CSV names.
  std::uint32_t log_index = 0;
  for (std::uint32_t i = 0; i < tl.files.size(); ++i)
    if (tl.files[i].path == "Zookeeper_2k.log") log_index = i;
  ASSERT_EQ(tl.files[log_index].kind, FileKind::kZookeeper);
  EXPECT_EQ(tl.files[log_index].records, 2000u);
  EXPECT_EQ(tl.files[log_index].unknown, 0u);
  std::size_t checked = 0;
  for (const Event& e : tl.events) {
    ASSERT_EQ(e.file, log_index);
    auto it = expected_at_line.find(e.line);
    ASSERT_NE(it, expected_at_line.end()) << "unexpected event at line " << e.line;
    EXPECT_EQ(it->second, e.type) << "line " << e.line;
    ++checked;
  }
  EXPECT_EQ(checked, expected_at_line.size());
  // Payload spot checks: the two election times and the session timeouts.
  auto took = of_type(tl, EventType::kElectionTook);
  ASSERT_EQ(took.size(), 2u);
  std::vector<std::int64_t> ms{took[0]->num, took[1]->num};
  std::sort(ms.begin(), ms.end());
  EXPECT_EQ(ms, (std::vector<std::int64_t>{49, 238}));
  for (const Event* e : of_type(tl, EventType::kSessionExpiry))
    EXPECT_TRUE(e->num == 10000 || e->num == 20000) << e->num;
  // The other files (licence, readme, CSVs) are recognized as not being logs.
  for (const FileReport& f : tl.files)
    if (f.path != "Zookeeper_2k.log") {
      EXPECT_EQ(f.kind, FileKind::kUnknownText) << f.path;
    }
}

TEST(ingest_real_logs, Zk349ThreeNodeLeaderHistoryAndStopOfMyid1) {
  const fs::path dir = logs_dir() / "alstonwilliams-zk349-3node";
  REQUIRE_SHARED(dir);
  Timeline tl = ingest_dir(dir, IngestOptions{});  // UTC: times as printed
  Summary s = summarize(tl, 0);
  auto at = [](const Event* e) { return format_local(e->time_ns, 0); };

  // Roles per peer, in order.
  std::map<int, std::vector<std::string>> roles;
  for (const Event* e : of_type(tl, EventType::kPeerRole))
    roles[e->myid].push_back(at(e).substr(11) + " " + e->state);
  EXPECT_EQ(roles[1],
            (std::vector<std::string>{"11:19:28.527000 looking", "11:19:30.124000 following"}));
  EXPECT_EQ(roles[2], (std::vector<std::string>{"11:19:30.482000 leading"}));
  EXPECT_EQ(roles[3],
            (std::vector<std::string>{"11:19:31.056000 looking", "11:19:31.094000 following",
                                      "11:21:49.498000 looking"}));
  std::map<int, std::int64_t> took;
  for (const Event* e : of_type(tl, EventType::kElectionTook)) took[e->myid] = e->num;
  EXPECT_EQ(took, (std::map<int, std::int64_t>{{1, 1632}, {2, 277}, {3, 71}}));

  // Leader history: myid 2 led from 11:19:30.482 until its log ends at 11:21:49.287.
  ASSERT_EQ(s.zk_leaders.size(), 1u);
  EXPECT_EQ(s.zk_leaders[0].myid, 2);
  EXPECT_EQ(format_local(s.zk_leaders[0].start_ns, 0), "2017-09-13 11:19:30.482000");
  EXPECT_EQ(format_local(s.zk_leaders[0].end_ns, 0), "2017-09-13 11:21:49.287000");
  EXPECT_EQ(s.zk_leaders[0].end_reason, "log_end");
  ASSERT_EQ(s.no_zk_leader.size(), 2u);
  EXPECT_EQ(format_local(s.no_zk_leader[1].start_ns, 0), "2017-09-13 11:21:49.287000");
  EXPECT_EQ(format_local(s.no_zk_leader[1].end_ns, 0), "2017-09-13 11:21:50.146000");

  // The stop of myid 1 as its peers saw it.
  std::vector<std::string> broken;
  for (const Event* e : of_type(tl, EventType::kPeerConnectionBroken))
    broken.push_back(
        fmt::format("{} myid {} lost {} ({})", at(e).substr(11), e->myid, e->num, e->detail));
  EXPECT_EQ(broken, (std::vector<std::string>{
                        "11:21:48.855000 myid 3 lost 1 (java.io.EOFException)",
                        "11:21:49.267000 myid 2 lost 1 (java.io.EOFException)",
                        "11:21:49.485000 myid 3 lost 2 (java.io.EOFException)",
                    }));
  auto bye = of_type(tl, EventType::kLearnerGoodbye);
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(at(bye[0]), "2017-09-13 11:21:49.266000");
  EXPECT_EQ(bye[0]->server, "/192.168.56.101:51603");
  auto lh = of_type(tl, EventType::kLearnerHandlerError);
  ASSERT_EQ(lh.size(), 1u);
  EXPECT_EQ(at(lh[0]), "2017-09-13 11:21:49.261000");
  EXPECT_EQ(lh[0]->myid, 2);

  // The follower exception that ends the ensemble.
  auto fe = of_type(tl, EventType::kFollowerException);
  ASSERT_EQ(fe.size(), 1u);
  EXPECT_EQ(fe[0]->myid, 3);
  EXPECT_EQ(at(fe[0]), "2017-09-13 11:21:49.484000");
  EXPECT_EQ(fe[0]->detail, "java.io.EOFException");
  EXPECT_EQ(fe[0]->line, 442u);
  EXPECT_EQ(count_type(tl, EventType::kNotificationTimeout), 4u);
  // Stack traces are continuation, not unknown.
  const FileReport* log = nullptr;
  for (const FileReport& f : tl.files)
    if (f.path == "zookeeper.log") log = &f;
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->lines, 584u);
  EXPECT_EQ(log->unknown, 0u);
  EXPECT_EQ(log->records + log->continuation, 584u);
}

// Independent oracle: substring counts over the raw lines of every peer's file.
struct RawCounts {
  std::size_t follower_exc = 0, took = 0, peer_state = 0, goodbye = 0, quorum_loss = 0;
};
RawCounts raw_counts(const fs::path& run) {
  RawCounts c;
  for (const auto& f : walk_log_dir(run)) {
    for (const std::string& l : read_lines(f.path)) {
      c.follower_exc += l.find("] - Exception when following the leader") != std::string::npos;
      c.took += l.find(" - LEADER ELECTION TOOK - ") != std::string::npos;
      c.peer_state += l.find("] - Peer state changed: ") != std::string::npos;
      c.goodbye += l.find("] - ******* GOODBYE ") != std::string::npos;
      c.quorum_loss += l.find("Not sufficient followers synced") != std::string::npos;
    }
  }
  return c;
}

TEST(ingest_real_logs, Loopback38RunsParseWithoutUnknownLines) {
  const fs::path root = logs_dir() / "real-3.8-loopback";
  REQUIRE_SHARED(root);
  std::size_t runs = 0;
  for (const char* run : {"E1-run2", "E3-run1", "E4-run1"}) {
    ++runs;
    Timeline tl = ingest_dir(root / run, IngestOptions{});
    ASSERT_EQ(tl.files.size(), 5u) << run;
    for (std::size_t i = 0; i < tl.files.size(); ++i) {
      const FileReport& f = tl.files[i];
      EXPECT_EQ(f.kind, FileKind::kZookeeper) << f.path;
      EXPECT_EQ(f.host, fmt::format("127.0.1.{}", i + 1)) << f.path;
      EXPECT_EQ(f.unknown, 0u) << f.path;
      EXPECT_EQ(f.gzip, std::string(run) == "E3-run1") << f.path;
      EXPECT_GT(f.events, 0u);
    }
    // Every event of a host carries that host's myid (3.8 prints [myid:N]).
    for (const Event& e : tl.events)
      EXPECT_EQ(e.host, fmt::format("127.0.1.{}", e.myid)) << event_type_name(e.type);
    RawCounts raw = raw_counts(root / run);
    EXPECT_EQ(count_type(tl, EventType::kFollowerException), raw.follower_exc) << run;
    EXPECT_EQ(count_type(tl, EventType::kElectionTook), raw.took) << run;
    EXPECT_EQ(count_type(tl, EventType::kPeerState), raw.peer_state) << run;
    EXPECT_EQ(count_type(tl, EventType::kLearnerGoodbye), raw.goodbye) << run;
    EXPECT_EQ(count_type(tl, EventType::kLeaderQuorumLoss), raw.quorum_loss) << run;
    EXPECT_TRUE(
        std::is_sorted(tl.events.begin(), tl.events.end(),
                       [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; }));
  }
  EXPECT_EQ(runs, 3u);
}

TEST(ingest_real_logs, Loopback38LeaderHistories) {
  const fs::path root = logs_dir() / "real-3.8-loopback";
  REQUIRE_SHARED(root);
  auto history = [&](const char* run) {
    Timeline tl = ingest_dir(root / run, IngestOptions{});
    Summary s = summarize(tl, 0);
    std::vector<std::string> h;
    for (const auto& iv : s.zk_leaders)
      h.push_back(
          fmt::format("{} {} {}", iv.myid, format_local(iv.start_ns, 0).substr(11), iv.end_reason));
    return h;
  };
  // E1: leader 5 SIGSTOPped; the followers time out and elect 1; 5 wakes, loses its quorum.
  EXPECT_EQ(history("E1-run2"), (std::vector<std::string>{"5 00:27:37.595000 state looking",
                                                          "1 00:27:55.985000 log_end"}));
  // E3: leader 5 SIGKILLed (its log just stops) and restarted; 4 leads.
  EXPECT_EQ(history("E3-run1"),
            (std::vector<std::string>{"5 00:31:26.939000 restart", "4 00:31:36.452000 log_end"}));
  // E4: a follower paused; the leader never changes.
  EXPECT_EQ(history("E4-run1"), (std::vector<std::string>{"5 00:34:16.182000 log_end"}));
}

TEST(ingest_real_logs, WholeFolderAtOnceIsDeterministic) {
  const fs::path root = logs_dir();
  REQUIRE_SHARED(root);
  Timeline a = ingest_dir(root, IngestOptions{});
  Timeline b = ingest_dir(root, IngestOptions{});
  std::ostringstream ja, jb;
  write_timeline_json(ja, a, summarize(a, 0));
  write_timeline_json(jb, b, summarize(b, 0));
  EXPECT_EQ(ja.str(), jb.str());
  std::size_t zk_files = 0;
  for (const FileReport& f : a.files) {
    if (f.kind != FileKind::kZookeeper) continue;
    ++zk_files;
    EXPECT_EQ(f.unknown, 0u) << f.path;
  }
  EXPECT_EQ(zk_files, 17u);  // loghub 1 + 3.4.9 1 + 3 runs x 5 peers
  auto j = nlohmann::json::parse(ja.str());
  EXPECT_EQ(j["schema"], "zksim.timeline/1");
  EXPECT_EQ(j["events"].size(), a.events.size());
}

// GC logs are recognized by content and handed to tools/gcfit; the JDK 8 G1 sample with date
// stamps gives its 5 young pauses (SOURCES.md) on the timeline, in UTC.
TEST(ingest_real_logs, GcLogsAreDetectedAndParsed) {
  const fs::path dir = shared_dir() / "data" / "gc-logs";
  REQUIRE_SHARED(dir);
  Timeline tl = ingest_dir(dir, IngestOptions{});
  std::size_t gc_files = 0;
  for (const FileReport& f : tl.files) {
    const bool licence = f.path.find("LICENSE") != std::string::npos;
    EXPECT_EQ(f.kind, licence ? FileKind::kUnknownText : FileKind::kGc) << f.path;
    gc_files += f.kind == FileKind::kGc;
  }
  EXPECT_EQ(gc_files, 11u);
  if (tl.gc_files_not_parsed > 0) GTEST_SKIP() << "built without tools/gcfit";
  std::vector<const Event*> young;
  for (const Event* e : of_type(tl, EventType::kGcPause)) {
    EXPECT_EQ(e->process, Process::kGc);
    if (tl.files[e->file].path == "gcviewer/SampleSun1_8_0G1PrintGCID.txt" && e->state == "young")
      young.push_back(e);
  }
  ASSERT_EQ(young.size(), 5u);
  EXPECT_EQ(format_utc(young[0]->time_ns), "2022-08-01T17:17:33.375000Z");
  EXPECT_EQ(young[0]->num, 8757);
  EXPECT_EQ(young[0]->detail, "G1");
}

}  // namespace
}  // namespace zksim::ingest
