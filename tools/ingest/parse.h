// Line-level parsers for the log layouts ingest understands. Pure functions over string_view, no
// I/O: the file walker (ingest.h) feeds them lines and the tests feed them single lines.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tools/ingest/timeline.h"

namespace zksim::ingest {

// A clear, user-facing input error (bad flag value, unreadable folder). The CLI prints it and
// exits with status 2.
struct IngestError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- time --------------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
// Civil date of a day count.
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d);

// Fixed UTC offset in seconds parsed from "UTC", "Z", "GMT", "+08:00", "+0800", "+8", "UTC+08:00",
// "-05:30". Anything else (IANA names included) throws IngestError naming the string.
int parse_tz_offset(std::string_view tz);
// The offset as parse_tz_offset reads it back: "+08:00", "-05:30", "+00:00".
std::string format_tz_offset(std::int64_t offset_s);

// UTC ns of a local wall-clock time with the given fixed offset (local = UTC + offset).
std::int64_t local_to_utc_ns(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                             std::int64_t frac_ns, int offset_s);

// "2025-07-19T16:02:04.749000Z" (UTC, microseconds) and the same in a fixed offset without a
// suffix ("2025-07-20 00:02:04.749000"), used by the summary.
std::string format_utc(std::int64_t ns);
std::string format_local(std::int64_t ns, int offset_s);

// ---- ZooKeeper server log4j layout (3.4 to 3.9) ------------------------------------------------
//   2015-07-29 19:04:12,394 - INFO  [thread:Class@123] - msg                  (3.4, no myid)
//   2017-09-13 11:19:28,527 [myid:1] - INFO  [QuorumPeer[myid=1]/0:0:...:2181:QuorumPeer@770] - msg
//   2025-07-20T00:02:04,749 [myid:] - WARN
//   [QuorumPeer[myid=1](plain=...)(secure=disabled):Follower@100] - msg
struct ZkLine {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  int myid = -1;                // the [myid:N] field; -1 when absent or empty
  std::string_view level;       // "INFO"
  std::string_view thread;      // "QuorumPeer[myid=1](plain=10.10.10.146:2181)(secure=disabled)"
  std::string_view class_name;  // "Follower"
  int source_line = -1;         // 100
  std::string_view message;     // text after "] - ", trailing CR/space trimmed
};
std::optional<ZkLine> parse_zk_line(std::string_view line);

// ---- glog (zbs-metad, Go clients) --------------------------------------------------------------
//   I0804 21:23:30.942200 22200 quorum_cluster.cc:443] msg
struct GlogLine {
  char severity = 'I';
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  std::uint64_t thread = 0;
  std::string_view source_file;  // "quorum_cluster.cc"
  int source_line = -1;
  std::string_view message;
};
std::optional<GlogLine> parse_glog_line(std::string_view line);

// ---- detector (Go log with microseconds) -------------------------------------------------------
//   2022/08/04 20:15:00.514593 quorum matrix: [L X]
struct DetectorLine {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  std::string_view message;
};
std::optional<DetectorLine> parse_detector_line(std::string_view line);

// True when a line looks like a GC log line (JDK 6-8 or unified logging).
bool looks_like_gc_line(std::string_view line);

// ---- message classifiers -----------------------------------------------------------------------
// Each fills the type and payload of `ev` and returns true when the message is a key event.
// `cause` is the first continuation line of the record (the exception line), may be empty.
bool classify_zk_message(const ZkLine& zl, std::string_view cause, std::string_view root_cause,
                         Event& ev);
// `message` of a meta glog record, continuation lines already appended.
bool classify_meta_message(std::string_view source_file, std::string_view message, Event& ev);
bool classify_detector_message(std::string_view message, Event& ev);

// myid carried by a ZooKeeper thread name ("QuorumPeer[myid=4](...)", "WorkerSender[myid=3]").
int myid_from_thread(std::string_view thread);

}  // namespace zksim::ingest
