// Streaming parser for JVM garbage-collection logs.
//
// Formats (detected line by line, so concatenated or mixed files work):
//  * JDK 6/7/8 "pre-unified" logs: G1 (`[GC pause (G1 Evacuation Pause) (young), 0.2051460 secs]`,
//    `(mixed)`, `(partial)`, `(initial-mark)`, `[GC remark ...]`, `[GC cleanup ...]`, `[Full GC
//    ...]`), CMS/ParNew (`[GC 1.2: [ParNew: ...], 0.15 secs]`, `CMS-initial-mark`, `CMS-remark`),
//    Parallel
//    (`[PSYoungGen: ...]`, `[Full GC (Ergonomics) ...]`) and Serial, with or without
//    PrintGCDetails, PrintGCDateStamps, PrintGCTimeStamps, PrintGCID, PrintGCCause,
//    PrintReferenceGC, and the `Total time for which application threads were stopped: N seconds`
//    safepoint line. An entry may span several lines (JDK 6 G1 interleaves concurrent-phase output
//    inside a pause): the parser tracks bracket depth from the entry's opening `[GC`/`[Full GC` to
//    its matching `]`, and the pause duration is the `N secs` just before that closing bracket.
//  * JDK 9+ unified logging (-Xlog) with any decorations (time, utctime, uptime, timemillis,
//    uptimemillis, timenanos, uptimenanos, level, tags, pid, tid): `GC(N) Pause ... <dur>ms` for
//    G1, Parallel, Serial, Shenandoah and ZGC, `Total time for which application threads were
//    stopped` and the JDK 17 `Safepoint "Op", ... Total: N ns` line.
//
// Lines end with LF or CRLF; `.gz` files (one or several gzip members) are read through zlib, plain
// files too; a gzip stream cut short is a ParseError ("truncated gzip stream"), never a silent
// prefix. A pause whose duration is malformed ("-0.5 secs", "1e999 secs", "0x1p3 secs", "nan secs",
// " secs", "-6.529ms", "1e400ms") or longer than a day is a damaged line (skipped_lines), as is a
// date with a zone offset outside -14:00..+14:00 or with minutes >= 60. Memory use is bounded: one
// read buffer, one pending multi-line entry (capped) and a few example strings, whatever the file
// size. Lines that match no known shape are counted in ParseStats::skipped_lines (first few kept as
// examples); they are never fatal. An input that cannot be opened or read, or that is empty, raises
// ParseError whose message names the file.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zksim::gcfit {

// Kind of stop-the-world pause.
//  Young:     young-generation collection (G1 young incl. initial-mark / concurrent-start and
//             to-space-exhausted, ParNew, PSYoungGen, DefNew).
//  Mixed:     G1 mixed collection (`(mixed)`, JDK 6 `(partial)`, unified `Pause Mixed` and
//             `Pause Young (Mixed)`).
//  Full:      full collection (`Full GC`, `Pause Full`, CMS concurrent-mode failure, Shenandoah
//             degenerated GC).
//  Remark:    stop-the-world pause of a concurrent marking cycle other than cleanup: G1 Remark,
//             CMS initial-mark and CMS remark, Shenandoah/ZGC mark/relocate/update-refs pauses.
//  Cleanup:   G1 Cleanup.
//  Safepoint: total time application threads were stopped at a safepoint (GC or not). These overlap
//             with GC pauses; they are kept as a separate kind and never mixed into the others.
enum class Kind : int { Young = 0, Mixed, Full, Remark, Cleanup, Safepoint };
inline constexpr int kKindCount = 6;

// "young", "mixed", "full", "remark", "cleanup", "safepoint".
std::string_view kind_name(Kind k);
// Inverse of kind_name; false when `name` is not a kind.
bool parse_kind(std::string_view name, Kind& out);

struct Pause {
  // Start of the pause in nanoseconds. When the log carries wall-clock dates (PrintGCDateStamps, or
  // the unified `time`/`utctime`/`timemillis`/`timenanos` decorations) `absolute` is true and t_ns
  // counts from the Unix epoch (UTC, offsets applied); otherwise t_ns is JVM uptime. Lines printed
  // at the end of a pause (unified `Pause ...` summaries, safepoint totals) have the duration
  // subtracted so that t_ns is always the start.
  int64_t t_ns = 0;
  bool absolute = false;
  // JVM uptime at the start of the pause in nanoseconds, or -1 when the line has no uptime.
  int64_t uptime_ns = -1;
  // False when the line carried no timestamp at all (e.g. -verbose:gc without PrintGCTimeStamps);
  // t_ns is then 0 and the pause takes no part in gap statistics.
  bool timed = false;
  double seconds = 0;  // pause duration
  Kind kind = Kind::Young;
  // "G1", "CMS", "Parallel", "Serial", "Shenandoah", "ZGC" or "unknown" (from the entry itself or
  // from earlier lines of the same file: `Using G1`, `-XX:+UseG1GC`, ...).
  std::string collector;
  uint64_t line = 0;  // 1-based line number where the entry starts
  // The UTC offset (seconds) the line's wall-clock date was written with, when it carried one
  // ("+0800" in `2025-07-20T00:02:01.123+0800`); tells the zone of the host's other logs.
  std::optional<int64_t> utc_offset_s;
};

struct ParseStats {
  std::string path;
  uint64_t bytes = 0;  // uncompressed bytes read
  uint64_t lines = 0;
  uint64_t pauses = 0;
  uint64_t by_kind[kKindCount] = {};
  uint64_t ignored_lines = 0;  // recognised lines that are not pauses (details, headers, phases)
  uint64_t skipped_lines = 0;  // unrecognised lines (garbage)
  uint64_t abandoned_entries = 0;  // multi-line entries that never closed
  // Every line is counted once: lines == pauses + ignored_lines + skipped_lines + abandoned_entries
  // (a pause is counted at the line where its entry starts; continuation lines are ignored_lines).
  uint64_t unknown_pauses = 0;  // unified `Pause <something>` lines of an unknown type
  bool unified = false;         // saw unified-logging lines
  bool preunified = false;      // saw JDK 6/7/8 lines
  bool dates = false;           // at least one pause had an absolute timestamp
  std::string collector;        // last collector seen ("unknown" if none)
  std::vector<std::pair<uint64_t, std::string>> skipped_examples;  // (line, first 120 bytes), <= 5
  std::vector<std::string> warnings;  // non-fatal read problems (e.g. truncated gzip member)
};

class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a file (plain or gzip) line by line with bounded memory. Lines are passed without their
// terminator (LF, and a CR before it unless strip_cr is false); lines longer than max_line bytes
// are truncated to max_line. Throws ParseError naming the file when it cannot be opened, read, or
// is empty. Returns the number of uncompressed bytes read; non-fatal problems are appended to
// `warnings`.
uint64_t for_each_line(const std::string& path,
                       const std::function<void(std::string_view line, uint64_t lineno)>& fn,
                       std::vector<std::string>* warnings = nullptr, size_t max_line = 1 << 20,
                       bool strip_cr = true);

// Incremental parser: feed lines in order, then finish(). Useful to callers that already split a
// stream into lines (log ingest).
class Parser {
 public:
  explicit Parser(std::function<void(const Pause&)> sink, std::string path = "");
  void feed(std::string_view line, uint64_t lineno);
  // Flushes a pending unterminated entry (counted as abandoned) and returns the statistics.
  const ParseStats& finish();
  const ParseStats& stats() const { return stats_; }

  struct Prefix;  // timestamp prefix of a pre-unified line (internal)

 private:
  void emit(Pause& p);
  void skip(std::string_view line, uint64_t lineno);
  bool unified_line(std::string_view line);
  void preunified_line(std::string_view line, uint64_t lineno);
  void start_entry(std::string_view text, const Prefix& pre, uint64_t lineno);
  void scan_entry(std::string_view text);
  void close_entry();
  void note_collector(std::string_view text);

  std::function<void(const Pause&)> sink_;
  ParseStats stats_;
  std::string hint_ = "unknown";
  // Pending pre-unified entry.
  bool open_ = false;
  int depth_ = 0;
  std::string entry_;
  Pause pending_;
  uint64_t entry_lines_ = 0;
};

// Parses one file and calls `sink` for every pause, in file order. Throws ParseError as
// for_each_line does; garbage is counted, never fatal.
ParseStats parse_file(const std::string& path, const std::function<void(const Pause&)>& sink);

// Civil date-time to nanoseconds since the Unix epoch; exposed for tests.
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff][(+|-)HHMM|(+|-)HH:MM|Z]". Returns false on a malformed string.
// `offset_s`, when given, receives the UTC offset if the string carries one (not for 'Z').
bool parse_iso8601_ns(std::string_view s, int64_t& out_ns,
                      std::optional<int64_t>* offset_s = nullptr);

}  // namespace zksim::gcfit
