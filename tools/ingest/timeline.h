// The normalized incident timeline produced by `zksim ingest`.
//
// One Event is one key log record (a peer state change, a follower exception, a C-client socket
// error, a meta role change, ...). Lines that carry no key event are counted per file but not
// kept, so memory grows with the number of key events, never with the bytes of log read.
//
// Payload fields are generic (state, prev, phase, server, detail, num, num2); which of them a type
// uses, and the name each gets in the JSON output, is the table in event_fields() (documented in
// docs/ingest.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zksim::ingest {

// Which program wrote the line.
enum class Process : std::uint8_t { kZookeeper, kMeta, kDetector, kGc, kUnknown };

// What kind of file a log file is, decided from its content (the name is only a tie-breaker).
enum class FileKind : std::uint8_t {
  kZookeeper,
  kMeta,
  kDetector,
  kGc,
  kUnknownText,
  kBinary,
  kEmpty
};

enum class EventType : std::uint8_t {
  // ZooKeeper server (log4j layouts of 3.4 to 3.9).
  kPeerState,              // "Peer state changed: following - discovery" (3.6+)
  kPeerRole,               // "LOOKING" / "FOLLOWING" / "LEADING" / "PeerState set to LOOKING"
  kElectionTook,           // "FOLLOWING - LEADER ELECTION TOOK - 49 MS"
  kFollowerException,      // "Exception when following the leader" + cause (next line)
  kFollowerDisconnected,   // "Disconnected from leader (with address: ...). Was connected for Nms"
  kLeaderQuorumLoss,       // leader shutdown because "Not sufficient followers synced"
  kLeaderShutdown,         // any other leader shutdown reason
  kLeaderQuorumFormed,     // "Have quorum of supporters ..."
  kSessionExpiry,          // "Expiring session 0x.., timeout of 10000ms exceeded"
  kSessionEstablished,     // "Established session 0x.. with negotiated timeout N for client /a:p"
  kPeerConnectionBroken,   // "Connection broken for id N, my id = M"
  kElectionChannelFailed,  // "Cannot open channel to N at election address /a:p"
  kLearnerGoodbye,         // "******* GOODBYE /a:p ********"
  kLearnerHandlerError,    // "Unexpected exception causing shutdown while sock still open" etc.
  kNotificationTimeout,    // "Notification time out: N"
  kFleNotification,        // FastLeaderElection "Notification: ..."
  kNewElection,            // "New election. My id = N, proposed zxid=0x.."
  kPeerStart,              // "Starting quorum peer"
  // ZooKeeper C client inside zbs-metad ("[ZOO]" glog lines).
  kConnectionError,           // handle_socket_error_msg: server, retcode, errno
  kClientConnectInitiated,    // "initiated connection to server [a:p]"
  kClientSessionEstablished,  // "session establishment complete on server [...]"
  kClientSessionExpired,      // "sessionId=0x.. has expired."
  kClientDelaying,            // "Delaying connection after exhaustively trying all servers"
  kClientDeadlineExceeded,    // "Exceeded deadline by Nms"
  // zbs-metad.
  kClientStateChange,   // "zookeeper session event: CONNECTED_STATE --> CONNECTING_STATE"
  kLocalTimerStart,     // "Start the session timeout timer: 200"
  kLocalTimerStop,      // "Stop the session timeout timer."
  kQuorumClusterState,  // "QuorumCluster state change: Running --> Running_Connecting"
  kMetaRoleChange,      // "[ROLE CHANGE] I am the leader now.  seq is 53"
  kMetaSessionTimeout,  // "Zookeeper session timeout."
  kMetaQuorumStopping,  // "Stopping quorum cluster."
  kMetaStart,           // "Meta rpc server starts at a:p"
  // detector.
  kDetectorMatrix,         // "quorum matrix: [L X]"
  kDetectorMultiLeader,    // "more than 1 leader appear at this tick, cnt=2"
  kDetectorLeaderChanged,  // "is leader changed, current: true"
  kDetectorCmd,            // "running cmd: 'ifdown ens224'"
  kDetectorError,          // "failed to get meta summary for meta 0, ..."
  // JVM.
  kGcPause,
  kCount_  // number of types; not a type
};

inline constexpr int kEventTypeCount = static_cast<int>(EventType::kCount_);

struct Event {
  std::int64_t time_ns = 0;  // UTC, ns since the Unix epoch (the line's own resolution: ms or us)
  std::string host;          // "10.10.10.152" (from the host folder), "" when unknown
  int myid = -1;             // ZooKeeper server id, -1 when unknown or not a ZooKeeper event
  Process process = Process::kUnknown;
  EventType type = EventType::kPeerState;
  std::uint32_t file = 0;  // index into Timeline::files
  std::uint64_t line = 0;  // 1-based line number of the record's first line in that file
  // Payload; see event_fields() for the per-type meaning.
  std::string state;   // new state / role / matrix / n.state
  std::string prev;    // previous state of a transition, "my state" of an FLE notification
  std::string phase;   // Zab phase of a peer state ("discovery", "synchronization - diff")
  std::string server;  // remote endpoint ("10.10.10.152:2181", "/192.168.56.101:51603")
  std::string detail;  // exception cause, shutdown reason, session id, command, message
  std::int64_t num = 0;
  std::int64_t num2 = 0;
};

// JSON names of the payload fields a type uses; nullptr = unused (omitted from the JSON).
struct EventFields {
  const char* state;
  const char* prev;
  const char* phase;
  const char* server;
  const char* detail;
  const char* num;
  const char* num2;
};

std::string_view event_type_name(EventType t);  // "peer_state", "follower_exception", ...
std::optional<EventType> event_type_from_name(std::string_view name);
const EventFields& event_fields(EventType t);
std::string_view process_name(Process p);  // "zookeeper", "meta", "detector", "gc", "unknown"
std::string_view file_kind_name(FileKind k);

// Per-file report: what was read and what could not be understood.
struct FileReport {
  std::string path;  // relative to LOGDIR, '/'-separated
  std::string host;
  FileKind kind = FileKind::kUnknownText;
  bool gzip = false;
  std::uint64_t lines = 0;         // physical lines read
  std::uint64_t records = 0;       // lines that parsed as a record head in the file's layout
  std::uint64_t continuation = 0;  // lines attached to the record above (stack traces, wraps)
  std::uint64_t unknown = 0;       // lines that fit no layout (counted, never fatal)
  std::uint64_t events = 0;        // key events emitted
  std::int64_t first_ns = 0;       // time of the first and last record (0 when none)
  std::int64_t last_ns = 0;
  std::vector<std::pair<int, std::int64_t>> myid_last_ns;  // last record time per explicit myid
  // GC logs: the one UTC offset every dated pause was stamped with (the host's zone), if any.
  std::optional<std::int64_t> stamped_utc_offset_s;
  std::vector<std::string> notes;  // warnings: "line 12: unknown line", "truncated gzip", ...
};

// A folder below LOGDIR that zksim wrote itself and the walker does not read: a `zksim run --logs`
// folder (zksim-run.json) or a `zksim replay --out` folder (report.json and scenario.json). Its
// logs are a simulated run of their own; read with the recorded ones they would be taken for a
// host named after the folder.
struct SkippedDir {
  std::string rel;  // relative to LOGDIR, '/'-separated
  std::string why;
};

struct Timeline {
  std::string root;  // LOGDIR as given
  std::string tz;    // the --tz string
  std::vector<FileReport> files;
  std::vector<SkippedDir> skipped_dirs;
  std::vector<Event> events;  // sorted by (time, host, file, line)
  std::uint64_t gc_files_not_parsed = 0;
};

}  // namespace zksim::ingest
