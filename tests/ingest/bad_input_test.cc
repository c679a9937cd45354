// Bad inputs give a clear message (naming the folder, file or line) and exit status 2 from the CLI;
// damaged lines inside a good file are counted as unknown, never fatal.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <sstream>

#include "tests/ingest/test_util.h"
#include "tools/ingest/ingest_cli.h"

namespace zksim::ingest {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

const char* kZk =
    "2025-07-20T00:02:04,749 [myid:] - WARN  [QuorumPeer[myid=1](plain=10.10.10.146:2181)"
    "(secure=disabled):Follower@100] - Exception when following the leader\n"
    "java.net.SocketTimeoutException: Read timed out\n"
    "\tat java.net.SocketInputStream.socketRead0(Native Method) ~[?:1.8.0_402]\n"
    "2025-07-20T00:02:04,750 [myid:] - INFO  [QuorumPeer[myid=1](plain=10.10.10.146:2181)"
    "(secure=disabled):Follower@206] - shutdown called\n";

struct CliResult {
  int rc;
  std::string out, err;
};
CliResult cli(const std::string& dir, const std::string& tz = "UTC") {
  IngestCliOptions o;
  o.logdir = dir;
  o.tz = tz;
  std::ostringstream out, err;
  int rc = run_ingest(o, out, err);
  return {rc, out.str(), err.str()};
}

TEST(ingest_bad_input, EmptyFolder) {
  TempDir dir;
  auto r = cli(dir.path().string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("no log files found (empty folder)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir.path().string()), std::string::npos) << r.err;
}

TEST(ingest_bad_input, MissingFolder) {
  auto r = cli("/nonexistent/zksim/logs");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("/nonexistent/zksim/logs: not a directory"), std::string::npos) << r.err;
}

TEST(ingest_bad_input, BinaryFileOnly) {
  TempDir dir;
  std::string bin;
  for (int i = 0; i < 4096; ++i) bin += static_cast<char>((i * 7919) & 0xff);
  dir.write("10_0_0_1/zookeeper.log", bin);
  auto r = cli(dir.path().string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("no recognizable log file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("10_0_0_1/zookeeper.log: binary content; skipped"), std::string::npos)
      << r.err;
}

TEST(ingest_bad_input, BinaryFileBesideALogIsSkipped) {
  TempDir dir;
  dir.write("10_0_0_1/zookeeper.log", kZk);
  dir.write("10_0_0_1/core.1234", std::string("\x7f"
                                              "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
                                              16) +
                                      std::string(1000, '\0'));
  Timeline tl = ingest_dir(dir.path(), IngestOptions{});
  ASSERT_EQ(tl.files.size(), 2u);
  EXPECT_EQ(tl.files[0].kind, FileKind::kBinary);
  EXPECT_EQ(tl.files[0].notes, (std::vector<std::string>{"binary content; skipped"}));
  EXPECT_EQ(tl.files[1].kind, FileKind::kZookeeper);
  ASSERT_EQ(tl.events.size(), 1u);
  EXPECT_EQ(tl.events[0].host, "10.0.0.1");
  EXPECT_EQ(tl.events[0].myid, 1);
}

TEST(ingest_bad_input, TruncatedLastLineIsCountedNotFatal) {
  TempDir dir;
  dir.write("10_0_0_1/zookeeper.log", std::string(kZk) + "2025-07-20T00:02:0");
  Timeline tl = ingest_dir(dir.path(), IngestOptions{});
  ASSERT_EQ(tl.files.size(), 1u);
  const FileReport& f = tl.files[0];
  EXPECT_EQ(f.lines, 5u);
  EXPECT_EQ(f.records, 2u);
  EXPECT_EQ(f.continuation, 2u);
  EXPECT_EQ(f.unknown, 1u);
  EXPECT_EQ(f.notes, (std::vector<std::string>{"line 5: truncated record at end of file"}));
  EXPECT_EQ(tl.events.size(), 1u);
  EXPECT_EQ(tl.events[0].detail, "java.net.SocketTimeoutException: Read timed out");
}

TEST(ingest_bad_input, GarbledAndOrphanLinesAreCounted) {
  TempDir dir;
  dir.write("10_0_0_1/zookeeper.log", std::string("\tat orphan.Frame(Frame.java:1)\n") + kZk +
                                          "2025-07-20T00:02:04 truncated head in the middle\n" +
                                          kZk);
  Timeline tl = ingest_dir(dir.path(), IngestOptions{});
  const FileReport& f = tl.files.at(0);
  EXPECT_EQ(f.unknown, 2u);
  EXPECT_EQ(f.notes, (std::vector<std::string>{"line 1: unknown line (no record above)",
                                               "line 6: malformed or truncated record"}));
  EXPECT_EQ(tl.events.size(), 2u);
}

TEST(ingest_bad_input, TruncatedGzip) {
  TempDir dir;
  const fs::path p = dir.path() / "10_0_0_1" / "zookeeper.log.1.gz";
  fs::create_directories(p.parent_path());
  {
    gzFile g = gzopen(p.c_str(), "wb");
    ASSERT_NE(g, nullptr);
    for (int i = 0; i < 200; ++i) gzputs(g, kZk);
    gzclose(g);
  }
  fs::resize_file(p, fs::file_size(p) / 2);
  Timeline tl = ingest_dir(dir.path(), IngestOptions{});
  const FileReport& f = tl.files.at(0);
  EXPECT_TRUE(f.gzip);
  EXPECT_EQ(f.kind, FileKind::kZookeeper);
  ASSERT_FALSE(f.notes.empty());
  EXPECT_NE(f.notes.back().find("truncated or corrupt gzip"), std::string::npos) << f.notes.back();
  EXPECT_GT(tl.events.size(), 0u);
  EXPECT_LT(tl.events.size(), 200u);
}

TEST(ingest_bad_input, UnknownTimeZone) {
  TempDir dir;
  dir.write("10_0_0_1/zookeeper.log", kZk);
  auto r = cli(dir.path().string(), "Mars/Olympus");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unknown time zone 'Mars/Olympus'"), std::string::npos) << r.err;
  EXPECT_EQ(cli(dir.path().string(), "+08:00").rc, 0);
}

TEST(ingest_bad_input, GlogWithoutYearNeedsFlag) {
  TempDir dir;
  dir.write("10_0_0_2/zbs-metad.log",
            "W0720 00:02:04.948875 25815 zookeeper.cc:223] zookeeper session event: "
            "CONNECTED_STATE --> CONNECTING_STATE\n");
  try {
    ingest_dir(dir.path(), IngestOptions{});
    ADD_FAILURE() << "no error without a year";
  } catch (const IngestError& e) {
    EXPECT_NE(std::string(e.what()).find("10_0_0_2/zbs-metad.log:1: cannot tell the year"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--year"), std::string::npos);
  }
  IngestOptions opt;
  opt.year = 2025;
  Timeline tl = ingest_dir(dir.path(), opt);
  ASSERT_EQ(tl.events.size(), 1u);
  EXPECT_EQ(format_utc(tl.events[0].time_ns), "2025-07-20T00:02:04.948875Z");
  // A glog header gives the year too, and a file begun in December rolls into January.
  TempDir d2;
  d2.write("h/zbs-metad.log",
           "Log file created at: 2024/12/31 23:59:00\nRunning on machine: h\n"
           "Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg\n"
           "W0101 00:00:01.000001 1 zookeeper.cc:189] Start the session timeout timer: 200\n");
  Timeline t2 = ingest_dir(d2.path(), IngestOptions{});
  ASSERT_EQ(t2.events.size(), 1u);
  EXPECT_EQ(format_utc(t2.events[0].time_ns), "2025-01-01T00:00:01.000001Z");
  EXPECT_EQ(t2.files[0].unknown, 0u);
  // --year wins over the header, which is then still a header, not an unknown line.
  IngestOptions y;
  y.year = 2026;
  Timeline t3 = ingest_dir(d2.path(), y);
  ASSERT_EQ(t3.events.size(), 1u);
  EXPECT_EQ(format_utc(t3.events[0].time_ns), "2026-01-01T00:00:01.000001Z");
  EXPECT_EQ(t3.files[0].unknown, 0u);
  EXPECT_EQ(t3.files[0].records, 4u);
}

TEST(ingest_bad_input, RotatedFilesComeOldestFirst) {
  TempDir dir;
  for (const char* n : {"zookeeper.log", "zookeeper.log.1", "zookeeper.log.10", "zookeeper.log.2"})
    dir.write(std::string("10_0_0_1/") + n, kZk);
  auto files = walk_log_dir(dir.path());
  std::vector<std::string> rel;
  for (const auto& f : files) rel.push_back(f.rel);
  EXPECT_EQ(rel, (std::vector<std::string>{"10_0_0_1/zookeeper.log.10", "10_0_0_1/zookeeper.log.2",
                                           "10_0_0_1/zookeeper.log.1", "10_0_0_1/zookeeper.log"}));
  EXPECT_EQ(host_from_rel_path("cluster-logs-x/10_10_10_152/base_component_logs/zookeeper/z.log"),
            "10.10.10.152");
  EXPECT_EQ(host_from_rel_path("node1/zookeeper.log"), "node1");
  EXPECT_EQ(host_from_rel_path("zookeeper.log"), "");
}

// `zksim replay LOGS --out LOGS/replay` writes its simulated logs inside the recorded ones; a
// second replay (or an ingest) of LOGS once read them as a host named "replay" (and refused the
// folder: "duplicate id 1"). Folders zksim wrote are not entered, and the summary says so.
TEST(ingest_bad_input, FoldersZksimWroteAreNotRead) {
  TempDir dir;
  dir.write("10_0_0_1/zookeeper.log", kZk);
  dir.write("replay/report.json", "{}\n");
  dir.write("replay/scenario.json", "{}\n");
  dir.write("replay/sim-logs/zksim-run.json", "{}\n");
  dir.write("replay/sim-logs/10_0_0_1/zookeeper.log", kZk);
  dir.write("run2/zksim-run.json", "{}\n");
  dir.write("run2/10_0_0_2/zookeeper.log", kZk);
  // report.json alone is not a replay's output.
  dir.write("notes/report.json", "{}\n");

  std::vector<SkippedDir> skipped;
  std::vector<std::string> rel;
  for (const auto& f : walk_log_dir(dir.path(), &skipped)) rel.push_back(f.rel);
  EXPECT_EQ(rel, (std::vector<std::string>{"10_0_0_1/zookeeper.log", "notes/report.json"}));
  ASSERT_EQ(skipped.size(), 2u);

  Timeline tl = ingest_dir(dir.path(), IngestOptions{});
  ASSERT_EQ(tl.skipped_dirs.size(), 2u);
  EXPECT_EQ(tl.skipped_dirs[0].rel, "replay");
  EXPECT_NE(tl.skipped_dirs[0].why.find("zksim replay --out"), std::string::npos);
  EXPECT_EQ(tl.skipped_dirs[1].rel, "run2");
  EXPECT_NE(tl.skipped_dirs[1].why.find("zksim run --logs"), std::string::npos);
  for (const Event& e : tl.events) EXPECT_EQ(e.host, "10.0.0.1");
  auto r = cli(dir.path().string());
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("folder not read: replay/: a replay's output"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("folder not read: run2/: the logs of a simulated run"), std::string::npos)
      << r.out;

  // Only such folders: an error that names them, not "empty folder".
  TempDir only;
  only.write("run1/zksim-run.json", "{}\n");
  only.write("run1/node1/zookeeper.log", kZk);
  auto r2 = cli(only.path().string());
  EXPECT_EQ(r2.rc, 2);
  EXPECT_NE(r2.err.find("give one of them as the log folder"), std::string::npos) << r2.err;
  EXPECT_NE(r2.err.find("run1/: the logs of a simulated run"), std::string::npos) << r2.err;
  // The folder itself may be one: then it is read.
  EXPECT_EQ(cli((only.path() / "run1").string()).rc, 0);
}

TEST(ingest_bad_input, YearOutOfRangeIsRefused) {
  TempDir dir;
  dir.write("10_0_0_2/zbs-metad.log",
            "W0720 00:02:04.948875 25815 zookeeper.cc:223] zookeeper session event: "
            "CONNECTED_STATE --> CONNECTING_STATE\n");
  for (int y : {-5, 0, 1969, 10000, 99999999}) {
    IngestCliOptions o;
    o.logdir = dir.path().string();
    o.year = y;
    std::ostringstream out, err;
    EXPECT_EQ(run_ingest(o, out, err), 2) << y;
    EXPECT_NE(err.str().find(fmt::format("--year: {} is outside 1970..9999", y)), std::string::npos)
        << err.str();
  }
}

TEST(ingest_bad_input, TimesBeforeTheEpochAreRefusedNamingFileAndLine) {
  TempDir dir;
  std::string zk = kZk;
  for (size_t pos; (pos = zk.find("2025-07-20")) != std::string::npos;)
    zk.replace(pos, 10, "1969-12-31");
  dir.write("127_0_1_1/zookeeper.log", zk);
  auto r = cli(dir.path().string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("127_0_1_1/zookeeper.log:1: time 1969-12-31T00:02:04.749000Z is before "
                       "1970-01-01T00:00:00Z"),
            std::string::npos)
      << r.err;
}

TEST(ingest_bad_input, OutputOverAnInputIsRefused) {
  TempDir dir;
  fs::path log = dir.write("10_0_0_1/zookeeper.log", kZk);
  IngestCliOptions o;
  o.logdir = dir.path().string();
  o.out = log.string();
  std::ostringstream out, err;
  EXPECT_EQ(run_ingest(o, out, err), 2);
  EXPECT_NE(err.str().find("--out is one of the input log files (10_0_0_1/zookeeper.log)"),
            std::string::npos)
      << err.str();
  std::ifstream in(log);
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, kZk);
  // Elsewhere is fine.
  o.out = (dir.path() / "timeline.json").string();
  std::ostringstream out2, err2;
  EXPECT_EQ(run_ingest(o, out2, err2), 0) << err2.str();
}

}  // namespace
}  // namespace zksim::ingest
