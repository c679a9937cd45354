#include "tools/ingest/timeline.h"

#include <array>

namespace zksim::ingest {
namespace {

struct TypeInfo {
  EventType type;
  const char* name;
  EventFields fields;  // state, prev, phase, server, detail, num, num2
};

// The single table of type names and payload field names (docs/ingest.md mirrors it).
constexpr std::array<TypeInfo, kEventTypeCount> kTypes{{
    {EventType::kPeerState,
     "peer_state",
     {"state", nullptr, "phase", nullptr, nullptr, nullptr, nullptr}},
    {EventType::kPeerRole,
     "peer_role",
     {"state", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kElectionTook,
     "election_took",
     {"role", nullptr, nullptr, nullptr, nullptr, "ms", nullptr}},
    {EventType::kFollowerException,
     "follower_exception",
     {nullptr, nullptr, nullptr, nullptr, "cause", nullptr, nullptr}},
    {EventType::kFollowerDisconnected,
     "follower_disconnected",
     {nullptr, nullptr, nullptr, "leader", "sync_state", "connected_ms", nullptr}},
    {EventType::kLeaderQuorumLoss,
     "leader_quorum_loss",
     {nullptr, nullptr, nullptr, nullptr, "reason", nullptr, nullptr}},
    {EventType::kLeaderShutdown,
     "leader_shutdown",
     {nullptr, nullptr, nullptr, nullptr, "reason", nullptr, nullptr}},
    {EventType::kLeaderQuorumFormed,
     "leader_quorum_formed",
     {nullptr, nullptr, nullptr, nullptr, "sids", nullptr, nullptr}},
    {EventType::kSessionExpiry,
     "session_expiry",
     {nullptr, nullptr, nullptr, nullptr, "session", "timeout_ms", nullptr}},
    {EventType::kSessionEstablished,
     "session_established",
     {nullptr, nullptr, nullptr, "client", "session", "timeout_ms", nullptr}},
    {EventType::kPeerConnectionBroken,
     "peer_connection_broken",
     {nullptr, nullptr, nullptr, nullptr, "cause", "sid", nullptr}},
    {EventType::kElectionChannelFailed,
     "election_channel_failed",
     {nullptr, nullptr, nullptr, "address", "cause", "sid", nullptr}},
    {EventType::kLearnerGoodbye,
     "learner_goodbye",
     {nullptr, nullptr, nullptr, "learner", nullptr, nullptr, nullptr}},
    {EventType::kLearnerHandlerError,
     "learner_handler_error",
     {nullptr, nullptr, nullptr, "learner", "cause", nullptr, nullptr}},
    {EventType::kNotificationTimeout,
     "notification_timeout",
     {nullptr, nullptr, nullptr, nullptr, nullptr, "ms", nullptr}},
    {EventType::kFleNotification,
     "fle_notification",
     {"n_state", "my_state", nullptr, nullptr, nullptr, "n_leader", "n_sid"}},
    {EventType::kNewElection,
     "new_election",
     {nullptr, nullptr, nullptr, nullptr, "zxid", nullptr, nullptr}},
    {EventType::kPeerStart,
     "peer_start",
     {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kConnectionError,
     "connection_error",
     {"errno_text", nullptr, nullptr, "server", "reason", "errno", "retcode"}},
    {EventType::kClientConnectInitiated,
     "client_connect_initiated",
     {nullptr, nullptr, nullptr, "server", nullptr, nullptr, nullptr}},
    {EventType::kClientSessionEstablished,
     "client_session_established",
     {nullptr, nullptr, nullptr, "server", "session", "timeout_ms", nullptr}},
    {EventType::kClientSessionExpired,
     "client_session_expired",
     {"errno_text", nullptr, nullptr, "server", "session", "errno", "retcode"}},
    {EventType::kClientDelaying,
     "client_delaying",
     {nullptr, nullptr, nullptr, nullptr, "servers", nullptr, nullptr}},
    {EventType::kClientDeadlineExceeded,
     "client_deadline_exceeded",
     {nullptr, nullptr, nullptr, nullptr, nullptr, "ms", nullptr}},
    {EventType::kClientStateChange,
     "client_state_change",
     {"to", "from", nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kLocalTimerStart,
     "local_timer_start",
     {nullptr, nullptr, nullptr, nullptr, nullptr, "ms", nullptr}},
    {EventType::kLocalTimerStop,
     "local_timer_stop",
     {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kQuorumClusterState,
     "quorum_cluster_state",
     {"to", "from", nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kMetaRoleChange,
     "meta_role_change",
     {"role", nullptr, nullptr, nullptr, nullptr, "seq", nullptr}},
    {EventType::kMetaSessionTimeout,
     "meta_session_timeout",
     {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kMetaQuorumStopping,
     "meta_quorum_stopping",
     {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kMetaStart,
     "meta_start",
     {nullptr, nullptr, nullptr, "address", nullptr, nullptr, nullptr}},
    {EventType::kDetectorMatrix,
     "detector_matrix",
     {"matrix", nullptr, nullptr, nullptr, nullptr, "leaders", nullptr}},
    {EventType::kDetectorMultiLeader,
     "detector_multi_leader",
     {nullptr, nullptr, nullptr, nullptr, nullptr, "count", nullptr}},
    {EventType::kDetectorLeaderChanged,
     "detector_leader_changed",
     {"current", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr}},
    {EventType::kDetectorCmd,
     "detector_cmd",
     {nullptr, nullptr, nullptr, nullptr, "cmd", nullptr, nullptr}},
    {EventType::kDetectorError,
     "detector_error",
     {nullptr, nullptr, nullptr, nullptr, "message", nullptr, nullptr}},
    {EventType::kGcPause,
     "gc_pause",
     {"kind", nullptr, nullptr, nullptr, "collector", "pause_us", nullptr}},
}};

constexpr bool table_in_enum_order() {
  for (int i = 0; i < kEventTypeCount; ++i)
    if (static_cast<int>(kTypes[static_cast<std::size_t>(i)].type) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "kTypes must list every EventType in enum order");

}  // namespace

std::string_view event_type_name(EventType t) {
  return kTypes[static_cast<std::size_t>(t)].name;
}

std::optional<EventType> event_type_from_name(std::string_view name) {
  for (const TypeInfo& ti : kTypes)
    if (name == ti.name) return ti.type;
  return std::nullopt;
}

const EventFields& event_fields(EventType t) {
  return kTypes[static_cast<std::size_t>(t)].fields;
}

std::string_view process_name(Process p) {
  switch (p) {
    case Process::kZookeeper:
      return "zookeeper";
    case Process::kMeta:
      return "meta";
    case Process::kDetector:
      return "detector";
    case Process::kGc:
      return "gc";
    case Process::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view file_kind_name(FileKind k) {
  switch (k) {
    case FileKind::kZookeeper:
      return "zookeeper";
    case FileKind::kMeta:
      return "meta";
    case FileKind::kDetector:
      return "detector";
    case FileKind::kGc:
      return "gc";
    case FileKind::kUnknownText:
      return "unknown_text";
    case FileKind::kBinary:
      return "binary";
    case FileKind::kEmpty:
      return "empty";
  }
  return "unknown_text";
}

}  // namespace zksim::ingest
