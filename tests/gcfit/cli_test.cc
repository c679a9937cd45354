// `zksim gcfit` behaviour: exit codes and messages on bad input, the table, --kind, --out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/gcfit/gcfit_cli.h"
#include "tools/gcfit/model.h"

namespace zksim::gcfit {
namespace {

const std::string kLogs = std::string(ZKSIM_SHARED_DIR) + "/data/gc-logs/";

int run(CliOptions o, std::string& out, std::string& err) {
  std::ostringstream so, se;
  int rc = run_gcfit(o, so, se);
  out = so.str();
  err = se.str();
  return rc;
}

TEST(gcfitCli, BadInputExitsTwoNamingTheFile) {
  std::string out, err;
  CliOptions o;
  o.logs = {"/nonexistent/gc.log"};
  EXPECT_EQ(run(o, out, err), 2);
  EXPECT_NE(err.find("/nonexistent/gc.log: cannot open"), std::string::npos) << err;

  char tmpl[] = "/tmp/gcfit-cli-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string empty = dir + "/empty.log", junk = dir + "/junk.log";
  std::ofstream(empty).close();
  std::ofstream(junk) << "hello\nworld\n";
  o.logs = {empty};
  EXPECT_EQ(run(o, out, err), 2);
  EXPECT_NE(err.find(empty + ": empty"), std::string::npos) << err;
  o.logs = {junk};
  EXPECT_EQ(run(o, out, err), 2);
  EXPECT_NE(
      err.find(junk + ": no GC pauses found (2 lines: 0 recognised non-pause, 2 unrecognised)"),
      std::string::npos)
      << err;
  // Outputs that cannot be written (a full disk) are errors, not silently short files.
  if (std::filesystem::exists("/dev/full")) {
    std::string log = dir + "/gc.log";
    std::ofstream(log) << "2024-01-01T00:00:00.000+0000: 1.000: [GC pause (G1 Evacuation Pause) "
                          "(young), 0.0100000 secs]\n"
                          "2024-01-01T00:00:01.000+0000: 2.000: [GC pause (G1 Evacuation Pause) "
                          "(young), 0.0200000 secs]\n"
                          "2024-01-01T00:00:02.500+0000: 3.500: [GC pause (G1 Evacuation Pause) "
                          "(young), 0.0300000 secs]\n";
    CliOptions w;
    w.logs = {log};
    w.pauses_csv = "/dev/full";
    EXPECT_EQ(run(w, out, err), 2) << err;
    EXPECT_NE(err.find("/dev/full: cannot write"), std::string::npos) << err;
    w.pauses_csv.clear();
    w.out = "/dev/full";
    EXPECT_EQ(run(w, out, err), 2) << err;
    EXPECT_NE(err.find("/dev/full: cannot write"), std::string::npos) << err;
  }
  std::filesystem::remove_all(dir);
}

TEST(gcfitCli, TableKindFilterAndModel) {
  if (!std::filesystem::is_directory(kLogs)) GTEST_SKIP() << kLogs << ": shared data absent";
  char tmpl[] = "/tmp/gcfit-cli-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  CliOptions o;
  o.logs = {kLogs + "gcviewer/SampleSun1_8_0G1PrintGCID.txt",
            kLogs + "gctoolkit-testdata/gcspike.log"};
  o.kind = "full";
  o.out = dir + "/m.json";
  std::string out, err;
  ASSERT_EQ(run(o, out, err), 0) << err;
  EXPECT_NE(out.find("2 file(s), 7657 lines, 324 pauses, 0 skipped line(s)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("\nfull      duration       24 "), std::string::npos) << out;
  EXPECT_EQ(out.find("\nyoung "), std::string::npos) << out;
  // Seed pipeline over both files: 5 + 265 `GC pause` lines.
  EXPECT_NE(out.find("over 270 'GC pause' line(s):\nsum: "), std::string::npos) << out;
  EXPECT_NE(out.find("\ncount: 270\n"), std::string::npos) << out;
  GcModel m = load_model(o.out);
  ASSERT_EQ(m.kinds.size(), 1u);
  EXPECT_EQ(m.kinds[0].kind, Kind::Full);
  EXPECT_EQ(m.kinds[0].durations.n, 24);
  EXPECT_EQ(m.kinds[0].durations.summary.max, 3.7116651);
  EXPECT_EQ(m.kinds[0].sources, std::vector<std::string>{o.logs[1]});
  o.kind = "mixed";
  EXPECT_EQ(run(o, out, err), 2);
  EXPECT_NE(err.find("no mixed pauses"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zksim::gcfit
