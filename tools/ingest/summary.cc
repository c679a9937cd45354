#include "tools/ingest/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "tools/ingest/parse.h"

namespace zksim::ingest {
namespace {

std::string peer_key(const Event& e) {
  if (!e.host.empty()) return e.host;
  if (e.myid >= 0) return fmt::format("myid {}", e.myid);
  return "-";
}

struct Open {
  bool leading = false;
  LeaderInterval iv;
};

// Sweep the intervals over [from, to] and report stretches whose leader count satisfies pred.
template <class Pred>
std::vector<LeaderWindow> windows(const std::vector<LeaderInterval>& ivs, std::int64_t from,
                                  std::int64_t to, Pred pred) {
  std::vector<LeaderWindow> out;
  if (to <= from) return out;
  std::vector<std::int64_t> cuts{from, to};
  for (const auto& iv : ivs) {
    if (iv.start_ns > from && iv.start_ns < to) cuts.push_back(iv.start_ns);
    if (iv.end_ns > from && iv.end_ns < to) cuts.push_back(iv.end_ns);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    std::int64_t a = cuts[i], b = cuts[i + 1];
    std::vector<std::string> who;
    for (const auto& iv : ivs)
      if (iv.start_ns <= a && iv.end_ns >= b) who.push_back(iv.peer);
    std::sort(who.begin(), who.end());
    who.erase(std::unique(who.begin(), who.end()), who.end());
    int n = static_cast<int>(who.size());
    if (!pred(n)) continue;
    if (!out.empty() && out.back().end_ns == a && out.back().who == who) {
      out.back().end_ns = b;
    } else {
      out.push_back({a, b, n, who});
    }
  }
  return out;
}

std::string local_day(std::int64_t ns, int offset_s) {
  return format_local(ns, offset_s).substr(0, 10);
}

}  // namespace

Summary summarize(const Timeline& tl, int offset_s) {
  Summary s;
  std::map<std::string, std::int64_t> zk_last;  // last evidence per peer
  for (const FileReport& f : tl.files) {
    if (f.kind == FileKind::kZookeeper && f.last_ns != 0) {
      if (!f.host.empty()) {
        zk_last[f.host] = std::max(zk_last[f.host], f.last_ns);
      } else {
        for (auto& [id, t] : f.myid_last_ns) {
          std::string k = fmt::format("myid {}", id);
          zk_last[k] = std::max(zk_last[k], t);
        }
      }
      s.zk_span_end = std::max(s.zk_span_end, f.last_ns);
    }
    if (f.kind == FileKind::kMeta && f.last_ns != 0) {
      s.meta_span_end = std::max(s.meta_span_end, f.last_ns);
    }
  }

  std::map<std::string, Open> zk, meta;
  auto close = [](Open& o, std::int64_t t, std::string why, std::vector<LeaderInterval>& out) {
    if (!o.leading) return;
    o.leading = false;
    o.iv.end_ns = t;
    o.iv.end_reason = std::move(why);
    out.push_back(o.iv);
  };
  auto open = [](Open& o, const Event& e, const std::string& key) {
    if (o.leading) return;
    o.leading = true;
    o.iv = LeaderInterval{key, e.host, e.myid, e.time_ns, 0, "", e.file, e.line};
  };

  for (const Event& e : tl.events) {
    auto& c = s.per_host_day[peer_key(e)][local_day(e.time_ns, offset_s)];
    ++c[static_cast<std::size_t>(e.type)];
    ++s.totals[static_cast<std::size_t>(e.type)];
    const std::string key = peer_key(e);
    switch (e.type) {
      case EventType::kPeerState:
      case EventType::kPeerRole:
        if (key == "-") break;
        if (s.zk_span_start == 0) s.zk_span_start = e.time_ns;
        if (e.state == "leading")
          open(zk[key], e, key);
        else
          close(zk[key], e.time_ns, "state " + e.state, s.zk_leaders);
        break;
      case EventType::kPeerStart:
        close(zk[key], e.time_ns, "restart", s.zk_leaders);
        break;
      case EventType::kMetaRoleChange:
        if (s.meta_span_start == 0) s.meta_span_start = e.time_ns;
        if (e.state == "leader")
          open(meta[key], e, key);
        else
          close(meta[key], e.time_ns, "role " + e.state, s.meta_leaders);
        break;
      case EventType::kQuorumClusterState:
        if (e.state == "Expired" || e.state == "Stopped")
          close(meta[key], e.time_ns, "quorum_cluster " + e.state, s.meta_leaders);
        // Leaving "Stopped" while leading: the stop was never logged, i.e. the process died and
        // this is its restart (a clean stop logs "Stopping quorum cluster." and "--> Stopped").
        else if (e.prev == "Stopped")
          close(meta[key], e.time_ns, "restart", s.meta_leaders);
        break;
      case EventType::kClientStateChange:
        // The ZooKeeper session (and the meta's ephemeral leader node) is gone.
        if (e.process == Process::kMeta && e.state == "EXPIRED_SESSION_STATE")
          close(meta[key], e.time_ns, "session expired", s.meta_leaders);
        break;
      case EventType::kMetaSessionTimeout:
        close(meta[key], e.time_ns, "session timeout", s.meta_leaders);
        break;
      case EventType::kMetaQuorumStopping:
        close(meta[key], e.time_ns, "stopping quorum cluster", s.meta_leaders);
        break;
      case EventType::kMetaStart:
        // "Meta rpc server starts at" is what a meta logs when it starts serving as the leader
        // (the seed: node2's [ROLE CHANGE] at 00:51:50.256, this line at .545, still leading at
        // 00:52:17), so it neither starts nor ends a leadership.
        break;
      default:
        break;
    }
  }
  for (auto& [k, o] : zk) {
    auto it = zk_last.find(k);
    std::int64_t end = it == zk_last.end() ? s.zk_span_end : it->second;
    close(o, std::max(end, o.iv.start_ns), "log_end", s.zk_leaders);
  }
  // A meta leads undisturbed without logging a line, so a claim nothing ended lasts to the end of
  // the observed meta span (the last line of any meta log), not to the last line of its own log.
  for (auto& [k, o] : meta)
    close(o, std::max(s.meta_span_end, o.iv.start_ns), "log_end", s.meta_leaders);
  auto by_start = [](const LeaderInterval& a, const LeaderInterval& b) {
    return std::tie(a.start_ns, a.peer, a.end_ns) < std::tie(b.start_ns, b.peer, b.end_ns);
  };
  std::sort(s.zk_leaders.begin(), s.zk_leaders.end(), by_start);
  std::sort(s.meta_leaders.begin(), s.meta_leaders.end(), by_start);
  if (s.zk_span_start != 0) {
    s.no_zk_leader =
        windows(s.zk_leaders, s.zk_span_start, s.zk_span_end, [](int n) { return n == 0; });
    s.zk_multi_leader =
        windows(s.zk_leaders, s.zk_span_start, s.zk_span_end, [](int n) { return n >= 2; });
  } else {
    s.zk_span_end = 0;
  }
  if (s.meta_span_start != 0) {
    s.meta_windows =
        windows(s.meta_leaders, s.meta_span_start, s.meta_span_end, [](int n) { return n != 1; });
  } else {
    s.meta_span_end = 0;
  }
  return s;
}

namespace {
std::string dur(std::int64_t ns) {
  double ms = static_cast<double>(ns) / 1e6;
  if (ms < 10'000) return fmt::format("{:.3f} ms", ms);
  return fmt::format("{:.3f} s", ms / 1000);
}
}  // namespace

std::string render_summary(const Timeline& tl, const Summary& s, int offset_s) {
  std::string o;
  auto t = [&](std::int64_t ns) { return format_local(ns, offset_s); };
  o += fmt::format("ingest of {} (times in {})\n\n", tl.root, tl.tz);
  o += "Files\n";
  std::uint64_t unknown = 0, skipped = 0;
  for (std::size_t i = 0; i < tl.files.size(); ++i) {
    const FileReport& f = tl.files[i];
    if (f.kind == FileKind::kUnknownText || f.kind == FileKind::kBinary)
      ++skipped;
    else
      unknown += f.unknown;
    o += fmt::format(
        "  [{}] {} ({}{}{}) lines={} records={} continuation={} unknown={} events={}\n", i, f.path,
        file_kind_name(f.kind), f.gzip ? ", gzip" : "", f.host.empty() ? "" : ", host " + f.host,
        f.lines, f.records, f.continuation, f.unknown, f.events);
    for (const std::string& n : f.notes) o += fmt::format("      note: {}\n", n);
  }
  o += fmt::format("  total: {} files, {} events, {} unknown lines in log files", tl.files.size(),
                   tl.events.size(), unknown);
  if (skipped > 0) o += fmt::format(", {} files skipped (not a known log layout)", skipped);
  o += "\n";
  for (const SkippedDir& d : tl.skipped_dirs)
    o += fmt::format("  folder not read: {}/: {}\n", d.rel, d.why);
  if (tl.gc_files_not_parsed > 0)
    o += fmt::format("  gc files not parsed: {} (built without tools/gcfit)\n",
                     tl.gc_files_not_parsed);

  o += "\nKey events per host and day\n";
  for (const auto& [host, days] : s.per_host_day) {
    for (const auto& [day, c] : days) {
      std::string row;
      for (int i = 0; i < kEventTypeCount; ++i) {
        if (c[static_cast<std::size_t>(i)] == 0) continue;
        auto ty = static_cast<EventType>(i);
        if (ty == EventType::kFleNotification) continue;  // too chatty for the table
        row += fmt::format(" {}={}", event_type_name(ty), c[static_cast<std::size_t>(i)]);
      }
      if (!row.empty()) o += fmt::format("  {:<16} {}{}\n", host, day, row);
    }
  }

  auto leaders = [&](const char* title, const std::vector<LeaderInterval>& v) {
    o += fmt::format("\n{}\n", title);
    if (v.empty()) o += "  (none observed)\n";
    for (const auto& iv : v)
      o += fmt::format("  {:<16} {}{} → {}  ({}, ended: {})  [{}:{}]\n", iv.peer,
                       iv.myid >= 0 && !iv.host.empty() ? fmt::format("myid {} ", iv.myid) : "",
                       t(iv.start_ns), t(iv.end_ns), dur(iv.end_ns - iv.start_ns), iv.end_reason,
                       tl.files[iv.file].path, iv.line);
  };
  auto wins = [&](const char* title, const std::vector<LeaderWindow>& v, std::int64_t a,
                  std::int64_t b) {
    o += fmt::format("\n{}\n", title);
    if (a == 0) {
      o += "  (no leadership events observed)\n";
      return;
    }
    o += fmt::format("  observed {} → {}\n", t(a), t(b));
    if (v.empty()) o += "  (none)\n";
    for (const auto& w : v) {
      std::string who;
      for (const auto& p : w.who) who += (who.empty() ? "" : ", ") + p;
      o += fmt::format("  {} → {}  {}  leaders={}{}\n", t(w.start_ns), t(w.end_ns),
                       dur(w.end_ns - w.start_ns), w.leaders, who.empty() ? "" : " (" + who + ")");
    }
  };
  leaders("ZooKeeper leader history", s.zk_leaders);
  wins("Windows with no ZooKeeper leader", s.no_zk_leader, s.zk_span_start, s.zk_span_end);
  if (!s.zk_multi_leader.empty())
    wins(
        "Windows with two ZooKeeper peers claiming leadership (each by its own log: a paused or\n"
        "killed leader keeps its claim until its next line)",
        s.zk_multi_leader, s.zk_span_start, s.zk_span_end);
  leaders("Meta leader history", s.meta_leaders);
  wins("Windows with 0 or >= 2 meta leaders", s.meta_windows, s.meta_span_start, s.meta_span_end);
  return o;
}

namespace {

nlohmann::ordered_json event_json(const Timeline& tl, const Event& e) {
  nlohmann::ordered_json j;
  j["t_ns"] = e.time_ns;
  j["time"] = format_utc(e.time_ns);
  j["host"] = e.host;
  j["myid"] = e.myid;
  j["process"] = process_name(e.process);
  j["type"] = event_type_name(e.type);
  j["file"] = e.file;
  j["line"] = e.line;
  (void)tl;
  const EventFields& f = event_fields(e.type);
  if (f.state) j[f.state] = e.state;
  if (f.prev) j[f.prev] = e.prev;
  if (f.phase) j[f.phase] = e.phase;
  if (f.server) j[f.server] = e.server;
  if (f.detail) j[f.detail] = e.detail;
  if (f.num) j[f.num] = e.num;
  if (f.num2) j[f.num2] = e.num2;
  return j;
}

nlohmann::ordered_json interval_json(const LeaderInterval& iv) {
  return {{"peer", iv.peer},         {"host", iv.host},     {"myid", iv.myid},
          {"start_ns", iv.start_ns}, {"end_ns", iv.end_ns}, {"end_reason", iv.end_reason},
          {"file", iv.file},         {"line", iv.line}};
}

nlohmann::ordered_json windows_json(const std::vector<LeaderWindow>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& w : v)
    a.push_back(
        {{"start_ns", w.start_ns}, {"end_ns", w.end_ns}, {"leaders", w.leaders}, {"who", w.who}});
  return a;
}

}  // namespace

void write_timeline_json(std::ostream& os, const Timeline& tl, const Summary& s) {
  nlohmann::ordered_json head;
  head["schema"] = "zksim.timeline/1";
  head["root"] = tl.root;
  head["tz"] = tl.tz;
  os << "{\n\"schema\": " << nlohmann::ordered_json(head["schema"]).dump()
     << ",\n\"root\": " << head["root"].dump() << ",\n\"tz\": " << head["tz"].dump()
     << ",\n\"files\": [";
  for (std::size_t i = 0; i < tl.files.size(); ++i) {
    const FileReport& f = tl.files[i];
    nlohmann::ordered_json j;
    j["index"] = i;
    j["path"] = f.path;
    j["host"] = f.host;
    j["kind"] = file_kind_name(f.kind);
    j["gzip"] = f.gzip;
    j["lines"] = f.lines;
    j["records"] = f.records;
    j["continuation"] = f.continuation;
    j["unknown"] = f.unknown;
    j["events"] = f.events;
    j["first_ns"] = f.first_ns;
    j["last_ns"] = f.last_ns;
    j["notes"] = f.notes;
    os << (i == 0 ? "\n" : ",\n") << j.dump();
  }
  os << "\n],\n\"events\": [";
  // One event per line: the timeline is written as it is walked, never built as one JSON tree.
  for (std::size_t i = 0; i < tl.events.size(); ++i)
    os << (i == 0 ? "\n" : ",\n") << event_json(tl, tl.events[i]).dump();
  nlohmann::ordered_json sum;
  nlohmann::ordered_json counts = nlohmann::ordered_json::object();
  for (const auto& [host, days] : s.per_host_day)
    for (const auto& [day, c] : days)
      for (int i = 0; i < kEventTypeCount; ++i)
        if (c[static_cast<std::size_t>(i)] != 0)
          counts[host][day][std::string(event_type_name(static_cast<EventType>(i)))] =
              c[static_cast<std::size_t>(i)];
  sum["counts"] = counts;
  sum["gc_files_not_parsed"] = tl.gc_files_not_parsed;
  sum["skipped_dirs"] = nlohmann::ordered_json::array();
  for (const SkippedDir& d : tl.skipped_dirs)
    sum["skipped_dirs"].push_back({{"path", d.rel}, {"why", d.why}});
  sum["zk_span"] = {s.zk_span_start, s.zk_span_end};
  sum["zk_leaders"] = nlohmann::ordered_json::array();
  for (const auto& iv : s.zk_leaders) sum["zk_leaders"].push_back(interval_json(iv));
  sum["no_zk_leader"] = windows_json(s.no_zk_leader);
  sum["zk_multi_leader"] = windows_json(s.zk_multi_leader);
  sum["meta_span"] = {s.meta_span_start, s.meta_span_end};
  sum["meta_leaders"] = nlohmann::ordered_json::array();
  for (const auto& iv : s.meta_leaders) sum["meta_leaders"].push_back(interval_json(iv));
  sum["meta_windows"] = windows_json(s.meta_windows);
  os << "\n],\n\"summary\": " << sum.dump() << "\n}\n";
}

}  // namespace zksim::ingest
