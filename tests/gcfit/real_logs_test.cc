// Every GC log in ../shared/data/gc-logs/ (SOURCES.md there): pause counts per kind and exact
// pauses. Expected counts come from independent greps over the raw files (commands beside each
// expectation, run from ../shared/data/gc-logs); exact values are copied from the quoted lines.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tools/gcfit/parser.h"

namespace zksim::gcfit {
namespace {

const std::string kDir = std::string(ZKSIM_SHARED_DIR) + "/data/gc-logs/";

struct Parsed {
  ParseStats stats;
  std::vector<Pause> pauses;
  std::map<uint64_t, Pause> by_line;
  uint64_t count(Kind k) const { return stats.by_kind[static_cast<int>(k)]; }
};

Parsed parse(const std::string& rel) {
  Parsed p;
  p.stats = parse_file(kDir + rel, [&](const Pause& x) {
    p.pauses.push_back(x);
    p.by_line[x.line] = x;
  });
  // Every line is accounted for exactly once.
  EXPECT_EQ(p.stats.lines, p.stats.pauses + p.stats.ignored_lines + p.stats.skipped_lines +
                               p.stats.abandoned_entries);
  EXPECT_EQ(p.stats.pauses, p.pauses.size());
  return p;
}

#define REQUIRE_SHARED() \
  if (!std::filesystem::is_directory(kDir)) GTEST_SKIP() << kDir << ": shared data absent"

void expect_pause(const Parsed& p, uint64_t line, Kind kind, double seconds, int64_t t_ns,
                  bool absolute, const char* collector) {
  auto it = p.by_line.find(line);
  ASSERT_NE(it, p.by_line.end()) << "no pause starting at line " << line;
  const Pause& x = it->second;
  EXPECT_EQ(x.kind, kind) << "line " << line;
  EXPECT_EQ(x.seconds, seconds) << "line " << line;  // exact: correctly rounded from the text
  EXPECT_EQ(x.t_ns, t_ns) << "line " << line;
  EXPECT_EQ(x.absolute, absolute) << "line " << line;
  EXPECT_TRUE(x.timed);
  EXPECT_EQ(x.collector, collector) << "line " << line;
}

TEST(gcfitRealLogs, Gcspike_Jdk8G1Details) {
  REQUIRE_SHARED();
  Parsed p = parse("gctoolkit-testdata/gcspike.log");
  EXPECT_EQ(p.stats.lines, 7511u);         // wc -l
  EXPECT_EQ(p.count(Kind::Young), 265u);   // grep -c '\[GC pause (G1 Evacuation Pause) (young)'
  EXPECT_EQ(p.count(Kind::Full), 24u);     // grep -c '\[Full GC'
  EXPECT_EQ(p.count(Kind::Remark), 14u);   // grep -c '\[GC remark'
  EXPECT_EQ(p.count(Kind::Cleanup), 14u);  // grep -c '\[GC cleanup'
  EXPECT_EQ(p.stats.pauses, 317u);
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  EXPECT_EQ(p.stats.collector, "G1");
  // 0.279: [GC pause (G1 Evacuation Pause) (young)0.290: [SoftReference, ...], 0.0139744 secs]
  expect_pause(p, 7, Kind::Young, 0.0139744, 279000000, false, "G1");
  // 6.937: [Full GC (Allocation Failure) 8.117: [SoftReference, ...] 2047M->1620M(2048M), 3.7116651
  // secs]
  expect_pause(p, 778, Kind::Full, 3.7116651, 6937000000, false, "G1");
  // 5.781: [GC remark 5.781: [Finalize Marking, ...] ..., 0.0243501 secs] 5.806: [Unloading, ...],
  // 0.0300063 secs]
  expect_pause(p, 632, Kind::Remark, 0.0300063, 5781000000, false, "G1");
  // 5.811: [GC cleanup 1790M->1783M(2028M), 0.0046295 secs]
  expect_pause(p, 634, Kind::Cleanup, 0.0046295, 5811000000, false, "G1");
}

TEST(gcfitRealLogs, Jvm10Nov2022_UnifiedCrlfDecorations) {
  REQUIRE_SHARED();
  Parsed p = parse("gctoolkit-testdata/jvm-gc-10Nov2022.log");
  EXPECT_EQ(p.stats.lines, 382u);
  // grep -c 'Pause Young.*ms.$' (the trailing . is the CR)
  EXPECT_EQ(p.count(Kind::Young), 6u);
  EXPECT_EQ(p.count(Kind::Remark), 2u);   // grep -c 'Pause Remark.*ms.$'
  EXPECT_EQ(p.count(Kind::Cleanup), 2u);  // grep -c 'Pause Cleanup.*ms.$'
  EXPECT_EQ(p.stats.pauses, 10u);
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  EXPECT_TRUE(p.stats.dates);
  // [2022-11-10T03:37:32.146-0800][2.720s][info ][gc ] GC(0) Pause Young (Normal) ... 21.861ms
  // start = 11:37:32.146 UTC - 21.861 ms; 2022-11-10T11:37:32.146Z = 1668080252.146 s.
  expect_pause(p, 45, Kind::Young, 0.021861, 1668080252146000000 - 21861000, true, "G1");
  EXPECT_EQ(p.by_line[45].uptime_ns, 2720000000 - 21861000);
  // [2022-11-10T07:10:36.716-0800][12787.166s]... GC(7) Pause Young (Normal) ... 428.033ms
  expect_pause(p, 381, Kind::Young, 0.428033, 1668093036716000000 - 428033000, true, "G1");
  // [2022-11-10T03:37:34.007-0800][4.581s] GC(2) Pause Remark 43M->43M(2048M) 3.931ms
  expect_pause(p, 137, Kind::Remark, 0.003931, 1668080254007000000 - 3931000, true, "G1");
}

TEST(gcfitRealLogs, LeadUpToProblem_CmsParNew) {
  REQUIRE_SHARED();
  Parsed p = parse("gctoolkit-testdata/lead_up_to_problem_gc_www1_2013_10_19.log");
  EXPECT_EQ(p.stats.lines, 2617u);         // wc -l says 2616: the last line has no newline
  EXPECT_EQ(p.count(Kind::Young), 2160u);  // grep -c ParNew
  EXPECT_EQ(p.count(Kind::Remark),
            456u);                     // grep -c CMS-initial-mark (228) + grep -c CMS-remark (228)
  EXPECT_EQ(p.count(Kind::Full), 1u);  // grep -c 'Full GC'
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  EXPECT_EQ(p.stats.collector, "CMS");
  // 62134.787: [GC 62134.787: [ParNew: ..., 0.1512710 secs] 7042716K->4797945K(10982400K),
  // 0.1519400 secs]
  expect_pause(p, 1, Kind::Young, 0.15194, 62134787000000, false, "CMS");
  // 62246.630: [GC [1 CMS-initial-mark: 5136239K(8448000K)] 5366202K(10982400K), 0.1810170 secs]
  expect_pause(p, 6, Kind::Remark, 0.181017, 62246630000000, false, "CMS");
  // 85495.307: [Full GC (System) 85495.308: [CMS: ..., 26.2289240 secs] ..., 26.2316850 secs]
  expect_pause(p, 2577, Kind::Full, 26.231685, 85495307000000, false, "CMS");
}

TEST(gcfitRealLogs, Minimal_UnifiedG1) {
  REQUIRE_SHARED();
  Parsed p = parse("gctoolkit-testdata/minimal.log");
  EXPECT_EQ(p.stats.lines, 3438u);
  // grep -c 'Pause Young' (3431) + grep -c 'Pause Initial Mark' (1, a young pause)
  EXPECT_EQ(p.count(Kind::Young), 3432u);
  EXPECT_EQ(p.count(Kind::Full), 1u);     // grep -c 'Pause Full'
  EXPECT_EQ(p.count(Kind::Remark), 1u);   // grep -c 'Pause Remark'
  EXPECT_EQ(p.count(Kind::Cleanup), 1u);  // grep -c 'Pause Cleanup'
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  // [31.249s][info][gc] GC(0) Pause Young (G1 Evacuation Pause) 24M->11M(256M) 7.965ms
  expect_pause(p, 2, Kind::Young, 0.007965, 31249000000 - 7965000, false, "G1");
  // [154.035s][info][gc] GC(2556) Pause Full (Diagnostic Command) 900M->7M(26M) 134.764ms
  expect_pause(p, 2558, Kind::Full, 0.134764, 154035000000 - 134764000, false, "G1");
}

TEST(gcfitRealLogs, PsNegativeRecovery_Parallel) {
  REQUIRE_SHARED();
  Parsed p = parse("gctoolkit-testdata/ps.negative.recovery80.log");
  EXPECT_EQ(p.stats.lines, 3899u);
  EXPECT_EQ(p.count(Kind::Young), 2u);         // grep -c '^[0-9.]*: \[GC ('
  EXPECT_EQ(p.count(Kind::Full), 1940u);       // grep -c 'Full GC (Ergonomics)'
  EXPECT_EQ(p.count(Kind::Safepoint), 1942u);  // grep -c 'Total time for which'
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  EXPECT_EQ(p.stats.collector, "Parallel");
  // 0.148: [GC (Allocation Failure) [PSYoungGen: 65536K->10720K(76288K)] ..., 0.0264079 secs]
  expect_pause(p, 7, Kind::Young, 0.0264079, 148000000, false, "Parallel");
  // 0.174: Total time for which application threads were stopped: 0.0265656 seconds
  expect_pause(p, 8, Kind::Safepoint, 0.0265656, 174000000 - 26565600, false, "Parallel");
  // 0.221: [Full GC (Ergonomics) [PSYoungGen: ...] [ParOldGen: ...] ..., 0.0235254 secs]
  expect_pause(p, 10, Kind::Full, 0.0235254, 221000000, false, "Parallel");
}

TEST(gcfitRealLogs, Jdk6G1Verbose_MultiLineEntries) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/SampleSun1_6_0G1_gc_verbose.txt");
  EXPECT_EQ(p.stats.lines, 4461u);
  EXPECT_EQ(p.count(Kind::Young), 2236u);   // grep -c 'GC pause (young)' (incl. initial-mark)
  EXPECT_EQ(p.count(Kind::Mixed), 242u);    // grep -c 'GC pause (partial)'
  EXPECT_EQ(p.count(Kind::Remark), 250u);   // grep -c 'GC remark'
  EXPECT_EQ(p.count(Kind::Cleanup), 245u);  // grep -c 'GC cleanup'
  EXPECT_EQ(p.count(Kind::Full), 5u);       // grep -c 'Full GC'
  EXPECT_EQ(p.stats.pauses, 2978u);
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  EXPECT_EQ(p.stats.abandoned_entries, 0u);
  // 0.356: [GC pause (young) 4096K->3936K(16M), 0.0121737 secs]
  expect_pause(p, 1, Kind::Young, 0.0121737, 356000000, false, "G1");
  // Two-line entry with a concurrent phase inside:
  // 0.388: [GC pause (young) (initial-mark) 10080K->10080K(16M)0.390: [GC concurrent-mark-start]
  // , 0.0013065 secs]
  expect_pause(p, 4, Kind::Young, 0.0013065, 388000000, false, "G1");
  // 4.853: [GC pause (young)4.853: [GC concurrent-mark-end, 0.0064246 sec]
  //  150M->150M(256M), 0.0136035 secs]
  expect_pause(p, 234, Kind::Young, 0.0136035, 4853000000, false, "G1");
  // 0.758: [GC pause (partial) 18M->15M(224M), 0.0038194 secs]
  expect_pause(p, 57, Kind::Mixed, 0.0038194, 758000000, false, "G1");
  // 15.928: [Full GC 255M->32M(109M), 0.0585270 secs]
  expect_pause(p, 762, Kind::Full, 0.058527, 15928000000, false, "G1");
  // 0.406: [GC remark, 0.0006116 secs]
  expect_pause(p, 13, Kind::Remark, 0.0006116, 406000000, false, "G1");
}

TEST(gcfitRealLogs, Jdk7CmsPrintGCCause) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/SampleSun1_7_0_40CMS_PrintGCCause.txt");
  EXPECT_EQ(p.stats.lines, 127u);
  EXPECT_EQ(p.count(Kind::Young), 127u);  // grep -c ParNew
  EXPECT_EQ(p.stats.pauses, 127u);
  // 2.167: [GC (Allocation Failure)2.167: [ParNew: ..., 0.0143520 secs] 139776K->19817K(506816K),
  // 0.0144450 secs]
  expect_pause(p, 1, Kind::Young, 0.014445, 2167000000, false, "CMS");
}

TEST(gcfitRealLogs, Jdk8G1PrintGCIDDateStamps) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/SampleSun1_8_0G1PrintGCID.txt");
  EXPECT_EQ(p.count(Kind::Young), 5u);    // grep -c 'GC pause'
  EXPECT_EQ(p.count(Kind::Remark), 1u);   // grep -c 'GC remark'
  EXPECT_EQ(p.count(Kind::Cleanup), 1u);  // grep -c 'GC cleanup'
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  EXPECT_TRUE(p.stats.dates);
  // 2022-08-01T17:17:33.375+0000: 0.163: #0: [GC pause (G1 Evacuation Pause) (young), 0.0087570
  // secs] 2022-08-01T17:17:33.375Z = 1659374253.375 s since the epoch.
  expect_pause(p, 4, Kind::Young, 0.008757, 1659374253375000000, true, "G1");
  EXPECT_EQ(p.by_line[4].uptime_ns, 163000000);
  // 2022-08-01T17:17:33.426+0000: 0.214: #4: [GC remark ... [Unloading, 0.0009861 secs], 0.0040559
  // secs]
  expect_pause(p, 143, Kind::Remark, 0.0040559, 1659374253426000000, true, "G1");
}

TEST(gcfitRealLogs, UnifiedG1Defaults) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/sample-ujl-g1-gc-defaults.txt");
  EXPECT_EQ(p.stats.pauses, 10u);  // grep -c 'Pause.*ms$'
  // Pause Young x5 + Pause Initial Mark x1
  EXPECT_EQ(p.count(Kind::Young), 6u);
  EXPECT_EQ(p.count(Kind::Mixed), 1u);
  EXPECT_EQ(p.count(Kind::Full), 1u);
  EXPECT_EQ(p.count(Kind::Remark), 1u);
  EXPECT_EQ(p.count(Kind::Cleanup), 1u);
  // [0.337s][info][gc] GC(14) Pause Full (Allocation Failure) 128M->8M(28M) 14.918ms
  expect_pause(p, 13, Kind::Full, 0.014918, 337000000 - 14918000, false, "G1");
  // [0.693s][info][gc] GC(50) Pause Mixed (G1 Evacuation Pause) 29M->28M(123M) 2.790ms
  expect_pause(p, 16, Kind::Mixed, 0.00279, 693000000 - 2790000, false, "G1");
}

TEST(gcfitRealLogs, UnifiedJdk17SafepointDecorations) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/sample-ujl-jdk17-full-concurrent-cycle-g1-gc-all-safepont,os-cpu.txt");
  EXPECT_EQ(p.stats.lines, 137u);
  // grep -c '\[gc  *\] GC([0-9]*) Pause': 7 Young, 1 Remark, 1 Cleanup
  EXPECT_EQ(p.count(Kind::Young), 7u);
  EXPECT_EQ(p.count(Kind::Remark), 1u);
  EXPECT_EQ(p.count(Kind::Cleanup), 1u);
  EXPECT_EQ(p.count(Kind::Safepoint), 9u);  // grep -c 'Safepoint "'
  EXPECT_EQ(p.stats.skipped_lines, 0u);
  // [2022-01-29T16:34:51.655+0000][246ms] Safepoint "G1CollectForAllocation", ... Total: 11266000
  // ns
  expect_pause(p, 24, Kind::Safepoint, 0.011266, 1643474091655000000 - 11266000, true, "G1");
  EXPECT_EQ(p.by_line[24].uptime_ns, 246000000 - 11266000);
}

TEST(gcfitRealLogs, UnifiedParallelSafepoint) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/sample-ujl-parallel-gc-all,safepoint,os+cpu.txt");
  EXPECT_EQ(p.count(Kind::Young), 4u);      // grep -c '\[gc  *\] GC([0-9]*) Pause Young'
  EXPECT_EQ(p.count(Kind::Full), 4u);       // grep -c '\[gc  *\] GC([0-9]*) Pause Full'
  EXPECT_EQ(p.count(Kind::Safepoint), 6u);  // grep -c 'Total time for which'
  EXPECT_EQ(p.stats.collector, "Parallel");
  // [0.244s][info][gc ] GC(2) Pause Full (Ergonomics) 62M->61M(123M) 13.561ms
  expect_pause(p, 34, Kind::Full, 0.013561, 244000000 - 13561000, false, "Parallel");
  // [0.217s][info][safepoint] Total time for which application threads were stopped: 0.0083073
  // seconds
  expect_pause(p, 12, Kind::Safepoint, 0.0083073, 217000000 - 8307300, false, "Parallel");
}

TEST(gcfitRealLogs, LicenceFilesHaveNoPausesAndAreCountedAsSkipped) {
  REQUIRE_SHARED();
  Parsed p = parse("gcviewer/LICENSE.txt");
  EXPECT_EQ(p.stats.pauses, 0u);
  EXPECT_EQ(p.stats.lines, 34u);
  EXPECT_EQ(p.stats.skipped_lines, 25u);  // 34 lines - 9 blank ones (grep -c '^$')
  ASSERT_FALSE(p.stats.skipped_examples.empty());
  EXPECT_EQ(p.stats.skipped_examples[0].first, 1u);
}

TEST(gcfitRealLogs, EveryLogFileIsCovered) {
  REQUIRE_SHARED();
  // Fails when a new log lands in the shared directory without a test above.
  std::vector<std::string> known = {
      "gctoolkit-testdata/gcspike.log",
      "gctoolkit-testdata/jvm-gc-10Nov2022.log",
      "gctoolkit-testdata/lead_up_to_problem_gc_www1_2013_10_19.log",
      "gctoolkit-testdata/minimal.log",
      "gctoolkit-testdata/ps.negative.recovery80.log",
      "gcviewer/SampleSun1_6_0G1_gc_verbose.txt",
      "gcviewer/SampleSun1_7_0_40CMS_PrintGCCause.txt",
      "gcviewer/SampleSun1_8_0G1PrintGCID.txt",
      "gcviewer/sample-ujl-g1-gc-defaults.txt",
      "gcviewer/sample-ujl-jdk17-full-concurrent-cycle-g1-gc-all-safepont,os-cpu.txt",
      "gcviewer/sample-ujl-parallel-gc-all,safepoint,os+cpu.txt"};
  for (const auto& e : std::filesystem::recursive_directory_iterator(kDir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(e.path(), kDir).string();
    if (rel.find("LICENSE") != std::string::npos) continue;
    EXPECT_NE(std::find(known.begin(), known.end(), rel), known.end()) << rel << " has no test";
  }
}

}  // namespace
}  // namespace zksim::gcfit
