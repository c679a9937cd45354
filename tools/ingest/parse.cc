#include "tools/ingest/parse.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>

namespace zksim::ingest {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly n digits at s[pos..]; false when any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() &&
         (s.back() == '\r' || s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_right(s);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

bool valid_time(unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s) {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

// Parses a signed decimal at the start of s; returns the number of chars consumed (0 = none).
std::size_t parse_int(std::string_view s, std::int64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (r.ec != std::errc()) return 0;
  return static_cast<std::size_t>(r.ptr - s.data());
}

// Number right after `key` in s, e.g. after "timeout of " in "timeout of 10000ms".
std::optional<std::int64_t> int_after(std::string_view s, std::string_view key) {
  auto p = s.find(key);
  if (p == std::string_view::npos) return std::nullopt;
  std::int64_t v = 0;
  if (parse_int(s.substr(p + key.size()), v) == 0) return std::nullopt;
  return v;
}

// Text between `open` and `close` following `key` (or from the start when key is empty).
std::string_view between(std::string_view s, std::string_view open, std::string_view close) {
  auto a = s.find(open);
  if (a == std::string_view::npos) return {};
  a += open.size();
  auto b = s.find(close, a);
  if (b == std::string_view::npos) return {};
  return s.substr(a, b - a);
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

// ---- time --------------------------------------------------------------------------------------

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t yy = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yy + (m <= 2));
}

std::string format_tz_offset(std::int64_t offset_s) {
  std::int64_t a = offset_s < 0 ? -offset_s : offset_s;
  return fmt::format("{}{:02d}:{:02d}", offset_s < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
}

int parse_tz_offset(std::string_view tz) {
  std::string_view s = tz;
  if (s == "UTC" || s == "Z" || s == "GMT" || s == "utc") return 0;
  if (s.starts_with("UTC") || s.starts_with("GMT")) s.remove_prefix(3);
  auto bad = [&] {
    return IngestError(
        fmt::format("unknown time zone '{}': use UTC or a fixed offset such as +08:00 or -0530 "
                    "(IANA zone names are not supported)",
                    tz));
  };
  if (s.empty() || (s[0] != '+' && s[0] != '-')) throw bad();
  const int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  unsigned h = 0, m = 0;
  if (s.size() == 1 || s.size() == 2) {
    if (!digits(s, 0, s.size(), h)) throw bad();
  } else if (s.size() == 4) {
    if (!digits(s, 0, 2, h) || !digits(s, 2, 2, m)) throw bad();
  } else if (s.size() == 5 && s[2] == ':') {
    if (!digits(s, 0, 2, h) || !digits(s, 3, 2, m)) throw bad();
  } else {
    throw bad();
  }
  if (h > 14 || m > 59) throw bad();
  return sign * static_cast<int>(h * 3600 + m * 60);
}

std::int64_t local_to_utc_ns(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                             std::int64_t frac_ns, int offset_s) {
  const std::int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
  return secs * 1'000'000'000 + frac_ns;
}

namespace {
std::string format_with(std::int64_t ns, char sep, bool z) {
  std::int64_t secs = ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000);
  std::int64_t frac = ns - secs * 1'000'000'000;
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  std::int64_t sod = secs - days * 86400;
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}.{:06}{}", y, m, d, sep, sod / 3600,
                     (sod / 60) % 60, sod % 60, frac / 1000, z ? "Z" : "");
}
}  // namespace

std::string format_utc(std::int64_t ns) {
  return format_with(ns, 'T', true);
}
std::string format_local(std::int64_t ns, int offset_s) {
  return format_with(ns + std::int64_t{offset_s} * 1'000'000'000, ' ', false);
}

// ---- ZooKeeper ---------------------------------------------------------------------------------

std::optional<ZkLine> parse_zk_line(std::string_view line) {
  ZkLine z;
  unsigned y = 0;
  // "YYYY-MM-DD[ T]HH:MM:SS,mmm "
  if (line.size() < 24) return std::nullopt;
  if (!digits(line, 0, 4, y) || line[4] != '-' || !digits(line, 5, 2, z.month) || line[7] != '-' ||
      !digits(line, 8, 2, z.day) || (line[10] != ' ' && line[10] != 'T') ||
      !digits(line, 11, 2, z.hour) || line[13] != ':' || !digits(line, 14, 2, z.minute) ||
      line[16] != ':' || !digits(line, 17, 2, z.second) || (line[19] != ',' && line[19] != '.') ||
      !digits(line, 20, 3, z.millis) || line[23] != ' ')
    return std::nullopt;
  if (!valid_time(z.month, z.day, z.hour, z.minute, z.second)) return std::nullopt;
  z.year = static_cast<int>(y);
  std::string_view rest = line.substr(24);
  if (rest.starts_with("[myid:")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view id = rest.substr(6, close - 6);
    if (!id.empty()) {
      std::int64_t v = 0;
      if (parse_int(id, v) != id.size()) return std::nullopt;
      z.myid = static_cast<int>(v);
    }
    rest.remove_prefix(close + 1);
    if (!rest.starts_with(" ")) return std::nullopt;
    rest.remove_prefix(1);
  }
  if (!rest.starts_with("- ")) return std::nullopt;
  rest.remove_prefix(2);
  auto sp = rest.find(' ');
  if (sp == std::string_view::npos || sp == 0 || sp > 5) return std::nullopt;
  z.level = rest.substr(0, sp);
  for (char c : z.level)
    if (c < 'A' || c > 'Z') return std::nullopt;
  rest.remove_prefix(sp);
  while (rest.starts_with(" ")) rest.remove_prefix(1);
  if (!rest.starts_with("[")) return std::nullopt;
  // The location "[thread:Class@line]" ends at the first "] - "; thread names contain ':', '[',
  // ']' and '@' themselves, so the class is the text after the last ':' before that point.
  auto end = rest.find("] - ");
  std::string_view loc;
  if (end == std::string_view::npos) {
    // A message may be empty: "...@762] -" after trimming.
    std::string_view t = trim_right(rest);
    if (!t.ends_with("] -")) return std::nullopt;
    loc = t.substr(1, t.size() - 4);
    z.message = {};
  } else {
    loc = rest.substr(1, end - 1);
    z.message = trim_right(rest.substr(end + 4));
  }
  auto at = loc.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::int64_t sl = 0;
  std::string_view num = loc.substr(at + 1);
  if (num.empty() || parse_int(num, sl) != num.size()) return std::nullopt;
  z.source_line = static_cast<int>(sl);
  std::string_view tc = loc.substr(0, at);
  auto colon = tc.rfind(':');
  if (colon == std::string_view::npos) {
    z.class_name = tc;
  } else {
    z.thread = tc.substr(0, colon);
    z.class_name = tc.substr(colon + 1);
  }
  return z;
}

int myid_from_thread(std::string_view thread) {
  auto p = thread.find("[myid=");
  if (p == std::string_view::npos) return -1;
  std::int64_t v = 0;
  if (parse_int(thread.substr(p + 6), v) == 0) return -1;
  return static_cast<int>(v);
}

// ---- glog --------------------------------------------------------------------------------------

std::optional<GlogLine> parse_glog_line(std::string_view line) {
  GlogLine g;
  if (line.size() < 22) return std::nullopt;
  char sev = line[0];
  if (sev != 'I' && sev != 'W' && sev != 'E' && sev != 'F') return std::nullopt;
  g.severity = sev;
  if (!digits(line, 1, 2, g.month) || !digits(line, 3, 2, g.day) || line[5] != ' ' ||
      !digits(line, 6, 2, g.hour) || line[8] != ':' || !digits(line, 9, 2, g.minute) ||
      line[11] != ':' || !digits(line, 12, 2, g.second) || line[14] != '.' ||
      !digits(line, 15, 6, g.micros) || line[21] != ' ')
    return std::nullopt;
  if (!valid_time(g.month, g.day, g.hour, g.minute, g.second)) return std::nullopt;
  std::string_view rest = line.substr(22);
  while (rest.starts_with(" ")) rest.remove_prefix(1);
  std::int64_t tid = 0;
  std::size_t n = parse_int(rest, tid);
  if (n == 0 || tid < 0 || n >= rest.size() || rest[n] != ' ') return std::nullopt;
  g.thread = static_cast<std::uint64_t>(tid);
  rest.remove_prefix(n + 1);
  auto close = rest.find("] ");
  std::string_view loc;
  if (close == std::string_view::npos) {
    std::string_view t = trim_right(rest);
    if (!t.ends_with("]")) return std::nullopt;
    loc = t.substr(0, t.size() - 1);
    g.message = {};
  } else {
    loc = rest.substr(0, close);
    g.message = trim_right(rest.substr(close + 2));
  }
  auto colon = loc.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::int64_t sl = 0;
  std::string_view num = loc.substr(colon + 1);
  if (num.empty() || parse_int(num, sl) != num.size()) return std::nullopt;
  if (loc.find(' ') != std::string_view::npos) return std::nullopt;
  g.source_file = loc.substr(0, colon);
  g.source_line = static_cast<int>(sl);
  return g;
}

// ---- detector ----------------------------------------------------------------------------------

std::optional<DetectorLine> parse_detector_line(std::string_view line) {
  DetectorLine d;
  unsigned y = 0;
  if (line.size() < 27) return std::nullopt;
  if (!digits(line, 0, 4, y) || line[4] != '/' || !digits(line, 5, 2, d.month) || line[7] != '/' ||
      !digits(line, 8, 2, d.day) || line[10] != ' ' || !digits(line, 11, 2, d.hour) ||
      line[13] != ':' || !digits(line, 14, 2, d.minute) || line[16] != ':' ||
      !digits(line, 17, 2, d.second) || line[19] != '.' || !digits(line, 20, 6, d.micros) ||
      line[26] != ' ')
    return std::nullopt;
  if (!valid_time(d.month, d.day, d.hour, d.minute, d.second)) return std::nullopt;
  d.year = static_cast<int>(y);
  d.message = trim_right(line.substr(27));
  return d;
}

bool looks_like_gc_line(std::string_view l) {
  // Unified logging: "[0.202s][info][gc] ..." or "[2022-01-29T16:34:51.644+0000][235ms][info]..."
  if (l.starts_with("[") &&
      (l.find("][info") != std::string_view::npos || l.find("][debug") != std::string_view::npos ||
       l.find("][warning") != std::string_view::npos))
    return l.find("gc") != std::string_view::npos || l.find("safepoint") != std::string_view::npos;
  // JDK 6-8: "0.356: [GC pause (young) ..." / "2022-08-01T17:17:33.375+0000: 0.163: [GC ..."
  if (l.find(": [GC") != std::string_view::npos || l.find(": [Full GC") != std::string_view::npos ||
      l.find(": #") != std::string_view::npos)
    return !l.empty() && is_digit(l[0]);
  if (l.starts_with("Java HotSpot(TM)") || l.starts_with("OpenJDK ") ||
      l.starts_with("CommandLine flags:") || l.starts_with("Memory: "))
    return true;
  if (l.find("Total time for which application threads were stopped") != std::string_view::npos)
    return true;
  return false;
}

// ---- classifiers -------------------------------------------------------------------------------

bool classify_zk_message(const ZkLine& zl, std::string_view cause, std::string_view root_cause,
                         Event& ev) {
  std::string_view m = zl.message;
  const std::string_view cls = zl.class_name;
  if (m.starts_with("Peer state changed: ")) {
    std::string_view s = m.substr(20);
    ev.type = EventType::kPeerState;
    auto dash = s.find(" - ");
    ev.state = std::string(s.substr(0, dash));
    if (dash != std::string_view::npos) ev.phase = std::string(s.substr(dash + 3));
    return true;
  }
  if ((m == "LOOKING" || m == "FOLLOWING" || m == "LEADING" || m == "OBSERVING") &&
      cls.starts_with("QuorumPeer")) {
    ev.type = EventType::kPeerRole;
    ev.state = lower(m);
    return true;
  }
  if (m == "PeerState set to LOOKING") {
    ev.type = EventType::kPeerRole;
    ev.state = "looking";
    return true;
  }
  if (auto p = m.find(" - LEADER ELECTION TOOK - "); p != std::string_view::npos) {
    std::int64_t v = 0;
    if (parse_int(m.substr(p + 26), v) == 0) return false;
    ev.type = EventType::kElectionTook;
    ev.state = lower(m.substr(0, p));
    ev.num = v;
    return true;
  }
  if (m == "Exception when following the leader") {
    ev.type = EventType::kFollowerException;
    ev.detail = std::string(trim(cause));
    if (!root_cause.empty()) ev.detail += fmt::format(" (root cause: {})", trim(root_cause));
    return true;
  }
  if (m.starts_with("Disconnected from leader (with address: ")) {
    ev.type = EventType::kFollowerDisconnected;
    ev.server = std::string(between(m, "(with address: ", ")"));
    ev.num = int_after(m, "Was connected for ").value_or(0);
    ev.detail = std::string(trim(m.substr(m.rfind("Sync state: ") == std::string_view::npos
                                              ? m.size()
                                              : m.rfind("Sync state: ") + 12)));
    return true;
  }
  if (cls == "Leader" && (m.starts_with("Shutdown called") || m.starts_with("Shutting down"))) {
    // 3.6+: "Shutdown called. For the reason <reason>"; 3.4/3.5: "Shutdown called" followed by
    // "java.lang.Exception: shutdown Leader! reason: <reason>".
    std::string_view reason;
    if (auto p = m.find("For the reason "); p != std::string_view::npos) {
      reason = m.substr(p + 15);
    } else if (auto q = cause.find("reason: "); q != std::string_view::npos) {
      reason = cause.substr(q + 8);
    } else if (m.starts_with("Shutting down")) {
      return false;  // 3.4 logs "Shutting down" then "Shutdown called" with the reason.
    }
    ev.detail = std::string(trim(reason));
    ev.type = reason.find("Not sufficient followers synced") != std::string_view::npos
                  ? EventType::kLeaderQuorumLoss
                  : EventType::kLeaderShutdown;
    return true;
  }
  if (m.starts_with("Have quorum of supporters")) {
    ev.type = EventType::kLeaderQuorumFormed;
    // "Have quorum of supporters, sids: [[1, 3, 4]]; starting up ..." (3.6+); 3.4 has no sids.
    if (auto p = m.find("sids: "); p != std::string_view::npos) {
      std::string_view s = m.substr(p + 6);
      ev.detail = std::string(trim(s.substr(0, s.find(';'))));
    }
    return true;
  }
  if (m.starts_with("Expiring session ")) {
    ev.type = EventType::kSessionExpiry;
    std::string_view s = m.substr(17);
    ev.detail = std::string(s.substr(0, s.find(',')));
    ev.num = int_after(m, "timeout of ").value_or(0);
    return true;
  }
  if (m.starts_with("Established session ")) {
    ev.type = EventType::kSessionEstablished;
    std::string_view s = m.substr(20);
    ev.detail = std::string(s.substr(0, s.find(' ')));
    ev.num = int_after(m, "negotiated timeout ").value_or(0);
    if (auto p = m.find(" for client "); p != std::string_view::npos) {
      std::string_view c = m.substr(p + 12);
      ev.server = std::string(c.substr(0, c.find(' ')));
    }
    return true;
  }
  if (m.starts_with("Connection broken for id ")) {
    ev.type = EventType::kPeerConnectionBroken;
    ev.num = int_after(m, "for id ").value_or(-1);
    ev.detail = std::string(trim(cause));
    return true;
  }
  if (m.starts_with("Cannot open channel to ")) {
    ev.type = EventType::kElectionChannelFailed;
    ev.num = int_after(m, "channel to ").value_or(-1);
    if (auto p = m.find("election address "); p != std::string_view::npos)
      ev.server = std::string(trim(m.substr(p + 17)));
    ev.detail = std::string(trim(cause));
    return true;
  }
  if (m.starts_with("******* GOODBYE ")) {
    ev.type = EventType::kLearnerGoodbye;
    std::string_view s = m.substr(16);
    ev.server = std::string(s.substr(0, s.find(' ')));
    return true;
  }
  if (m.starts_with("Unexpected exception causing shutdown while sock still open") ||
      m.starts_with("Unexpected exception in LearnerHandler")) {
    ev.type = EventType::kLearnerHandlerError;
    ev.detail = std::string(trim(cause));
    // The learner is in the thread name: "LearnerHandler-/10.10.10.146:40036".
    if (zl.thread.starts_with("LearnerHandler-")) ev.server = std::string(zl.thread.substr(15));
    return true;
  }
  if (m.starts_with("Notification time out: ")) {
    ev.type = EventType::kNotificationTimeout;
    ev.num = int_after(m, "time out: ").value_or(0);
    return true;
  }
  if (m.starts_with("Notification: ")) {
    ev.type = EventType::kFleNotification;
    if (m.starts_with("Notification: my state:")) {
      // 3.6+: "Notification: my state:LOOKING; n.sid:2, n.state:LOOKING, n.leader:5, ..."
      ev.prev = lower(between(m, "my state:", ";"));
      ev.state = lower(between(m, "n.state:", ","));
      ev.num = int_after(m, "n.leader:").value_or(-1);
      ev.num2 = int_after(m, "n.sid:").value_or(-1);
    } else {
      // 3.4: "Notification: [1 (message format version), ]3 (n.leader), 0x0 (n.zxid), 0x1
      // (n.round), LOOKING (n.state), 3 (n.sid), 0x2 (n.peerEpoch)[,] LOOKING (my state)"
      std::string_view s = m.substr(14);
      while (!s.empty()) {
        auto comma = s.find(',');
        std::string_view tok = trim(s.substr(0, comma));
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        auto lp = tok.find(" (");
        if (lp == std::string_view::npos || !tok.ends_with(")")) continue;
        std::string_view value = tok.substr(0, lp);
        std::string_view tag = tok.substr(lp + 2, tok.size() - lp - 3);
        std::int64_t v = -1;
        if (tag == "n.leader" && parse_int(value, v) == value.size()) ev.num = v;
        if (tag == "n.sid" && parse_int(value, v) == value.size()) ev.num2 = v;
        if (tag == "n.state") ev.state = lower(value);
        if (tag == "my state") ev.prev = lower(value);
      }
    }
    return true;
  }
  if (m.starts_with("New election. My id = ")) {
    ev.type = EventType::kNewElection;
    if (auto p = m.find("proposed zxid="); p != std::string_view::npos)
      ev.detail = std::string(trim(m.substr(p + 14)));
    return true;
  }
  if (m.starts_with("Starting quorum peer") && cls == "QuorumPeerMain") {
    ev.type = EventType::kPeerStart;
    return true;
  }
  return false;
}

namespace {

// The C client's own line inside "[ZOO] ": "func:line 2025-07-20 00:02:04,948:5095(0x7f..):
// ZOO_ERROR@handle_socket_error_msg@2522: text". Returns (function, text).
bool split_zoo(std::string_view m, std::string_view& func, std::string_view& text) {
  auto z = m.find("ZOO_");
  if (z == std::string_view::npos) return false;
  std::string_view s = m.substr(z);
  auto a1 = s.find('@');
  if (a1 == std::string_view::npos) return false;
  auto a2 = s.find('@', a1 + 1);
  if (a2 == std::string_view::npos) return false;
  func = s.substr(a1 + 1, a2 - a1 - 1);
  auto c = s.find(": ", a2);
  if (c == std::string_view::npos) return false;
  text = s.substr(c + 2);
  return true;
}

}  // namespace

bool classify_meta_message(std::string_view source_file, std::string_view m, Event& ev) {
  (void)source_file;
  if (m.starts_with("[ZOO] ")) {
    std::string_view func, text;
    if (!split_zoo(m, func, text)) return false;
    if (text.starts_with("Socket [")) {
      // "Socket [10.10.10.148:2181] zk retcode=-4, errno=112(Host is down): failed while ..."
      ev.server = std::string(between(text, "Socket [", "]"));
      ev.num2 = int_after(text, "retcode=").value_or(0);
      ev.num = int_after(text, "errno=").value_or(0);
      auto open = text.find("errno=");
      std::string_view after = open == std::string_view::npos ? text : text.substr(open);
      auto lp = after.find('(');
      auto rp = after.find("): ");
      if (lp != std::string_view::npos && rp != std::string_view::npos && rp > lp) {
        ev.state = std::string(trim(after.substr(lp + 1, rp - lp - 1)));
        ev.detail = std::string(trim(after.substr(rp + 3)));
      } else {
        ev.detail = std::string(trim(text));
      }
      // Wrapped lines were joined with '\n'; keep the errno text on one line.
      std::erase(ev.state, '\n');
      if (ev.detail.find("has expired") != std::string::npos) {
        ev.type = EventType::kClientSessionExpired;
        ev.detail = std::string(trim(between(text, "sessionId=", " has expired")));
      } else {
        ev.type = EventType::kConnectionError;
      }
      return true;
    }
    if (text.starts_with("initiated connection to server [")) {
      ev.type = EventType::kClientConnectInitiated;
      ev.server = std::string(between(text, "[", "]"));
      return true;
    }
    if (text.starts_with("session establishment complete on server [")) {
      ev.type = EventType::kClientSessionEstablished;
      ev.server = std::string(between(text, "[", "]"));
      ev.detail = std::string(between(text, "sessionId=", ","));
      ev.num = int_after(text, "negotiated timeout=").value_or(0);
      return true;
    }
    if (text.starts_with("Delaying connection after exhaustively trying all servers")) {
      ev.type = EventType::kClientDelaying;
      ev.detail = std::string(between(text, "[", "]"));
      return true;
    }
    if (text.starts_with("Exceeded deadline by ")) {
      ev.type = EventType::kClientDeadlineExceeded;
      ev.num = int_after(text, "deadline by ").value_or(0);
      return true;
    }
    return false;
  }
  if (m.starts_with("zookeeper session event: ")) {
    std::string_view s = m.substr(25);
    auto arrow = s.find(" --> ");
    if (arrow == std::string_view::npos) return false;
    ev.type = EventType::kClientStateChange;
    ev.prev = std::string(trim(s.substr(0, arrow)));
    ev.state = std::string(trim(s.substr(arrow + 5)));
    return true;
  }
  if (m.starts_with("Start the session timeout timer: ")) {
    ev.type = EventType::kLocalTimerStart;
    ev.num = int_after(m, "timer: ").value_or(0);
    return true;
  }
  if (m.starts_with("Stop the session timeout timer")) {
    ev.type = EventType::kLocalTimerStop;
    return true;
  }
  if (m.starts_with("QuorumCluster state change: ")) {
    std::string_view s = m.substr(28);
    auto arrow = s.find(" --> ");
    if (arrow == std::string_view::npos) return false;
    ev.type = EventType::kQuorumClusterState;
    ev.prev = std::string(trim(s.substr(0, arrow)));
    ev.state = std::string(trim(s.substr(arrow + 5)));
    return true;
  }
  if (m.starts_with("[ROLE CHANGE] ")) {
    ev.type = EventType::kMetaRoleChange;
    std::string_view role = between(m, "I am the ", " now");
    ev.state = role.empty() ? std::string(trim(m.substr(14))) : std::string(role);
    ev.num = int_after(m, "seq is ").value_or(-1);
    return true;
  }
  if (m.starts_with("Zookeeper session timeout")) {
    ev.type = EventType::kMetaSessionTimeout;
    return true;
  }
  if (m.starts_with("Stopping quorum cluster")) {
    ev.type = EventType::kMetaQuorumStopping;
    return true;
  }
  if (m.starts_with("Meta rpc server starts at ")) {
    ev.type = EventType::kMetaStart;
    ev.server = std::string(trim(m.substr(26)));
    return true;
  }
  return false;
}

bool classify_detector_message(std::string_view m, Event& ev) {
  if (m.starts_with("quorum matrix: ")) {
    ev.type = EventType::kDetectorMatrix;
    std::string_view cells = trim(m.substr(15));
    if (cells.starts_with("[") && cells.ends_with("]")) cells = cells.substr(1, cells.size() - 2);
    ev.state = std::string(cells);
    std::int64_t leaders = 0;
    for (char c : cells) leaders += c == 'L';
    ev.num = leaders;
    return true;
  }
  if (m.starts_with("more than 1 leader appear")) {
    ev.type = EventType::kDetectorMultiLeader;
    ev.num = int_after(m, "cnt=").value_or(0);
    return true;
  }
  if (m.starts_with("is leader changed, current: ")) {
    ev.type = EventType::kDetectorLeaderChanged;
    ev.state = std::string(trim(m.substr(28)));
    return true;
  }
  if (m.starts_with("running cmd: ")) {
    ev.type = EventType::kDetectorCmd;
    std::string_view c = trim(m.substr(13));
    if (c.size() >= 2 && c.front() == '\'' && c.back() == '\'') c = c.substr(1, c.size() - 2);
    ev.detail = std::string(c);
    return true;
  }
  if (m.starts_with("failed to ")) {
    ev.type = EventType::kDetectorError;
    ev.detail = std::string(m);
    return true;
  }
  return false;
}

}  // namespace zksim::ingest
