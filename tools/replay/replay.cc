#include "tools/replay/replay.h"

#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "models/scenario/scenario.h"
#include "models/world/world.h"
#include "sim/check.h"
#include "sim/config.h"
#include "tools/ingest/ingest.h"
#include "tools/ingest/parse.h"
#include "tools/ingest/summary.h"
#include "tools/replay/common.h"
#include "tools/replay/infer_net.h"

namespace zksim::replay {

namespace fs = std::filesystem;
using ingest::Event;
using ingest::EventType;
using ingest::FileKind;
using ingest::Timeline;
using nlohmann::json;

namespace {

// JSON from a file of the user's: syntax errors with the line, nesting past sim::kMaxJsonDepth
// refused (a deeper document would overflow the stack when copied), as a ReplayError naming
// `where`.
json parse_user_json(const std::string& text, const std::string& where) {
  try {
    return sim::parse_json_text(text, where);
  } catch (const sim::ConfigError& e) {
    throw ReplayError(e.what());
  }
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ReplayError(fmt::format("{}: cannot read", p.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) throw ReplayError(fmt::format("{}: cannot write", p.string()));
}

using detail::contains;
using detail::dur;
using detail::evidence;
using detail::kMs;
using detail::kS;
using detail::labs64;
using detail::to_ms;
using detail::where;
using detail::zk_node;

// ---- timeline JSON input ------------------------------------------------------------------------

Timeline timeline_from_json(const std::string& path) {
  std::string text = read_file(path);
  if (text.empty()) throw ReplayError(fmt::format("{}: empty file", path));
  if (text.find('\0') != std::string::npos)
    throw ReplayError(fmt::format("{}: binary content, not a log folder or timeline JSON", path));
  json j;
  try {
    j = sim::parse_json_text(text, path);
  } catch (const sim::ConfigError& e) {
    throw ReplayError(fmt::format("not a timeline JSON: {}", e.what()));
  }
  if (!j.is_object() || j.value("schema", "") != "zksim.timeline/1")
    throw ReplayError(
        fmt::format("{}: expected a timeline JSON with \"schema\": \"zksim.timeline/1\" (from "
                    "`zksim ingest --out`)",
                    path));
  // An edited timeline is checked field by field: errors name the file and the event's index.
  auto bad = [&](const std::string& where, const std::string& what, const json& got) {
    return ReplayError(fmt::format("{}: {}: {}, got {}", path, where, what, got.dump()));
  };
  auto opt_string = [&](const json& o, const char* key, const std::string& where,
                        const std::string& def) -> std::string {
    if (!o.contains(key)) return def;
    if (!o[key].is_string()) throw bad(where + "." + key, "expected a string", o[key]);
    return o[key].get<std::string>();
  };
  Timeline tl;
  tl.root = opt_string(j, "root", "(top level)", "");
  tl.tz = opt_string(j, "tz", "(top level)", "UTC");
  if (j.contains("files") && !j["files"].is_array())
    throw bad("files", "expected an array", j["files"]);
  const json files = j.value("files", json::array());
  for (size_t i = 0; i < files.size(); ++i) {
    const json& f = files[i];
    std::string where = fmt::format("files[{}]", i);
    if (!f.is_object()) throw bad(where, "expected an object", f);
    ingest::FileReport r;
    r.path = opt_string(f, "path", where, "");
    r.host = opt_string(f, "host", where, "");
    tl.files.push_back(r);
  }
  if (!j.contains("events") || !j["events"].is_array()) {
    throw ReplayError(fmt::format("{}: events: expected an array of events", path));
  }
  const json& evs = j["events"];
  for (size_t i = 0; i < evs.size(); ++i) {
    const json& je = evs[i];
    std::string where = fmt::format("events[{}]", i);
    if (!je.is_object()) throw bad(where, "expected an event object", je);
    Event e;
    if (!je.contains("type") || !je["type"].is_string())
      throw bad(where + ".type", "expected an event type name (a string)",
                je.value("type", json()));
    auto t = ingest::event_type_from_name(je["type"].get<std::string>());
    if (!t)
      throw ReplayError(fmt::format("{}: {}.type: unknown type \"{}\"", path, where,
                                    je["type"].get<std::string>()));
    e.type = *t;
    if (!je.contains("t_ns") || !je["t_ns"].is_number_integer() || je["t_ns"].get<int64_t>() < 0)
      throw bad(where + ".t_ns", "expected a non-negative integer (UTC ns since the epoch)",
                je.value("t_ns", json()));
    e.time_ns = je["t_ns"].get<int64_t>();
    e.host = opt_string(je, "host", where, "");
    if (je.contains("myid")) {
      const json& m = je["myid"];
      if (!m.is_number_integer() || m.get<int64_t>() < -1 || m.get<int64_t>() > 255)
        throw bad(where + ".myid", "expected a ZooKeeper server id (0..255), or -1 for none", m);
      e.myid = m.get<int>();
    }
    std::string proc = opt_string(je, "process", where, "");
    e.process = proc == "zookeeper"  ? ingest::Process::kZookeeper
                : proc == "meta"     ? ingest::Process::kMeta
                : proc == "detector" ? ingest::Process::kDetector
                : proc == "gc"       ? ingest::Process::kGc
                                     : ingest::Process::kUnknown;
    if (!proc.empty() && e.process == ingest::Process::kUnknown && proc != "unknown")
      throw bad(where + ".process", "expected zookeeper, meta, detector or gc", je["process"]);
    if (je.contains("file")) {
      const json& fi = je["file"];
      if (!fi.is_number_unsigned() || fi.get<uint64_t>() >= tl.files.size())
        throw bad(where + ".file",
                  fmt::format("expected an index into \"files\" (0..{})",
                              tl.files.empty() ? 0 : tl.files.size() - 1),
                  fi);
      e.file = fi.get<uint32_t>();
    } else if (tl.files.empty()) {
      throw ReplayError(
          fmt::format("{}: {}: no \"file\" and the timeline lists no files", path, where));
    }
    if (je.contains("line")) {
      if (!je["line"].is_number_unsigned())
        throw bad(where + ".line", "expected a line number", je["line"]);
      e.line = je["line"].get<uint64_t>();
    }
    const ingest::EventFields& fl = ingest::event_fields(e.type);
    auto str = [&](const char* name, std::string& dst) {
      if (!name || !je.contains(name)) return;
      if (!je[name].is_string()) throw bad(where + "." + name, "expected a string", je[name]);
      dst = je[name].get<std::string>();
    };
    auto num = [&](const char* name, int64_t& dst) {
      if (!name || !je.contains(name)) return;
      if (je[name].is_number_integer()) {
        dst = je[name].get<int64_t>();
      } else if (je[name].is_boolean()) {
        dst = je[name].get<bool>() ? 1 : 0;
      } else {
        throw bad(where + "." + name, "expected an integer", je[name]);
      }
    };
    str(fl.state, e.state);
    str(fl.prev, e.prev);
    str(fl.phase, e.phase);
    str(fl.server, e.server);
    str(fl.detail, e.detail);
    num(fl.num, e.num);
    num(fl.num2, e.num2);
    if ((e.type == ingest::EventType::kPeerState || e.type == ingest::EventType::kPeerRole) &&
        e.state != "looking" && e.state != "following" && e.state != "leading" &&
        e.state != "observing") {
      throw bad(where + "." + fl.state, "expected looking, following, leading or observing",
                je.value(fl.state, json()));
    }
    tl.events.push_back(std::move(e));
  }
  ingest::sort_events(tl.events);
  return tl;
}

// ---- configuration ------------------------------------------------------------------------------

struct ZooCfg {
  std::map<std::string, std::string> kv;
  std::map<int, std::string> servers;  // id -> host (address part)
};

ZooCfg parse_zoo_cfg(const fs::path& p) {
  ZooCfg c;
  std::istringstream in(read_file(p));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto h = line.find('#');
    if (h != std::string::npos) line.resize(h);
    while (!line.empty() && isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    line = line.substr(b);
    auto eq = line.find('=');
    if (eq == std::string::npos)
      throw ReplayError(fmt::format("{}:{}: expected key=value, got \"{}\"", p.string(), n, line));
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k.rfind("server.", 0) == 0) {
      int id = std::atoi(k.c_str() + 7);
      if (id <= 0)
        throw ReplayError(fmt::format("{}:{}: bad server id in \"{}\"", p.string(), n, k));
      c.servers[id] = v.substr(0, v.find(':'));
    } else {
      c.kv[k] = v;
    }
  }
  return c;
}

int cfg_int(const ZooCfg& c, const std::string& k, const fs::path& p) {
  const std::string& v = c.kv.at(k);
  char* end = nullptr;
  long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || x <= 0)
    throw ReplayError(fmt::format("{}: {}={}: expected a positive integer", p.string(), k, v));
  return static_cast<int>(x);
}

// Calls `line(file, text)` on the first 2000 lines of each ZooKeeper log (startup and config lines
// sit at the head) until it returns true for that file; stops early when `done()`.
template <class Line, class Done>
void scan_zk_log_heads(const Timeline& tl, Line&& line, Done&& done) {
  for (const auto& f : tl.files) {
    if (done()) return;
    if (f.kind != FileKind::kZookeeper) continue;
    fs::path p = fs::path(tl.root) / f.path;
    gzFile gz = gzopen(p.string().c_str(), "rb");  // plain files read through as well
    if (!gz) continue;
    char buf[4096];
    int n = 0;
    while (n++ < 2000 && gzgets(gz, buf, sizeof buf))
      if (line(f, std::string_view(buf))) break;
    gzclose(gz);
  }
}

// Each host's own address as its ZooKeeper threads name it ("QuorumPeer[myid=1](plain=
// 10.10.10.146:2181)"): the address other hosts' lines use for it ("Failed connect to
// /10.10.10.152:2888"). A wildcard (0.0.0.0) says nothing.
std::map<std::string, std::string> addresses_from_logs(const Timeline& tl) {
  std::map<std::string, std::string> out;
  scan_zk_log_heads(
      tl,
      [&](const ingest::FileReport& f, std::string_view line) {
        if (f.host.empty() || out.count(f.host)) return true;
        auto pos = line.find("(plain=");
        if (pos == std::string_view::npos) return false;
        std::string_view a = line.substr(pos + 7);
        a = a.substr(0, a.find_first_of(":)"));
        while (!a.empty() && a.front() == '/') a.remove_prefix(1);
        if (a.empty() || a == "0.0.0.0" || a == "[0:0:0:0:0:0:0:0]") return false;
        out[f.host] = std::string(a);
        return true;
      },
      [] { return false; });
  return out;
}

// "tickTime set to 2000", "initLimit set to 10", "syncLimit set to 5" in ZooKeeper logs.
std::map<std::string, int> limits_from_logs(const Timeline& tl) {
  std::map<std::string, int> out;
  scan_zk_log_heads(
      tl,
      [&](const ingest::FileReport&, std::string_view line) {
        for (const char* k : {"tickTime", "initLimit", "syncLimit"}) {
          auto pos = line.find(fmt::format("] - {} set to ", k));
          if (pos == std::string_view::npos || out.count(k)) continue;
          out[k] = std::atoi(line.data() + pos + std::string_view(k).size() + 12);
        }
        return false;
      },
      [&] { return out.size() == 3; });
  return out;
}

std::optional<fs::path> find_zoo_cfg(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return std::nullopt;
  std::vector<fs::path> found;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().filename() == "zoo.cfg") found.push_back(it->path());
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end());
  return found.front();
}

struct Setup {
  json doc;         // scenario document, faults excluded
  std::string dir;  // for relative paths inside the scenario
  std::string config_source;
  int64_t epoch_ns = 0;
  bool epoch_from_logs = false;  // guessed from the first startup line (no scenario given)
  json start_at_from_logs = json::object();  // meta.startAt as read from the meta logs
  std::string tz = "UTC";
  json original_faults = json::array();  // the scenario's own faults (for the report only)
};

// ---- simulation ---------------------------------------------------------------------------------

struct SimOut {
  world::RunResult result;
  Timeline tl;
  std::vector<KeyEvent> keys;
  std::vector<KeyEvent> fit_keys;  // keys and the clients' servers (key_events(tl, true))
};

// `light`: a fitting candidate, scored on its key events only: no trace hash, no detector (a pure
// observer: every other record and line is the same without it, world.h) and so no detector.log,
// which in a long run is most of the bytes written and read back.
SimOut simulate(const json& doc, const std::string& dir, uint64_t seed, const fs::path& logs,
                const std::string& tz, bool light = false) {
  scenario::Scenario sc;
  try {
    sc = scenario::from_json(doc, "<replay scenario>", dir);
  } catch (const sim::ConfigError& e) {
    throw ReplayError(fmt::format("replay scenario: {}", e.what()));
  }
  std::error_code ec;
  fs::remove_all(logs, ec);
  world::RunOptions o;
  o.seed = seed;
  o.logs_dir = logs.string();
  o.hash = !light;
  o.detector = !light;
  SimOut out;
  try {
    out.result = world::run(sc, o);
  } catch (const sim::ConfigError& e) {
    throw ReplayError(fmt::format("replay scenario: {}", e.what()));
  }
  ingest::IngestOptions io;
  io.tz = tz;
  // zksim's glog files carry no year: take it from the scenario's epoch (local date).
  int y = 0;
  unsigned mo = 0, d = 0;
  int64_t local_s = sc.wall_epoch_ns / kS + sc.tz_offset_s;
  ingest::civil_from_days(local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400, y, mo, d);
  io.year = y;
  try {
    out.tl = ingest::ingest_dir(logs, io);
  } catch (const ingest::IngestError& e) {
    throw ReplayError(fmt::format("simulated logs: {}", e.what()));
  }
  out.keys = key_events(out.tl);
  out.fit_keys = key_events(out.tl, true);
  return out;
}

const KeyEvent* nearest(const std::vector<KeyEvent>& keys, const KeyEvent& want, int64_t window) {
  const KeyEvent* best = nullptr;
  for (const auto& k : keys) {
    if (k.node != want.node || k.type != want.type || k.state != want.state) continue;
    int64_t d = labs64(k.t_ns - want.t_ns);
    if (d <= window && (!best || d < labs64(best->t_ns - want.t_ns))) best = &k;
  }
  return best;
}

}  // namespace

json InferredFault::render() const {
  json f = fault;
  json out = json::object();
  out["at"] = dur(at_ns);
  for (auto it = f.begin(); it != f.end(); ++it) {
    if (it.key() != "evidence" && it.key() != "comment") out[it.key()] = it.value();
  }
  if (end_ns) out[end_key] = dur(std::max<int64_t>(*end_ns - at_ns, kMs));
  if (f.contains("comment")) out["comment"] = f["comment"];
  if (f.contains("evidence")) out["evidence"] = f["evidence"];
  return out;
}

// ---- input --------------------------------------------------------------------------------------

Timeline load_timeline(const std::string& input, const std::string& tz, std::optional<int> year,
                       bool lenient) {
  std::error_code ec;
  fs::path p(input);
  if (!fs::exists(p, ec)) throw ReplayError(fmt::format("{}: no such file or folder", input));
  try {
    (void)ingest::parse_tz_offset(tz);
  } catch (const ingest::IngestError& e) {
    throw ReplayError(e.what());
  }
  if (!fs::is_directory(p, ec)) return timeline_from_json(input);
  ingest::IngestOptions io;
  io.tz = tz;
  io.year = year;
  Timeline tl;
  try {
    tl = ingest::ingest_dir(p, io);
  } catch (const ingest::IngestError& e) {
    throw ReplayError(e.what());
  }
  if (!lenient) {
    for (const auto& f : tl.files) {
      if (f.kind == FileKind::kBinary)
        throw ReplayError(
            fmt::format("{}: binary content, not a log file (move it out of the folder, or pass "
                        "--lenient to skip it)",
                        (p / f.path).string()));
      bool log = f.kind == FileKind::kZookeeper || f.kind == FileKind::kMeta ||
                 f.kind == FileKind::kDetector;
      if (!log) continue;
      for (const auto& n : f.notes) {
        if (contains(n, "unknown line") || contains(n, "truncated") || contains(n, "corrupt")) {
          throw ReplayError(
              fmt::format("{}: {} ({} damaged line(s) in this file: a truncated or garbled record; "
                          "pass --lenient to skip them)",
                          (p / f.path).string(), n, f.unknown));
        }
      }
    }
  }
  return tl;
}

// ---- key events ---------------------------------------------------------------------------------

std::vector<KeyEvent> key_events(const Timeline& tl, bool servers) {
  std::set<std::string> has_state;
  for (const auto& e : tl.events)
    if (e.type == EventType::kPeerState) has_state.insert(zk_node(e));
  std::vector<KeyEvent> out;
  for (const auto& e : tl.events) {
    KeyEvent k;
    k.t_ns = e.time_ns;
    k.where = where(tl, e);
    std::string meta = "meta:" + e.host;
    switch (e.type) {
      case EventType::kPeerState:
        k.node = zk_node(e);
        if (e.phase.empty()) {
          k.type = "state";
        } else if (e.phase == "broadcast") {
          k.type = "broadcast";
        } else {
          continue;
        }
        k.state = e.state;
        break;
      case EventType::kPeerRole:
        k.node = zk_node(e);
        if (has_state.count(k.node)) continue;
        k.type = "state";
        k.state = e.state;
        std::transform(k.state.begin(), k.state.end(), k.state.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        break;
      case EventType::kFollowerException:
        k.node = zk_node(e);
        k.type = "follower_exception";
        break;
      case EventType::kLeaderQuorumLoss:
        k.node = zk_node(e);
        k.type = "leader_quorum_loss";
        break;
      case EventType::kLearnerHandlerError:
        k.node = zk_node(e);
        k.type = "learner_handler_error";
        break;
      case EventType::kSessionExpiry:
        k.node = zk_node(e);
        k.type = "session_expiry";
        break;
      case EventType::kPeerStart:
        k.node = zk_node(e);
        k.type = "peer_start";
        break;
      case EventType::kMetaRoleChange:
        k.node = meta;
        k.type = "meta_role";
        k.state = e.state;
        break;
      case EventType::kClientStateChange:
        k.node = meta;
        k.type = "client_state";
        k.state = e.state;
        break;
      case EventType::kClientSessionExpired:
        k.node = meta;
        k.type = "client_session_expired";
        break;
      case EventType::kMetaSessionTimeout:
        k.node = meta;
        k.type = "meta_session_timeout";
        break;
      case EventType::kMetaQuorumStopping:
        k.node = meta;
        k.type = "meta_quorum_stopping";
        break;
      case EventType::kMetaStart:
        k.node = meta;
        k.type = "meta_start";
        break;
      case EventType::kClientSessionEstablished:
        if (!servers) continue;
        k.node = meta;
        k.type = "client_server";
        k.state = e.server;
        break;
      default:
        continue;
    }
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<Match> align(const std::vector<KeyEvent>& rec, const std::vector<KeyEvent>& sim,
                         int64_t tol) {
  std::map<std::string, std::pair<std::vector<const KeyEvent*>, std::vector<const KeyEvent*>>> by;
  for (const auto& k : rec) by[k.key()].first.push_back(&k);
  for (const auto& k : sim) by[k.key()].second.push_back(&k);
  std::vector<Match> out;
  for (auto& [key, rs] : by) {
    auto& [r, s] = rs;
    size_t i = 0, j = 0;
    while (i < r.size() || j < s.size()) {
      Match m;
      m.key = key;
      if (i < r.size() && j < s.size() && labs64(s[j]->t_ns - r[i]->t_ns) <= tol) {
        m.recorded_ns = r[i]->t_ns;
        m.simulated_ns = s[j]->t_ns;
        m.where = r[i]->where;
        ++i, ++j;
      } else if (i < r.size() && (j >= s.size() || r[i]->t_ns < s[j]->t_ns)) {
        m.recorded_ns = r[i]->t_ns;
        m.where = r[i]->where;
        ++i;
      } else {
        m.simulated_ns = s[j]->t_ns;
        m.where = s[j]->where;
        ++j;
      }
      out.push_back(std::move(m));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Match& a, const Match& b) {
    // Not value_or(*simulated_ns): its argument is evaluated even when recorded_ns is set, and
    // dereferencing an empty optional (a recorded-only match) is undefined behaviour.
    int64_t ta = a.recorded_ns ? *a.recorded_ns : *a.simulated_ns,
            tb = b.recorded_ns ? *b.recorded_ns : *b.simulated_ns;
    return ta != tb ? ta < tb : a.key < b.key;
  });
  return out;
}

json log_metrics(const Timeline& tl) {
  ingest::Summary s = ingest::summarize(tl, 0);
  auto windows = [](const std::vector<ingest::LeaderWindow>& ws, auto pred) {
    json j{{"count", 0}, {"total_ms", 0.0}, {"max_ms", 0.0}, {"windows", json::array()}};
    int64_t total = 0, mx = 0;
    int count = 0;
    for (const auto& w : ws) {
      if (!pred(w.leaders)) continue;
      ++count;
      total += w.end_ns - w.start_ns;
      mx = std::max(mx, w.end_ns - w.start_ns);
      j["windows"].push_back(json{{"start", ingest::format_utc(w.start_ns)},
                                  {"length_ms", to_ms(w.end_ns - w.start_ns)},
                                  {"who", w.who}});
    }
    j["count"] = count;
    j["total_ms"] = to_ms(total);
    j["max_ms"] = to_ms(mx);
    return j;
  };
  int fex = 0, exp = 0;
  for (const auto& e : tl.events) {
    if (e.type == EventType::kFollowerException) ++fex;
    if (e.type == EventType::kSessionExpiry) ++exp;
  }
  json meta{{"dual_leader", windows(s.meta_windows, [](int n) { return n >= 2; })},
            {"unavailable", windows(s.meta_windows, [](int n) { return n == 0; })},
            {"leader_changes", s.meta_leaders.size()}};
  json zk{{"elections", s.zk_leaders.size()},
          {"unavailable", windows(s.no_zk_leader, [](int) { return true; })},
          {"multi_leader", windows(s.zk_multi_leader, [](int) { return true; })},
          {"follower_exceptions", fex},
          {"session_expirations", exp}};
  return json{{"meta", meta}, {"zk", zk}};
}

// ---- the command --------------------------------------------------------------------------------

namespace {

json metrics_row(const json& m) {
  auto g = [&](const char* a, const char* b, const char* c) -> json {
    if (!m.contains(a) || !m[a].contains(b)) return nullptr;
    const json& x = m[a][b];
    if (!c) return x;
    return x.contains(c) ? x[c] : json(nullptr);
  };
  return json{{"meta dual-leader windows", g("meta", "dual_leader", "count")},
              {"meta dual-leader total ms", g("meta", "dual_leader", "total_ms")},
              {"meta no-leader windows", g("meta", "unavailable", "count")},
              {"meta no-leader total ms", g("meta", "unavailable", "total_ms")},
              {"meta leader changes", g("meta", "leader_changes", nullptr)},
              {"zk leader establishments", g("zk", "elections", nullptr)},
              {"zk no-leader total ms", g("zk", "unavailable", "total_ms")},
              {"zk follower exceptions", g("zk", "follower_exceptions", nullptr)},
              {"zk session expirations", g("zk", "session_expirations", nullptr)}};
}

json compare(const std::vector<KeyEvent>& rec, const std::vector<KeyEvent>& sim, int64_t tol,
             int64_t after_ns) {
  std::vector<Match> ms = align(rec, sim, tol);
  json events = json::array();
  int matched = 0, missing = 0, extra = 0;
  int64_t max_abs = 0, max_abs_after = 0;
  for (const auto& m : ms) {
    json j{{"key", m.key}, {"line", m.where}};
    if (m.recorded_ns) j["recorded"] = ingest::format_utc(*m.recorded_ns);
    if (m.simulated_ns) j["simulated"] = ingest::format_utc(*m.simulated_ns);
    if (m.recorded_ns && m.simulated_ns) {
      int64_t d = *m.simulated_ns - *m.recorded_ns;
      j["delta_ms"] = to_ms(d);
      ++matched;
      max_abs = std::max(max_abs, labs64(d));
      if (*m.recorded_ns >= after_ns) max_abs_after = std::max(max_abs_after, labs64(d));
    } else if (m.recorded_ns) {
      j["status"] = "missing";
      ++missing;
    } else {
      j["status"] = "extra";
      ++extra;
    }
    events.push_back(std::move(j));
  }
  return json{{"matched", matched},
              {"missing", missing},
              {"extra", extra},
              {"max_abs_delta_ms", to_ms(max_abs)},
              {"max_abs_delta_ms_after_first_fault", to_ms(max_abs_after)},
              {"events", events}};
}

fs::path scratch_dir(const std::string& out, const char* name) {
  if (!out.empty()) return fs::path(out) / name;
  static int n = 0;
  return fs::temp_directory_path() / fmt::format("zksim-replay-{}-{}-{}", ::getpid(), name, n++);
}

}  // namespace

void check_options(const Options& opt) {
  if (opt.tolerance_ns <= 0) {
    throw ReplayError(fmt::format(
        "--tolerance {}: must be positive (the window within which a recorded and a simulated "
        "event pair up)",
        dur(opt.tolerance_ns)));
  }
  if (opt.calibrate_iterations < 0 || opt.calibrate_iterations > 100)
    throw ReplayError(
        fmt::format("--calibrate {}: expected 0..100 iterations", opt.calibrate_iterations));
  if (opt.fit_steps < 0 || opt.fit_steps > 1000)
    throw ReplayError(
        fmt::format("--fit-steps {}: expected 0..1000 (0 = no fitting)", opt.fit_steps));
  if (opt.year && (*opt.year < 1970 || *opt.year > 9999))
    throw ReplayError(
        fmt::format("--year: {} is outside 1970..9999 (the year of the log lines)", *opt.year));
}

json replay(const Options& opt, std::string* text) {
  check_options(opt);
  Setup su;
  ZooCfg zc;
  std::optional<fs::path> zoo;
  json run_record;
  fs::path in(opt.input);
  std::error_code ec;
  if (fs::is_directory(in, ec) && fs::exists(in / "zksim-run.json", ec)) {
    run_record =
        parse_user_json(read_file(in / "zksim-run.json"), (in / "zksim-run.json").string());
  }
  // Configuration source.
  if (!opt.config.empty()) {
    if (!fs::exists(opt.config, ec))
      throw ReplayError(fmt::format("--config {}: no such file", opt.config));
    if (!fs::is_regular_file(opt.config, ec))
      throw ReplayError(fmt::format(
          "--config {}: not a regular file (give a zoo.cfg or a scenario JSON)", opt.config));
    std::string text_cfg = read_file(opt.config);
    size_t b = text_cfg.find_first_not_of(" \t\r\n");
    if (b != std::string::npos && text_cfg[b] == '{') {
      su.doc = parse_user_json(text_cfg, "--config " + opt.config);
      su.config_source = "scenario " + opt.config;
      su.dir = fs::path(opt.config).parent_path().string();
    } else {
      zoo = opt.config;
    }
  } else if (opt.faults == "record" && run_record.is_object() && run_record.contains("scenario") &&
             run_record["scenario"].is_object()) {
    // The recorded run's own scenario: with its faults and seed, the run itself.
    su.doc = run_record["scenario"];
    su.config_source = "the run record zksim-run.json";
    su.dir = run_record.value("scenario_dir", in.string());
  } else if (auto z = find_zoo_cfg(opt.input)) {
    zoo = *z;
  }
  // The zone of the log lines that carry none (ZooKeeper's, glog's): --tz, else the scenario's
  // logs.tz, else the run record's, else the one zone every GC log stamps its dates with (below).
  std::string tz_source;
  if (su.doc.is_object()) {
    if (su.doc.contains("faults")) su.original_faults = su.doc["faults"];
    su.doc.erase("faults");
    if (su.doc.contains("logs") && su.doc["logs"].contains("tz")) {
      su.tz = su.doc["logs"].value("tz", "UTC");
      tz_source = "the scenario's logs.tz";
    }
  }
  if (tz_source.empty() && run_record.is_object() && run_record.contains("scenario") &&
      run_record["scenario"].contains("logs") && run_record["scenario"]["logs"].contains("tz") &&
      run_record["scenario"]["logs"]["tz"].is_string()) {
    su.tz = run_record["scenario"]["logs"]["tz"].get<std::string>();
    tz_source = "the run record zksim-run.json";
  }
  if (!opt.tz.empty()) {
    su.tz = opt.tz;
    tz_source = "--tz";
  }
  std::optional<int> year = opt.year;
  if (!year && su.doc.is_object() && su.doc.contains("logs") && su.doc["logs"].contains("epoch")) {
    std::string ep = su.doc["logs"].value("epoch", "");
    if (ep.size() >= 4) year = std::atoi(ep.substr(0, 4).c_str());  // glog lines carry no year
  }
  Timeline rec = load_timeline(opt.input, su.tz, year, opt.lenient);
  if (tz_source.empty()) {
    // GC logs stamp their dates with the host's zone; a folder whose GC logs all agree on one zone
    // ran in it. Read in UTC instead, the ZooKeeper lines would be hours away from the GC pauses.
    std::set<int64_t> zones;
    for (const auto& f : rec.files)
      if (f.stamped_utc_offset_s) zones.insert(*f.stamped_utc_offset_s);
    if (zones.size() == 1 && *zones.begin() != 0) {
      su.tz = ingest::format_tz_offset(*zones.begin());
      tz_source = "the GC logs' date stamps";
      rec = load_timeline(opt.input, su.tz, year, opt.lenient);
    } else {
      tz_source =
          zones.size() > 1 ? "default (the GC logs stamp several zones: pass --tz)" : "default";
    }
  }
  if (rec.events.empty())
    throw ReplayError(fmt::format("{}: the logs hold no key event to replay", opt.input));

  if (!su.doc.is_object()) {
    // Build a scenario from the logs.
    su.doc = json::object();
    su.doc["name"] = "replay-" + fs::path(opt.input).filename().string();
    std::map<std::string, int> lim;
    if (zoo) {
      zc = parse_zoo_cfg(*zoo);
      for (const char* k : {"tickTime", "initLimit", "syncLimit"})
        if (zc.kv.count(k)) lim[k] = cfg_int(zc, k, *zoo);
      su.config_source = "zoo.cfg " + zoo->string();
    } else {
      lim = limits_from_logs(rec);
      su.config_source = lim.empty() ? "defaults (no zoo.cfg, no 'tickTime set to' lines)"
                                     : "ZooKeeper log lines 'tickTime/initLimit/syncLimit set to'";
    }
    std::map<std::string, int> peers;  // host -> myid
    std::set<std::string> metas, hosts;
    bool detector = false;
    int64_t first = INT64_MAX, last = 0, first_start = INT64_MAX;
    std::optional<int64_t> session_ms, timer_ms;
    std::map<std::string, const Event*> first_meta;  // host -> its meta's first event
    for (const auto& e : rec.events) {
      if (e.process == ingest::Process::kMeta && !e.host.empty()) first_meta.emplace(e.host, &e);
      first = std::min(first, e.time_ns);
      last = std::max(last, e.time_ns);
      if (e.process == ingest::Process::kZookeeper && e.myid >= 0 && !e.host.empty())
        peers.emplace(e.host, e.myid);
      if (e.type == EventType::kPeerStart) first_start = std::min(first_start, e.time_ns);
      if (e.process == ingest::Process::kMeta && !e.host.empty()) metas.insert(e.host);
      if (e.process == ingest::Process::kDetector) detector = true;
      if (e.type == EventType::kClientSessionEstablished && !session_ms) session_ms = e.num;
      if (e.type == EventType::kLocalTimerStart && !timer_ms) timer_ms = e.num;
    }
    for (const auto& [id, addr] : zc.servers) peers[addr] = id;
    if (peers.empty())
      throw ReplayError(
          fmt::format("{}: no ZooKeeper peer with a myid in the logs and no server.N in a zoo.cfg: "
                      "cannot build the ensemble",
                      opt.input));
    for (const auto& [h, id] : peers) hosts.insert(h);
    hosts.insert(metas.begin(), metas.end());
    json hs = json::array();
    auto addrs = addresses_from_logs(rec);
    for (const auto& h : hosts) {
      json hj{{"name", h}};
      if (addrs.count(h) && addrs[h] != h) hj["address"] = addrs[h];
      hs.push_back(hj);
    }
    su.doc["hosts"] = hs;
    json ps = json::array();
    for (const auto& [h, id] : peers) ps.push_back(json{{"id", id}, {"host", h}});
    std::sort(ps.begin(), ps.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
    su.doc["zk"] =
        json{{"tickTime", fmt::format("{}ms", lim.count("tickTime") ? lim["tickTime"] : 2000)},
             {"initLimit", lim.count("initLimit") ? lim["initLimit"] : 10},
             {"syncLimit", lim.count("syncLimit") ? lim["syncLimit"] : 5},
             {"peers", ps}};
    if (!metas.empty()) {
      json m{{"hosts", json(std::vector<std::string>(metas.begin(), metas.end()))}};
      if (session_ms) m["sessionTimeout"] = fmt::format("{}ms", *session_ms);
      if (timer_ms) m["localTimer"] = fmt::format("{}ms", *timer_ms);
      su.doc["meta"] = m;
    }
    if (detector) su.doc["detector"] = json{{"interval", "300ms"}};
    // t=0 of the simulation: half a second before the first peer starts (the simulated JVM boot).
    int64_t epoch = (first_start != INT64_MAX ? first_start : first) - 500 * kMs;
    if (!metas.empty()) {
      // A meta whose log opens with its QuorumCluster leaving Stopped started there: the
      // simulated one starts at that instant, so its session and ping phases are the recorded
      // ones (a drawn start, meta.startJitter, puts every ping elsewhere). A log that opens
      // later in the process's life gives no start; that meta draws one.
      json at = json::object();
      for (const auto& [h, e] : first_meta) {
        if (e->type != EventType::kQuorumClusterState || e->prev != "Stopped") continue;
        at[h] = fmt::format("{}us", std::max<int64_t>(0, e->time_ns - epoch) / 1000);
      }
      if (!at.empty()) su.doc["meta"]["startAt"] = at;
      su.start_at_from_logs = at;
    }
    su.doc["logs"] = json{{"epoch", ingest::format_utc(epoch).substr(0, 23) + "Z"}, {"tz", su.tz}};
    su.doc["duration"] = fmt::format("{}s", (last - epoch) / kS + 10);
    su.doc["seed"] = uint64_t{1};
    su.epoch_from_logs = true;
  }
  for (const auto& s : opt.base_sets) {
    try {
      scenario::apply_override(su.doc, s);
    } catch (const sim::ConfigError& e) {
      throw ReplayError(fmt::format("--base-set {}: {}", s, e.what()));
    }
  }
  // Epoch of the (possibly given) scenario.
  try {
    json probe = su.doc;
    scenario::Scenario sc = scenario::from_json(probe, su.config_source, su.dir);
    su.epoch_ns = sc.wall_epoch_ns;
  } catch (const sim::ConfigError& e) {
    if (su.epoch_from_logs)  // the scenario was built here from what the logs say
      throw ReplayError(fmt::format("{}: the scenario built from the logs (settings from {}): {}",
                                    opt.input, su.config_source, e.what()));
    throw ReplayError(fmt::format("{}: {}", su.config_source, e.what()));
  }
  if (!su.epoch_from_logs) {
    // The simulation starts at the scenario's logs.epoch: one after the logs' first ZooKeeper or
    // meta line would leave that line (or all of them) before t=0. GC logs may reach back further
    // (such pauses are clipped, see below).
    const Event* first = nullptr;
    for (const auto& e : rec.events) {
      if (e.type == EventType::kGcPause) continue;
      first = &e;
      break;
    }
    if (first && su.epoch_ns > first->time_ns) {
      bool given =
          su.doc.contains("logs") && su.doc["logs"].is_object() && su.doc["logs"].contains("epoch");
      std::string where = first->file < rec.files.size()
                              ? fmt::format(" ({}:{})", rec.files[first->file].path, first->line)
                              : "";
      throw ReplayError(fmt::format(
          "{}: the scenario's logs.epoch ({}{}) is after the logs' first line ({}{}): {}",
          su.config_source, ingest::format_utc(su.epoch_ns), given ? "" : ", the default",
          ingest::format_utc(first->time_ns), where,
          given ? fmt::format("fix logs.epoch to an instant at or before that line (e.g. \"{}\"), "
                              "or remove it and leave --config out to take t=0 from the logs",
                              ingest::format_utc(first->time_ns - 500 * kMs).substr(0, 23) + "Z")
                : fmt::format("set logs.epoch in the scenario to an instant at or before that "
                              "line (e.g. \"{}\"), or leave --config out to take t=0 from the logs",
                              ingest::format_utc(first->time_ns - 500 * kMs).substr(0, 23) + "Z")));
    }
  }
  uint64_t seed = opt.seed ? *opt.seed
                  : run_record.is_object() && run_record.contains("seed")
                      ? run_record["seed"].get<uint64_t>()
                      : su.doc.value("seed", uint64_t{1});

  // Faults.
  std::vector<InferredFault> inferred = infer_faults(rec, su.doc, su.epoch_ns);
  std::vector<InferredFault> faults;
  std::string faults_source;
  if (opt.faults == "logs") {
    faults = inferred;
    faults_source = "inferred from the logs";
    // Logged GC pauses are what happened: they replace the configuration's GC model (which would
    // add pauses of its own on top of them).
    bool gc_logged = std::any_of(rec.events.begin(), rec.events.end(),
                                 [](const Event& e) { return e.type == EventType::kGcPause; });
    if (gc_logged && su.doc.contains("gc")) {
      su.doc.erase("gc");
      su.config_source += " (its GC model replaced by the GC logs' pauses)";
    }
  } else if (opt.faults == "record") {
    if (!run_record.is_object())
      throw ReplayError(
          fmt::format("--faults record: {} has no zksim-run.json (only folders written by `zksim "
                      "run --logs` do)",
                      opt.input));
    const json& sf = run_record["scenario"].value("faults", json::array());
    for (const auto& a : run_record.value("faults_applied", json::array())) {
      if (a.value("type", "") != "fault.start") continue;
      size_t idx = a.value("index", size_t{0});
      if (idx >= sf.size()) continue;
      InferredFault f;
      f.fault = sf[idx];
      f.fault.erase("at");
      f.at_ns = a.value("t_ns", int64_t{0});
      std::string target = f.fault.value("target", "");
      if (target.find(":leader") != std::string::npos ||
          target.find(":follower") != std::string::npos) {
        if (f.fault.value("kind", "") == "ifdown" || f.fault.value("kind", "") == "partition") {
          f.fault.erase("target");
          f.fault["host"] = a.value("node", "");
        } else {
          f.fault["target"] = a.value("node", "");
        }
      }
      f.fault["comment"] = "as applied in the recorded run (zksim-run.json)";
      faults.push_back(std::move(f));
    }
    faults_source = "the run record zksim-run.json";
  } else {
    json sd = parse_user_json(read_file(opt.faults), "--faults " + opt.faults);
    if (!sd.is_object() || (sd.contains("faults") && !sd["faults"].is_array()))
      throw ReplayError(
          fmt::format("--faults {}: expected a scenario JSON with a \"faults\" array", opt.faults));
    const json fl = sd.value("faults", json::array());
    for (size_t i = 0; i < fl.size(); ++i) {
      const json& f = fl[i];
      if (!f.is_object() || !f.contains("at"))
        throw ReplayError(fmt::format(
            "--faults {}: faults[{}]: expected a fault object with \"at\"", opt.faults, i));
      InferredFault x;
      x.fault = f;
      x.fault.erase("at");
      try {
        x.at_ns = sim::json_duration(f.at("at"), fmt::format("faults[{}].at", i)).count_ns();
      } catch (const sim::ConfigError& e) {
        throw ReplayError(fmt::format("--faults {}: {}", opt.faults, e.what()));
      }
      faults.push_back(std::move(x));
    }
    // The faults against this configuration (hosts, peers): errors name the file.
    try {
      json probe = su.doc;
      probe["faults"] = fl;
      (void)scenario::from_json(probe, opt.faults, su.dir);
    } catch (const sim::ConfigError& e) {
      throw ReplayError(fmt::format("--faults {}: {}", opt.faults, e.what()));
    }
    faults_source = "the scenario file " + opt.faults;
  }

  // A fault the logs place before t=0 of the simulation (a GC log reaching back before the first
  // ZooKeeper line, a start the epoch alignment moved) cannot be simulated: one that lasts past
  // t=0 starts at 0, one that ends before it is left out. The report names both.
  auto clip_to_start = [](const std::vector<InferredFault>& fs_, json* notes) {
    std::vector<InferredFault> out;
    for (size_t i = 0; i < fs_.size(); ++i) {
      InferredFault f = fs_[i];
      if (f.at_ns >= 0) {
        out.push_back(std::move(f));
        continue;
      }
      bool lasts = f.end_ns && *f.end_ns > 0;
      if (notes)
        notes->push_back(fmt::format("{} {} at {} (before the simulation's t=0): {}",
                                     f.fault.value("kind", "?"),
                                     f.fault.value("target", f.fault.value("host", "")),
                                     dur(f.at_ns), lasts ? "starts at 0 instead" : "left out"));
      if (lasts) {
        f.at_ns = 0;
        out.push_back(std::move(f));
      }
    }
    return out;
  };
  auto with_faults = [&](const std::vector<InferredFault>& fs_) {
    json d = su.doc;
    d["faults"] = json::array();
    for (const auto& f : clip_to_start(fs_, nullptr)) d["faults"].push_back(f.render());
    return d;
  };
  fs::path outdir = opt.out;
  if (!opt.out.empty()) {
    fs::create_directories(outdir, ec);
    if (ec) throw ReplayError(fmt::format("--out {}: {}", opt.out, ec.message()));
  }

  // Simulate, then calibrate the inferred fault times against their anchor lines.
  fs::path sim_logs = scratch_dir(opt.out, "sim-logs");
  SimOut base;
  json calibration = json::array();
  if (su.epoch_from_logs) {
    // t=0 was only guessed from the first startup line: align the first recorded ZooKeeper leader
    // in broadcast with the simulated one, so the leader's ping phase matches the recording.
    SimOut probe = simulate(with_faults(faults), su.dir, seed, sim_logs, su.tz);
    auto first_bc = [](const std::vector<KeyEvent>& ks) -> std::optional<int64_t> {
      for (const auto& k : ks)
        if (k.type == "broadcast" && k.state == "leading") return k.t_ns;
      return std::nullopt;
    };
    auto r0 = first_bc(key_events(rec)), s0 = first_bc(probe.keys);
    if (r0 && s0 && *r0 != *s0) {
      int64_t d = *r0 - *s0;
      su.epoch_ns += d;
      su.doc["logs"]["epoch"] = ingest::format_utc(su.epoch_ns).substr(0, 26) + "Z";
      for (auto& f : faults) {
        f.at_ns -= d;
        if (f.end_ns) *f.end_ns -= d;
        if (f.at_window)
          f.at_window = std::make_pair(f.at_window->first - d, f.at_window->second - d);
        if (f.end_window)
          f.end_window = std::make_pair(f.end_window->first - d, f.end_window->second - d);
      }
      // The metas' start times read from their logs move with t=0 as the faults do (they are
      // absolute instants; only the simulation's origin moved). A start given by --base-set
      // stays as given.
      if (su.doc.contains("meta") && su.doc["meta"].contains("startAt")) {
        for (auto& [h, v] : su.doc["meta"]["startAt"].items()) {
          if (!su.start_at_from_logs.contains(h) || su.start_at_from_logs[h] != v) continue;
          int64_t ns = sim::json_duration(v, "meta.startAt." + h).count_ns() - d;
          v = fmt::format("{}us", std::max<int64_t>(0, ns) / 1000);
        }
      }
      calibration.push_back(json{{"field", "logs.epoch"},
                                 {"shift_ms", to_ms(d)},
                                 {"anchor", "first 'leading - broadcast'"}});
    }
  }
  auto calibrate = [&](int stage) {
    for (int it = 0;; ++it) {
      base = simulate(with_faults(faults), su.dir, seed, sim_logs, su.tz);
      if (opt.faults != "logs" || it >= opt.calibrate_iterations) break;
      bool changed = false;
      for (size_t i = 0; i < faults.size(); ++i) {
        auto& f = faults[i];
        for (const auto& a : f.anchors) {
          const KeyEvent* s = nearest(base.keys, a.event, 3 * kS);
          if (!s || s->t_ns == a.event.t_ns) continue;
          int64_t d = a.event.t_ns - s->t_ns;
          if (a.field == "at") f.at_ns += d;
          if (a.field == "end" && f.end_ns) *f.end_ns += d;
          calibration.push_back(json{{"iteration", it + stage * opt.calibrate_iterations},
                                     {"fault", i},
                                     {"field", a.field},
                                     {"anchor", a.event.key() + " @ " + a.event.where},
                                     {"shift_ms", to_ms(d)}});
          changed = true;
        }
      }
      if (!changed) break;
    }
  };
  calibrate(0);
  // Fit the times the evidence only bounds: a coordinate search over each window.
  std::vector<KeyEvent> rec_keys0 = key_events(rec, true);
  // Recorded and simulated key events in [from_abs, until_abs) (UTC ns), paired.
  auto paired = [&](const SimOut& so, int64_t from_abs, int64_t until_abs) {
    auto in = [&](const std::vector<KeyEvent>& ks) {
      std::vector<KeyEvent> v;
      for (const auto& k : ks)
        if (k.t_ns >= from_abs && k.t_ns < until_abs) v.push_back(k);
      return v;
    };
    return align(in(rec_keys0), in(so.fit_keys), opt.tolerance_ns);
  };
  // The score of a simulation: recorded key events left unpaired, then the sum of the paired ones'
  // time differences; only events before `until_abs` count.
  auto score = [&](const SimOut& so, int64_t until_abs = INT64_MAX) {
    int64_t bad = 0, sum = 0;
    for (const auto& m : paired(so, INT64_MIN, until_abs)) {
      if (m.recorded_ns && m.simulated_ns)
        sum += labs64(*m.simulated_ns - *m.recorded_ns);
      else
        ++bad;
    }
    return std::make_pair(bad, sum);
  };
  // True when every key event in [from_abs, until_abs), recorded or simulated, has its twin at the
  // same instant: a fault whose stretch of the timeline already matches needs no fitting.
  auto exact_between = [&](const SimOut& so, int64_t from_abs, int64_t until_abs) {
    for (const auto& m : paired(so, from_abs, until_abs))
      if (!m.recorded_ns || !m.simulated_ns || *m.recorded_ns != *m.simulated_ns) return false;
    return true;
  };
  const int64_t total_ns = su.doc.contains("duration")
                               ? sim::json_duration(su.doc["duration"], "duration").count_ns()
                               : scenario::Scenario{}.duration.count_ns();
  json fit_stats = json::object();
  if (opt.faults == "logs" && opt.fit_steps > 0) {
    // Coordinate search, fault by fault and time by time: a grid over the window, then a finer
    // grid around the best point. Chained faults interact (an earlier heal moves a later client's
    // ping phase), so when a round leaves events unmatched or off, another round starts from the
    // times found; it stops when nothing improves.
    //
    // A candidate is simulated only up to a horizon (the fault's last possible time plus
    // opt.fit_horizon_ns) and scored on the events before it: what happens later belongs to later
    // faults, and the next round's full simulation scores it. A fault whose stretch of the timeline
    // (its windows to its horizon) already matches exactly is not searched. So a day of logs costs
    // each fault's candidates the simulated time up to that fault, and only the faults that need
    // it.
    auto best = score(base);
    SimOut cur = base;  // the current times, simulated up to cur_until
    int64_t cur_until = total_ns;
    int sims = 0, fitted = 0, skipped = 0, reverted = 0, faults_reverted = 0;
    int64_t simulated_ns = 0;  // simulated time of every fitting run (candidates and full rounds)
    // Candidates of one fault time are independent runs: opt.jobs threads simulate them, each a
    // whole single-threaded run of its own (in a log folder of its own).
    const size_t jobs = static_cast<size_t>(std::max(1, opt.jobs));
    std::vector<fs::path> job_logs;
    for (size_t k = 0; k < jobs; ++k)
      job_logs.push_back(jobs == 1 ? sim_logs
                                   : fs::path(sim_logs.string() + fmt::format(".fit{}", k)));
    auto simulate_batch = [&](const std::vector<json>& docs) {
      std::vector<SimOut> outs(docs.size());
      if (docs.size() == 1) {
        outs[0] = simulate(docs[0], su.dir, seed, job_logs[0], su.tz, true);
        return outs;
      }
      std::vector<std::exception_ptr> errs(docs.size());
      std::vector<std::thread> threads;
      for (size_t k = 0; k < docs.size(); ++k)
        threads.emplace_back([&, k] {
          try {
            outs[k] = simulate(docs[k], su.dir, seed, job_logs[k], su.tz, true);
          } catch (...) {
            errs[k] = std::current_exception();
          }
        });
      for (auto& t : threads) t.join();
      for (auto& e : errs)
        if (e) std::rethrow_exception(e);
      return outs;
    };
    auto progress = [&](size_t i, const char* what) {
      if (opt.progress)
        opt.progress(
            fmt::format("fitting fault {}/{}{}: {} simulations", i + 1, faults.size(), what, sims));
    };
    for (int round = 0; round < 3; ++round) {
      auto before = best;
      // Each fault's search only looks up to its horizon: a time that matches its stretch better
      // can still undo a later one (a heal on the other side of a race elects another leader,
      // and every later fault then lands on a different ensemble). A round that leaves the whole
      // timeline worse than it found it is undone.
      const std::vector<InferredFault> faults_before = faults;
      const SimOut base_before = base;
      int last_moved = -1;
      auto moved = [&](size_t j) {
        return faults[j].at_ns != faults_before[j].at_ns ||
               faults[j].end_ns != faults_before[j].end_ns;
      };
      for (size_t i = 0; i < faults.size(); ++i) {
        auto& fi = faults[i];
        bool has_at = fi.at_window.has_value(), has_end = fi.end_window && fi.end_ns;
        if (!has_at && !has_end) continue;
        int64_t lo = fi.at_ns, hi = fi.end_ns.value_or(fi.at_ns);
        if (has_at) lo = std::min(lo, fi.at_window->first), hi = std::max(hi, fi.at_window->second);
        if (has_end)
          lo = std::min(lo, fi.end_window->first), hi = std::max(hi, fi.end_window->second);
        int64_t horizon = hi > total_ns - opt.fit_horizon_ns ? total_ns : hi + opt.fit_horizon_ns;
        int64_t until_abs = horizon == total_ns ? INT64_MAX : su.epoch_ns + horizon;
        auto doc_for = [&] {
          if (horizon == total_ns) return with_faults(faults);
          std::vector<InferredFault> before_horizon;  // the run ends before the others start
          for (const auto& f : faults)
            if (f.at_ns < horizon) before_horizon.push_back(f);
          json d = with_faults(before_horizon);
          d["duration"] = dur(horizon);
          return d;
        };
        auto simulate_cur = [&] {  // the current times, up to this fault's horizon
          cur = simulate(doc_for(), su.dir, seed, sim_logs, su.tz, true);
          cur_until = horizon;
          ++sims, simulated_ns += horizon;
        };
        // Fault j back to its times at the round's start, because the timeline up to fault i's
        // horizon came out worse than the round's start.
        auto put_back = [&](size_t j) {
          faults[j] = faults_before[j];
          calibration.push_back(json{{"round", round},
                                     {"fault", j},
                                     {"reverted", true},
                                     {"worse_by_the_horizon_of_fault", i}});
          ++faults_reverted;
        };
        progress(i, "");
        if (cur_until < horizon) simulate_cur();
        // Look-ahead: the fault this round moved last must not leave the timeline up to this
        // fault's horizon worse than the round found it (its own search looked only up to its
        // own horizon); else its times go back, and if that was not it, every earlier move (the
        // round's start is then what is simulated up to here).
        if (last_moved >= 0) {
          const auto start = score(base_before, until_abs);
          if (start < score(cur, until_abs)) {
            put_back(static_cast<size_t>(last_moved));
            last_moved = -1;
            simulate_cur();
            if (start < score(cur, until_abs)) {
              for (size_t j = 0; j < i; ++j)
                if (moved(j)) put_back(j);
              simulate_cur();
            }
          }
        }
        if (exact_between(cur, su.epoch_ns + lo, until_abs)) {
          ++skipped;
          continue;
        }
        ++fitted;
        auto local = score(cur, until_abs);
        for (int which = 0; which < 2; ++which) {
          auto& w = which == 0 ? fi.at_window : fi.end_window;
          if (!w || (which == 1 && !fi.end_ns)) continue;
          int64_t& v = which == 0 ? fi.at_ns : *fi.end_ns;
          int64_t keep = v;
          int64_t step = (w->second - w->first) / opt.fit_steps;
          // Nothing beats an exact match: once the stretch matches, the search of this fault ends
          // (the kept time is the same as after trying the rest).
          const auto exact = std::make_pair(int64_t{0}, int64_t{0});
          for (int pass = 0; pass < 2 && local != exact; ++pass) {
            int64_t a = w->first, b = w->second;
            if (pass == 1) {
              if (step <= kMs) break;
              a = std::max(w->first, keep - step);
              b = std::min(w->second, keep + step);
            }
            std::vector<int64_t> cand;
            for (int k = 0; k <= opt.fit_steps; ++k)
              cand.push_back(a + (b - a) * k / opt.fit_steps);
            // An end bounded by the first line showing contact again usually came shortly before
            // it (the next retransmission, the next reconnect): also try just before that line.
            if (which == 1 && pass == 0)
              for (int64_t d : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000})
                if (b - d * kMs > a) cand.push_back(b - d * kMs);
            // Candidates are simulated opt.jobs at a time and taken in order, as one at a time
            // would: the first better one is kept, an exact one ends the search (the rest of its
            // batch is dropped unseen), so the fit does not depend on the number of jobs.
            // The time kept is simulated again only in the first round's first grid.
            auto tried = [&](int64_t c) { return c == keep && (pass == 1 || round > 0); };
            std::vector<int64_t> todo;
            for (int64_t c : cand)
              if (!tried(c)) todo.push_back(c);
            bool done = false;
            for (size_t from = 0; from < todo.size() && !done; from += jobs) {
              size_t n = std::min(jobs, todo.size() - from);
              std::vector<json> docs;
              for (size_t k = 0; k < n; ++k) {
                v = todo[from + k];
                docs.push_back(doc_for());
              }
              v = keep;
              std::vector<SimOut> outs = simulate_batch(docs);
              for (size_t k = 0; k < n; ++k) {
                if (tried(todo[from + k])) continue;  // the time just kept, as one at a time

                ++sims, simulated_ns += horizon;
                auto sc = score(outs[k], until_abs);
                if (sc < local) {
                  local = sc, keep = todo[from + k];
                  cur = std::move(outs[k]);
                  cur_until = horizon;
                }
                progress(i, which == 0 ? " (start)" : " (end)");
                if (local == exact) {
                  done = true;
                  break;
                }
              }
            }
          }
          v = keep;  // `cur` is the simulation of these times
          calibration.push_back(json{{"round", round},
                                     {"fault", i},
                                     {"field", which == 0 ? "at" : "end"},
                                     {"fitted", dur(keep)},
                                     {"window", json::array({dur(w->first), dur(w->second)})},
                                     {"unmatched", local.first},
                                     {"sum_abs_delta_ms", to_ms(local.second)}});
        }
        if (moved(i)) last_moved = static_cast<int>(i);
      }
      base = simulate(with_faults(faults), su.dir, seed, sim_logs, su.tz);
      ++sims, simulated_ns += total_ns;
      cur = base;
      cur_until = total_ns;
      best = score(base);
      if (before < best) {
        calibration.push_back(json{{"round", round},
                                   {"reverted", true},
                                   {"unmatched", best.first},
                                   {"sum_abs_delta_ms", to_ms(best.second)},
                                   {"unmatched_before", before.first},
                                   {"sum_abs_delta_ms_before", to_ms(before.second)}});
        faults = faults_before;
        base = base_before;
        cur = base;
        best = before;
        ++reverted;
        break;
      }
      if (best == std::make_pair(int64_t{0}, int64_t{0}) || !(best < before)) break;
    }
    for (size_t k = 0; jobs > 1 && k < jobs; ++k) fs::remove_all(job_logs[k], ec);
    fit_stats = json{{"simulations", sims},
                     {"simulated_s", static_cast<double>(simulated_ns) / kS},
                     {"fault_searches", fitted},
                     {"fault_searches_skipped_exact", skipped},
                     {"rounds_reverted", reverted},
                     {"fault_fits_reverted", faults_reverted},
                     {"horizon_s", static_cast<double>(opt.fit_horizon_ns) / kS}};
    if (opt.progress)
      opt.progress(fmt::format("{} fault search(es), {} skipped as already exact, {} simulations",
                               fitted, skipped, sims));
    // A random fault (a loss rate) cannot reproduce events one by one: its parameter is fitted to
    // the recorded number of key events of each kind (type and state, any node), once the times are
    // fitted.
    std::map<std::string, int> rec_counts;
    for (const auto& k : rec_keys0) ++rec_counts[k.type + " " + k.state];
    auto count_score = [&](const SimOut& so) {
      std::map<std::string, int> d = rec_counts;
      for (const auto& k : so.keys) --d[k.type + " " + k.state];
      int64_t off = 0;
      for (const auto& [k, v] : d) off += v < 0 ? -v : v;
      return off;
    };
    for (size_t i = 0; i < faults.size(); ++i) {
      if (faults[i].fit_param.empty()) continue;
      json& field = faults[i].fault[faults[i].fit_param];
      json keep = field;
      int64_t best_off = count_score(base);
      for (double x : faults[i].fit_values) {
        if (json(x) == keep) continue;
        field = x;
        SimOut so = simulate(with_faults(faults), su.dir, seed, sim_logs, su.tz);
        int64_t off = count_score(so);
        if (off < best_off) best_off = off, keep = field, base = std::move(so);
      }
      field = keep;
      calibration.push_back(json{{"fault", i},
                                 {"field", faults[i].fit_param},
                                 {"fitted", keep},
                                 {"candidates", faults[i].fit_values},
                                 {"key_event_count_difference", best_off}});
    }
    // The fitted times move the context the anchors were calibrated in (a later restart's boot
    // draws, a client's ping phase): calibrate the anchored times once more, keeping it only if it
    // matches better.
    if (best != std::make_pair(int64_t{0}, int64_t{0})) {
      std::vector<InferredFault> keep = faults;
      SimOut kept = base;
      calibrate(1);
      if (!(score(base) < best)) {
        faults = std::move(keep);
        base = std::move(kept);
      }
    }
  }
  json clip_notes = json::array();
  faults = clip_to_start(faults, &clip_notes);
  int64_t first_fault = INT64_MAX;
  for (const auto& f : faults) first_fault = std::min(first_fault, f.at_ns + su.epoch_ns);
  std::vector<KeyEvent> rec_keys = key_events(rec);
  json report;
  report["schema"] = "zksim.replay/1";
  report["input"] = opt.input;
  report["config"] = su.config_source;
  report["seed"] = seed;
  report["tz"] = su.tz;
  report["tz_source"] = tz_source;
  report["faults_source"] = faults_source;
  if (!clip_notes.empty()) report["faults_before_start"] = clip_notes;
  json fj = json::array();
  for (const auto& f : faults) fj.push_back(f.render());
  report["faults"] = fj;
  report["calibration"] = calibration;
  if (!fit_stats.empty()) report["fit"] = fit_stats;
  report["baseline_trace_hash"] = base.result.trace_hash;
  if (run_record.is_object()) report["run_record_trace_hash"] = run_record.value("trace_hash", "");
  if (run_record.is_object())
    report["run_record_faults"] = run_record.value("faults_applied", json::array());
  report["baseline"] = compare(rec_keys, base.keys, opt.tolerance_ns, first_fault);
  json metrics{{"recorded_logs", log_metrics(rec)},
               {"baseline_logs", log_metrics(base.tl)},
               {"baseline_run", world::to_json(base.result)["metrics"]}};
  if (run_record.is_object()) metrics["recorded_run"] = run_record["metrics"];
  std::optional<SimOut> cf;
  json cf_doc;
  fs::path cf_logs = scratch_dir(opt.out, "counterfactual-logs");
  if (!opt.sets.empty()) {
    cf_doc = with_faults(faults);
    for (const auto& s : opt.sets) {
      try {
        scenario::apply_override(cf_doc, s);
      } catch (const sim::ConfigError& e) {
        throw ReplayError(fmt::format("--set {}: {}", s, e.what()));
      }
    }
    cf = simulate(cf_doc, su.dir, seed, cf_logs, su.tz);
    report["counterfactual"] = compare(rec_keys, cf->keys, opt.tolerance_ns, first_fault);
    report["counterfactual"]["sets"] = opt.sets;
    metrics["counterfactual_logs"] = log_metrics(cf->tl);
    metrics["counterfactual_run"] = world::to_json(cf->result)["metrics"];
  }
  report["metrics"] = metrics;
  json scenario_out = with_faults(faults);
  scenario_out["description"] = fmt::format(
      "zksim replay of {}: configuration from {}, faults {}. Edit the faults and rerun with `zksim "
      "replay {} --faults THIS_FILE`.",
      opt.input, su.config_source, faults_source, opt.input);
  scenario_out["seed"] = seed;

  // Text report.
  std::string t;
  auto tzoff = ingest::parse_tz_offset(su.tz);
  auto local = [&](int64_t ns) { return ingest::format_local(ns, tzoff).substr(11, 12); };
  t += fmt::format(
      "zksim replay {}\n  config: {}   seed {}   time zone {} ({})\n  recorded: {} file(s), {} "
      "key events\n",
      opt.input, su.config_source, seed, su.tz, tz_source, rec.files.size(), rec_keys.size());
  for (const auto& d : rec.skipped_dirs)
    t += fmt::format("  folder not read: {}/: {}\n", d.rel, d.why);
  t += "\n";
  t += fmt::format("faults ({}):\n", faults_source);
  if (faults.empty()) t += "  (none)\n";
  for (const auto& f : faults) {
    json r = f.render();
    std::string what = r.value("target", r.value("host", ""));
    if (r.contains("groups")) {
      what.clear();
      for (const auto& g : r["groups"])
        what += (what.empty() ? "" : " | ") +
                fmt::format("{}", fmt::join(g.get<std::vector<std::string>>(), ","));
    } else if (r.contains("from")) {
      what = r.value("from", "") + (r.value("both", false) ? " <-> " : " -> ") + r.value("to", "");
    }
    if (r.contains("port")) what += fmt::format(":{}", r["port"].dump());
    t += fmt::format(
        "  {:>12}  {:<7} {:<14} {}{}\n", r["at"].get<std::string>(), r["kind"].get<std::string>(),
        what, r.contains("for") ? "for " + r["for"].get<std::string>() : "",
        r.contains("restartAfter") ? "restart after " + r["restartAfter"].get<std::string>() : "");
    if (r.contains("comment"))
      t += fmt::format("                {}\n", r["comment"].get<std::string>());
    json evs = r.contains("evidence") ? r["evidence"] : json::array();
    if (!evs.is_array()) evs = json::array({evs});
    for (const auto& e : evs) {
      if (e.is_object())
        t += fmt::format("                  <- {}  {}\n", e.value("line", ""), e.value("what", ""));
      else
        t += fmt::format("                  <- {}\n",
                         e.is_string() ? e.get<std::string>() : e.dump());
    }
  }
  if (!clip_notes.empty()) {
    t += fmt::format("  {} inferred fault(s) before the simulation's t=0:\n", clip_notes.size());
    for (size_t i = 0; i < clip_notes.size(); ++i) {
      if (i == 5) {
        t += fmt::format("    ... and {} more (report.json: faults_before_start)\n",
                         clip_notes.size() - 5);
        break;
      }
      t += fmt::format("    {}\n", clip_notes[i].get<std::string>());
    }
  }
  if (!fit_stats.empty())
    t += fmt::format(
        "  fitted in {} simulations ({:.0f} s simulated; {} fault search(es), {} skipped as "
        "already exact{})\n",
        fit_stats["simulations"].get<int>(), fit_stats["simulated_s"].get<double>(),
        fit_stats["fault_searches"].get<int>(),
        fit_stats["fault_searches_skipped_exact"].get<int>(),
        fit_stats["rounds_reverted"].get<int>() > 0
            ? "; the last round undone: it matched the whole timeline worse"
            : "");
  if (run_record.is_object()) {
    t += "  run record (zksim-run.json) applied:";
    for (const auto& a : run_record.value("faults_applied", json::array()))
      t += fmt::format(" {} {} @{};", a.value("type", ""), a.value("node", ""),
                       dur(a.value("t_ns", int64_t{0})));
    t += "\n";
  }
  auto section = [&](const char* title, const json& c) {
    t += fmt::format(
        "\n{}: {} matched, {} missing, {} extra; max |delta| {:.3f} ms ({:.3f} ms after the first "
        "fault)\n",
        title, c["matched"].get<int>(), c["missing"].get<int>(), c["extra"].get<int>(),
        c["max_abs_delta_ms"].get<double>(), c["max_abs_delta_ms_after_first_fault"].get<double>());
    t += fmt::format("  {:<12} {:<12} {:>10}  {}\n", "recorded", "simulated", "delta ms", "event");
    for (const auto& m :
         align(rec_keys, title[0] == 'b' ? base.keys : cf->keys, opt.tolerance_ns)) {
      t +=
          fmt::format("  {:<12} {:<12} {:>10}  {}{}\n", m.recorded_ns ? local(*m.recorded_ns) : "-",
                      m.simulated_ns ? local(*m.simulated_ns) : "-",
                      m.recorded_ns && m.simulated_ns
                          ? fmt::format("{:+.3f}", to_ms(*m.simulated_ns - *m.recorded_ns))
                          : (m.recorded_ns ? "MISSING" : "EXTRA"),
                      m.key, m.recorded_ns ? "  (" + m.where + ")" : "");
    }
  };
  section("baseline simulation vs recorded", report["baseline"]);
  if (cf)
    section(fmt::format("counterfactual ({}) vs recorded", fmt::join(opt.sets, " ")).c_str(),
            report["counterfactual"]);
  t += "\nmetrics:\n";
  std::vector<std::pair<std::string, json>> cols = {
      {"recorded", metrics_row(metrics["recorded_logs"])},
      {"baseline", metrics_row(metrics["baseline_logs"])}};
  if (cf) cols.push_back({"counterfactual", metrics_row(metrics["counterfactual_logs"])});
  t += fmt::format("  {:<28}", "(from the logs)");
  for (const auto& c : cols) t += fmt::format(" {:>16}", c.first);
  t += "\n";
  for (auto it = cols[0].second.begin(); it != cols[0].second.end(); ++it) {
    t += fmt::format("  {:<28}", it.key());
    for (const auto& c : cols) t += fmt::format(" {:>16}", c.second[it.key()].dump());
    t += "\n";
  }
  t += fmt::format("  simulated run metrics (world): baseline {}\n",
                   metrics_row(metrics["baseline_run"]).dump());
  if (cf)
    t += fmt::format("                                 counterfactual {}\n",
                     metrics_row(metrics["counterfactual_run"]).dump());
  if (metrics.contains("recorded_run"))
    t += fmt::format("  recorded run metrics (zksim-run.json): {}\n",
                     metrics_row(metrics["recorded_run"]).dump());

  if (!opt.out.empty()) {
    write_file(outdir / "report.json", report.dump(1) + "\n");
    write_file(outdir / "report.txt", t);
    write_file(outdir / "scenario.json", scenario_out.dump(2) + "\n");
    if (cf) write_file(outdir / "counterfactual-scenario.json", cf_doc.dump(2) + "\n");
    t += fmt::format(
        "\nwrote {}/report.txt, report.json, scenario.json (inferred, editable), sim-logs/{}\n",
        opt.out, cf ? ", counterfactual-logs/" : "");
  } else {
    fs::remove_all(sim_logs, ec);
    if (cf) fs::remove_all(cf_logs, ec);
  }
  if (text) *text = std::move(t);
  report["scenario"] = scenario_out;
  return report;
}

}  // namespace zksim::replay
