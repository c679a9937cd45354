// Synthetic inputs for the shapes the real logs do not cover: garbage, CRLF, gzip, ZGC and
// Shenandoah lines, over-long lines, buffer boundaries, bad files.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/gcfit/parser.h"

namespace zksim::gcfit {
namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/gcfit-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& content) const {
    std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string gz(const std::string& name, const std::string& content) const {
    std::string p = (path / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
    gzclose(f);
    return p;
  }
};

std::vector<Pause> parse_text(const std::string& text, ParseStats* st = nullptr) {
  TempDir d;
  std::vector<Pause> out;
  ParseStats s = parse_file(d.file("log", text), [&](const Pause& p) { out.push_back(p); });
  if (st) *st = s;
  return out;
}

TEST(gcfitParser, GarbageIsCountedNeverFatal) {
  ParseStats st;
  auto ps = parse_text(
      "Java HotSpot(TM) 64-Bit Server VM\n"
      "!!! some garbage\n"
      "1.000: [GC pause (G1 Evacuation Pause) (young), 0.2051460 secs]\n"
      "\x01\x02 binary junk \xff\n"
      "2.000: [GC pause (G1 Evacuation Pause) (mixed), 0.0100000 secs]\n"
      "more garbage at the end",
      &st);
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].seconds, 0.205146);
  EXPECT_EQ(ps[0].kind, Kind::Young);
  EXPECT_EQ(ps[1].kind, Kind::Mixed);
  EXPECT_EQ(st.skipped_lines, 3u);
  ASSERT_EQ(st.skipped_examples.size(), 3u);
  EXPECT_EQ(st.skipped_examples[0].first, 2u);
  EXPECT_EQ(st.skipped_examples[0].second, "!!! some garbage");
  EXPECT_EQ(st.lines, 6u);
}

TEST(gcfitParser, CrlfAndGzipGiveTheSameResult) {
  std::string text =
      "[2.720s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 116M->40M(2048M) "
      "21.861ms\n"
      "0.174: Total time for which application threads were stopped: 0.0265656 seconds\n";
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  TempDir d;
  for (const std::string& path : {d.file("a.log", text), d.file("b.log", crlf),
                                  d.gz("c.log.gz", crlf), d.gz("d.log.gz", text + text)}) {
    std::vector<Pause> ps;
    ParseStats st = parse_file(path, [&](const Pause& p) { ps.push_back(p); });
    ASSERT_GE(ps.size(), 2u) << path;
    EXPECT_EQ(ps[0].seconds, 0.021861) << path;
    EXPECT_EQ(ps[0].uptime_ns, 2720000000 - 21861000) << path;
    EXPECT_EQ(ps[1].kind, Kind::Safepoint) << path;
    EXPECT_EQ(ps[1].seconds, 0.0265656) << path;
    EXPECT_EQ(st.skipped_lines, 0u) << path;
  }
}

TEST(gcfitParser, ConcatenatedGzipMembersAreAllRead) {
  TempDir d;
  std::string p = (d.path / "two.gz").string();
  for (int i = 0; i < 2; ++i) {
    gzFile f = gzopen(p.c_str(), i == 0 ? "wb" : "ab");
    std::string s = "1.0: [GC pause (young), 0.5 secs]\n";
    gzwrite(f, s.data(), static_cast<unsigned>(s.size()));
    gzclose(f);
  }
  int n = 0;
  parse_file(p, [&](const Pause&) { ++n; });
  EXPECT_EQ(n, 2);
}

TEST(gcfitParser, UnifiedDecorationsZgcShenandoah) {
  ParseStats st;
  auto ps = parse_text(
      "[2023-03-01T10:00:00.500+0100][1677661200500ms][12.5s][info][gc,phases] GC(3) y: Pause "
      "Mark Start 0.012ms\n"
      "[1.0s][info][gc] GC(4) Pause Init Mark 0.250ms\n"
      "[1.1s][info][gc] GC(4) Pause Degenerated GC (Mark) 100M->50M(200M) 12.345ms\n"
      "[1.2s][info][gc] GC(5) Pause Young (Mixed) (G1 Evacuation Pause) 10M->5M(20M) 1.5ms\n"
      "[1.3s][info][gc] GC(6) Pause Something New 1.0ms\n"
      "[1.4s][info][gc,start] GC(7) Pause Young (Normal) (G1 Evacuation Pause)\n",
      &st);
  ASSERT_EQ(ps.size(), 4u);
  EXPECT_EQ(ps[0].kind, Kind::Remark);
  EXPECT_EQ(ps[0].collector, "ZGC");
  EXPECT_EQ(ps[0].seconds, 0.000012);
  EXPECT_TRUE(ps[0].absolute);
  // 10:00:00.500+01:00 = 09:00:00.500Z on 2023-03-01 = 1677661200.5 s since the epoch
  EXPECT_EQ(ps[0].t_ns, 1677661200500000000 - 12000);
  EXPECT_EQ(ps[0].uptime_ns, 12500000000 - 12000);
  ASSERT_TRUE(ps[0].utc_offset_s.has_value());
  EXPECT_EQ(*ps[0].utc_offset_s, 3600);
  EXPECT_FALSE(ps[1].utc_offset_s.has_value());  // uptime only
  EXPECT_EQ(ps[1].kind, Kind::Remark);
  EXPECT_EQ(ps[1].collector, "Shenandoah");
  EXPECT_EQ(ps[2].kind, Kind::Full);
  EXPECT_EQ(ps[2].seconds, 0.012345);
  EXPECT_EQ(ps[3].kind, Kind::Mixed);
  EXPECT_EQ(st.unknown_pauses, 1u);
  EXPECT_EQ(st.skipped_lines, 0u);
}

TEST(gcfitParser, DateStampOffsetIsKept) {
  // JDK 8 -XX:+PrintGCDateStamps writes the host's zone; it tells the zone of the host's other
  // logs (zksim ingest warns when --tz disagrees). A 'Z' date says nothing about the host.
  auto ps = parse_text(
      "2025-07-20T00:02:01.123+0800: 121.123: [GC pause (G1 Evacuation Pause) (young), 0.2051459 "
      "secs]\n"
      "2025-07-19T16:02:03.000-0530: 123.000: [GC pause (G1 Evacuation Pause) (young), 0.1000000 "
      "secs]\n"
      "[2025-07-19T16:02:05.000Z][info][gc] GC(9) Pause Young (Normal) (G1 Evacuation Pause) "
      "10M->5M(20M) 1.5ms\n");
  ASSERT_EQ(ps.size(), 3u);
  ASSERT_TRUE(ps[0].utc_offset_s.has_value());
  EXPECT_EQ(*ps[0].utc_offset_s, 8 * 3600);
  EXPECT_EQ(ps[0].t_ns, 1752940921123000000);  // 2025-07-19T16:02:01.123Z
  EXPECT_EQ(ps[0].seconds, 0.2051459);
  ASSERT_TRUE(ps[1].utc_offset_s.has_value());
  EXPECT_EQ(*ps[1].utc_offset_s, -(5 * 3600 + 30 * 60));
  EXPECT_TRUE(ps[2].absolute);
  EXPECT_FALSE(ps[2].utc_offset_s.has_value());
}

TEST(gcfitParser, PreunifiedVariants) {
  auto ps = parse_text(
      "CommandLine flags: -XX:+UseSerialGC\n"
      "[GC (Allocation Failure)  65536K->57746K(251392K), 0.0264079 secs]\n"  // no timestamps
      "3.5: [GC (Allocation Failure) 3.5: [DefNew: 1K->0K(2K), 0.01 secs] 5K->4K(9K), 0,0123 "
      "secs]\n"  // comma decimal separator (European locale)
      "4.0: [GC 4.0: [ParNew (promotion failed): 1K->1K(2K), 0.1 secs]4.1: [CMS: 8K->7K(9K), "
      "2.5 secs] 9K->7K(19K), 2.6 secs]\n"
      "5.0: [GC (CMS Initial Mark) [1 CMS-initial-mark: 1K(2K)] 3K(4K), 0.0012 secs]\n"
      "6.0: [GC pause (G1 Evacuation Pause) (young) (to-space exhausted), 0.3 secs]\n");
  ASSERT_EQ(ps.size(), 5u);
  EXPECT_FALSE(ps[0].timed);
  EXPECT_EQ(ps[0].collector, "Serial");
  EXPECT_EQ(ps[1].seconds, 0.0123);
  EXPECT_EQ(ps[1].collector, "Serial");
  EXPECT_EQ(ps[2].kind, Kind::Full);
  EXPECT_EQ(ps[2].seconds, 2.6);
  EXPECT_EQ(ps[2].collector, "CMS");
  EXPECT_EQ(ps[3].kind, Kind::Remark);
  EXPECT_EQ(ps[4].kind, Kind::Young);
  EXPECT_EQ(ps[4].collector, "G1");
}

TEST(gcfitParser, UnterminatedEntryIsAbandonedNotFatal) {
  ParseStats st;
  auto ps = parse_text(
      "1.0: [GC pause (young) 10M->10M(16M)1.1: [GC concurrent-mark-start]\n"
      "2.0: [GC pause (young) 11M->11M(16M), 0.0015 secs]\n"
      "3.0: [Full GC 255M->32M(109M)\n",
      &st);
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].seconds, 0.0015);
  EXPECT_EQ(st.abandoned_entries, 2u);
  EXPECT_EQ(st.lines, st.pauses + st.ignored_lines + st.skipped_lines + st.abandoned_entries);
}

TEST(gcfitParser, LinesAcrossBufferBoundariesAndOverlongLines) {
  // 3 MiB of pauses (crosses the 1 MiB read buffer several times) and one 2 MiB garbage line.
  std::string text;
  int n = 0;
  while (text.size() < (3u << 20)) {
    text += std::to_string(n) + ".5: [GC pause (young) 1M->1M(2M), 0.00" +
            std::to_string(100 + n % 900) + " secs]\n";
    ++n;
    if (n == 20000) text += std::string(2 << 20, 'x') + "\n";
  }
  ParseStats st;
  auto ps = parse_text(text, &st);
  ASSERT_EQ(static_cast<int>(ps.size()), n);
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(ps[i].t_ns, int64_t{i} * 1000000000 + 500000000) << i;
    ASSERT_EQ(ps[i].seconds, (100 + i % 900) / 100000.0) << i;
  }
  EXPECT_EQ(st.skipped_lines, 1u);
  EXPECT_EQ(st.lines, static_cast<uint64_t>(n) + 1);
}

TEST(gcfitParser, UnreadableOrEmptyInputIsAClearError) {
  TempDir d;
  auto expect_error = [](const std::string& path, const std::string& what) {
    try {
      parse_file(path, [](const Pause&) {});
      ADD_FAILURE() << "no error for " << path;
    } catch (const ParseError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  expect_error((d.path / "missing.log").string(), "No such file");
  expect_error(d.file("empty.log", ""), "empty");
  expect_error(d.path.string(), "directory");
  expect_error(d.gz("empty.gz", ""), "empty");
}

TEST(gcfitParser, MalformedPauseValuesAreDamagedLines) {
  // Each of these was read as another number ("-0.5" as 0.5, "1e999" as 999, "0x1p3" as 3) or
  // dropped without being counted.
  const char* bad[] = {"-0.5 secs", "1e999 secs", "0x1p3 secs",   "nan secs",
                       "inf secs",  " secs",      "99999999 secs"};
  for (const char* v : bad) {
    ParseStats st;
    auto ps = parse_text(std::string("1.000: [GC pause (G1 Evacuation Pause) (young), 0.01 secs]\n"
                                     "2.000: [GC pause (G1 Evacuation Pause) (young), ") +
                             v + "]\n3.000: [GC pause (G1 Evacuation Pause) (young), 0.02 secs]\n",
                         &st);
    ASSERT_EQ(ps.size(), 2u) << v;
    EXPECT_EQ(ps[1].seconds, 0.02) << v;
    EXPECT_EQ(st.skipped_lines, 1u) << v;
    ASSERT_EQ(st.skipped_examples.size(), 1u) << v;
    EXPECT_EQ(st.skipped_examples[0].first, 2u) << v;
  }
  ParseStats st;
  auto ps = parse_text(
      "[0.202s][info][gc] GC(0) Pause Young (G1 Evacuation Pause) 14M->12M(128M) -6.529ms\n"
      "[0.302s][info][gc] GC(1) Pause Young (G1 Evacuation Pause) 14M->12M(128M) 1e400ms\n"
      "[0.352s][info][gc] GC(2) Pause Young (G1 Evacuation Pause) 14M->12M(128M) nanms\n"
      "[0.402s][info][gc] GC(3) Pause Young (G1 Evacuation Pause) 14M->12M(128M) 2ms\n"
      "[0.402s][info][gc,start] GC(4) Pause Young (Normal) (G1 Evacuation Pause)\n"
      "[0.5s][info][safepoint] Total time for which application threads were stopped: -1 "
      "seconds\n",
      &st);
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].seconds, 0.002);
  EXPECT_EQ(st.skipped_lines, 4u);
  EXPECT_EQ(st.ignored_lines, 1u);  // the start line carries no duration: not damaged
}

TEST(gcfitParser, TruncatedGzipIsAnErrorNamingTheFile) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += std::to_string(i) + ".000: [GC pause (G1 Evacuation Pause) (young), 0.01 secs]\n";
  std::string whole = d.gz("whole.gz", text);
  std::ifstream in(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string cut = d.file("cut.gz", bytes.substr(0, bytes.size() / 2));
  int n = 0;
  EXPECT_NO_THROW(parse_file(whole, [&](const Pause&) { ++n; }));
  EXPECT_EQ(n, 20000);
  try {
    parse_file(cut, [](const Pause&) {});
    ADD_FAILURE() << "no error for a truncated gzip file";
  } catch (const ParseError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(cut + ": truncated gzip stream"), std::string::npos) << msg;
  }
}

TEST(gcfitParser, Iso8601) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_iso8601_ns("1970-01-01T00:00:00.000+0000", ns));
  EXPECT_EQ(ns, 0);
  ASSERT_TRUE(parse_iso8601_ns("2022-11-10T03:37:32.146-0800", ns));
  EXPECT_EQ(ns, 1668080252146000000);
  ASSERT_TRUE(parse_iso8601_ns("2000-02-29T23:59:59Z", ns));
  EXPECT_EQ(ns, 951868799000000000);
  ASSERT_TRUE(parse_iso8601_ns("2022-01-29T16:34:51.655+05:30", ns));
  EXPECT_EQ(ns, 1643474091655000000 - 19800000000000);
  EXPECT_FALSE(parse_iso8601_ns("2022-13-01T00:00:00", ns));
  // Zone offsets beyond +-14:00 or with minutes >= 60 are damaged dates.
  EXPECT_FALSE(parse_iso8601_ns("2022-08-01T17:17:30.375+9900", ns));
  EXPECT_FALSE(parse_iso8601_ns("2022-08-01T17:17:30.375+0160", ns));
  EXPECT_FALSE(parse_iso8601_ns("2022-08-01T17:17:30.375-1401", ns));
  EXPECT_TRUE(parse_iso8601_ns("2022-08-01T17:17:30.375+1400", ns));
  EXPECT_TRUE(parse_iso8601_ns("2022-08-01T17:17:30.375-12:00", ns));
  EXPECT_FALSE(parse_iso8601_ns("2022-01-01 00:00:00", ns));
}

TEST(gcfitParser, KindNamesRoundTrip) {
  for (int k = 0; k < kKindCount; ++k) {
    Kind out;
    ASSERT_TRUE(parse_kind(kind_name(static_cast<Kind>(k)), out));
    EXPECT_EQ(static_cast<int>(out), k);
  }
  Kind out;
  EXPECT_FALSE(parse_kind("minor", out));
}

}  // namespace
}  // namespace zksim::gcfit
