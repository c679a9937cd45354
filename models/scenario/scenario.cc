#include "models/scenario/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/textlog.h"

namespace scenario {

using nlohmann::json;
using sim::ConfigError;

namespace {

// A JSON object whose keys are checked against the allowed set as they are read.
class Obj {
 public:
  Obj(const json& j, std::string path, std::set<std::string> allowed)
      : j_(j), path_(std::move(path)) {
    if (!j.is_object())
      throw ConfigError(path_.empty() ? "(top level)" : path_, "expected an object");
    for (const auto& [k, v] : j.items()) {
      if (!allowed.count(k)) {
        std::string known;
        for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
        throw ConfigError(sub(k), fmt::format("unknown key (known keys: {})", known));
      }
    }
  }
  bool has(const char* k) const { return j_.contains(k) && !j_.at(k).is_null(); }
  const json& at(const char* k) const { return j_.at(k); }
  std::string sub(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  sim::Duration dur(const char* k, sim::Duration dflt) const {
    return has(k) ? sim::json_duration(at(k), sub(k)) : dflt;
  }
  int64_t integer(const char* k, int64_t dflt, int64_t lo, int64_t hi) const {
    return has(k) ? sim::json_int(at(k), sub(k), lo, hi) : dflt;
  }
  double number(const char* k, double dflt, double lo, double hi) const {
    return has(k) ? sim::json_number(at(k), sub(k), lo, hi) : dflt;
  }
  bool boolean(const char* k, bool dflt) const {
    if (!has(k)) return dflt;
    if (!at(k).is_boolean()) throw ConfigError(sub(k), "expected true or false");
    return at(k).get<bool>();
  }
  std::string str(const char* k, const std::string& dflt) const {
    if (!has(k)) return dflt;
    if (!at(k).is_string())
      throw ConfigError(sub(k), fmt::format("expected a string, got {}", at(k).dump()));
    return at(k).get<std::string>();
  }
  const json& array(const char* k) const {
    if (!at(k).is_array()) throw ConfigError(sub(k), "expected an array");
    return at(k);
  }

 private:
  const json& j_;
  std::string path_;
};

// "2022-08-04T21:23:00" (UTC unless a zone is given in "tz"), optional ".123" and "Z".
int64_t parse_epoch(const std::string& s, const std::string& path) {
  int y, mo, d, h, mi, sec;
  char tail[16] = {0};
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15s", &y, &mo, &d, &h, &mi, &sec, tail);
  if (n < 6 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    throw ConfigError(path,
                      fmt::format("expected a date-time like 2022-08-04T21:23:00, got \"{}\"", s));
  }
  // A day the month does not have (2022-02-31) and negative fields are errors, not a roll-over.
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap) || h < 0 || mi < 0 ||
      sec < 0 || sec > 59) {
    throw ConfigError(path, fmt::format("no such date-time: \"{}\" (from 1970 on)", s));
  }
  int64_t ns = sim::ns_from_civil(y, mo, d, h, mi, sec);
  std::string t = tail;
  if (!t.empty() && t[0] == '.') {
    size_t i = 1;
    int64_t frac = 0, scale = 1000'000'000;
    while (i < t.size() && isdigit(static_cast<unsigned char>(t[i])) && scale > 1) {
      scale /= 10;
      frac += (t[i] - '0') * scale;
      ++i;
    }
    ns += frac;
    t = t.substr(i);
  }
  if (!t.empty() && t != "Z")
    throw ConfigError(path,
                      fmt::format("unexpected \"{}\" after the time (zone goes in logs.tz)", t));
  return ns;
}

int64_t parse_tz(const std::string& s, const std::string& path) {
  if (s == "UTC" || s == "Z" || s == "+00:00") return 0;
  int h = 0, m = 0;
  char sign = 0;
  if (std::sscanf(s.c_str(), "%c%2d:%2d", &sign, &h, &m) == 3 && (sign == '+' || sign == '-') &&
      h <= 14 && m < 60 && s.size() == 6) {
    return (sign == '-' ? -1 : 1) * (h * 3600 + m * 60);
  }
  throw ConfigError(path,
                    fmt::format("unknown time zone \"{}\" (use UTC or an offset like +08:00)", s));
}

// A single server runs standalone (ZooKeeperServerMain: no election, no Zab), which the peer model
// does not cover: it models quorum peers.
constexpr const char* kStandalone =
    "at least 2 peers: a single ZooKeeper server runs standalone (no leader election, no Zab), "
    "which zksim does not model";

FaultSpec parse_fault(const json& j, const std::string& path) {
  Obj o(j, path,
        {"at", "kind", "for", "target", "host", "groups", "from", "to", "both", "reject", "port",
         "latency", "loss", "restartAfter", "evidence", "comment"});
  FaultSpec f;
  f.kind = o.str("kind", "");
  static const std::set<std::string> kinds = {"ifdown", "partition", "cut",   "latency",
                                              "loss",   "pause",     "crash", "restart"};
  if (!kinds.count(f.kind)) {
    throw ConfigError(o.sub("kind"),
                      fmt::format("unknown fault kind \"{}\" (ifdown, partition, cut, "
                                  "latency, loss, pause, crash, restart)",
                                  f.kind));
  }
  if (!o.has("at")) throw ConfigError(path, "missing key \"at\"");
  f.at = o.dur("at", {});
  if (o.has("for")) f.duration = o.dur("for", {});
  f.target = o.str("target", "");
  f.host = o.str("host", "");
  f.from = o.str("from", "");
  f.to = o.str("to", "");
  f.reject = o.boolean("reject", false);
  f.both = o.boolean("both", false);
  f.port = static_cast<uint16_t>(o.integer("port", 0, 1, 65535));
  f.comment = o.str("comment", "");
  if (o.has("evidence")) f.evidence = o.at("evidence");
  if (o.has("restartAfter")) f.restart_after = o.dur("restartAfter", {});
  f.extra_latency = o.dur("latency", {});
  f.loss = o.number("loss", 0, 0, 0.99);
  if (o.has("groups")) {
    const json& g = o.array("groups");
    for (size_t i = 0; i < g.size(); ++i) {
      std::string gp = fmt::format("{}.groups[{}]", path, i);
      if (!g[i].is_array()) throw ConfigError(gp, "expected an array of host names");
      std::vector<std::string> group;
      for (size_t k = 0; k < g[i].size(); ++k) {
        if (!g[i][k].is_string())
          throw ConfigError(fmt::format("{}[{}]", gp, k), "expected a host name");
        group.push_back(g[i][k].get<std::string>());
      }
      f.groups.push_back(std::move(group));
    }
  }
  // Per-kind requirements.
  auto need = [&](bool ok, const char* what) {
    if (!ok) throw ConfigError(path, fmt::format("a {} fault needs {}", f.kind, what));
  };
  if (f.kind == "ifdown")
    need(!f.host.empty() || !f.target.empty(),
         "\"host\" (or a \"target\" process whose host goes down)");
  if (f.kind == "partition") {
    // Either explicit groups, or one host cut off from all the others: a "host", or the host of a
    // "target" process (a role such as meta:leader is resolved when the fault fires).
    int ways = (f.groups.empty() ? 0 : 1) + (f.host.empty() ? 0 : 1) + (f.target.empty() ? 0 : 1);
    need(ways == 1,
         "exactly one of \"groups\", \"host\" (isolated from all others) or \"target\" (its "
         "process's host isolated)");
  }
  if (f.kind == "cut") need(!f.from.empty() && !f.to.empty(), "\"from\" and \"to\"");
  if (o.has("both") && f.kind != "cut")
    throw ConfigError(o.sub("both"),
                      fmt::format("only a cut fault takes \"both\" (a partition cuts both "
                                  "directions already), not a {} fault",
                                  f.kind));
  if (o.has("port") && f.kind != "partition" && f.kind != "cut")
    throw ConfigError(o.sub("port"), fmt::format("only partition and cut faults take a port, not "
                                                 "a {} fault",
                                                 f.kind));
  if (f.kind == "latency") need(o.has("latency"), "\"latency\"");
  if (f.kind == "loss") need(o.has("loss"), "\"loss\"");
  if (f.kind == "pause" || f.kind == "crash" || f.kind == "restart")
    need(!f.target.empty(), "\"target\"");
  if (f.kind == "pause") need(f.duration.has_value(), "\"for\"");
  if (f.kind == "crash" && f.duration)
    throw ConfigError(o.sub("for"),
                      "a crashed process stays down until restarted: give "
                      "\"restartAfter\" (or a restart fault), not \"for\"");
  if (f.kind != "crash" && f.restart_after)
    throw ConfigError(
        o.sub("restartAfter"),
        fmt::format("only a crash fault takes \"restartAfter\", not a {} fault", f.kind));
  if (f.kind == "cut" && f.from == f.to && f.from != "*")
    throw ConfigError(o.sub("to"), fmt::format("\"{}\" cut from itself", f.to));
  {
    std::set<std::string> seen;
    for (size_t i = 0; i < f.groups.size(); ++i) {
      std::string gp = fmt::format("{}.groups[{}]", path, i);
      if (f.groups[i].empty()) throw ConfigError(gp, "an empty group");
      for (const auto& h : f.groups[i]) {
        if (!seen.insert(h).second)
          throw ConfigError(gp, fmt::format("host \"{}\" is in two groups", h));
      }
    }
  }
  return f;
}

}  // namespace

const HostSpec* Scenario::find_host(const std::string& name) const {
  for (const auto& h : hosts) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

void apply_override(json& doc, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set", fmt::format("expected path=value, got \"{}\"", assignment));
  }
  std::string path = assignment.substr(0, eq);
  std::string raw = assignment.substr(eq + 1);
  // A value that is not JSON is taken as a string (zk.tickTime=3s); one that nests too deep is
  // refused like any JSON input.
  json value = json::accept(raw) ? sim::parse_json_text(raw, "--set " + path) : json(raw);
  // Split "a.b[2].c" / "a.b.2.c" into components.
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '.' || c == '[' || c == ']') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  if (parts.empty()) {
    throw ConfigError("--set", fmt::format("\"{}\" names no field (expected a path like "
                                           "zk.tickTime=3s)",
                                           assignment));
  }
  json* node = &doc;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    walked += (walked.empty() ? "" : ".") + p;
    bool last = i + 1 == parts.size();
    bool numeric = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
    if (node->is_null() && numeric) *node = json::array();  // "faults[0]=..." on a fresh document
    if (node->is_array()) {
      char* end = nullptr;
      unsigned long idx = std::strtoul(p.c_str(), &end, 10);
      if (p.empty() || *end != '\0') throw ConfigError(walked, "expected an array index");
      if (idx > node->size()) {
        throw ConfigError(walked,
                          fmt::format("index {} is past the end (size {})", idx, node->size()));
      }
      if (idx == node->size()) node->push_back(json::object());
      node = &(*node)[idx];
    } else {
      if (node->is_null()) *node = json::object();
      if (!node->is_object()) throw ConfigError(walked, "cannot descend into a non-object");
      node = &(*node)[p];
    }
    if (last) *node = value;
  }
}

Scenario from_json(const json& doc, const std::string& file, const std::string& dir) {
  Scenario sc;
  sc.file = file;
  sc.dir = dir;
  sc.doc = doc;
  Obj top(doc, "",
          {"name", "description", "comment", "seed", "duration", "hosts", "network", "zk", "meta",
           "gc", "detector", "faults", "checks", "logs"});
  sc.name =
      top.str("name", file.empty() ? "scenario" : std::filesystem::path(file).stem().string());
  sc.description = top.str("description", "");
  if (top.has("seed")) {
    if (!top.at("seed").is_number_unsigned())
      throw ConfigError("seed", "expected a non-negative integer");
    sc.seed = top.at("seed").get<uint64_t>();
  }
  sc.duration = top.dur("duration", sc.duration);
  if (sc.duration <= sim::Duration::zero()) throw ConfigError("duration", "must be positive");
  if (sc.duration > sim::Duration::s(86400 * 7))
    throw ConfigError("duration", "longer than a week");

  if (top.has("hosts")) {
    const json& hs = top.array("hosts");
    for (size_t i = 0; i < hs.size(); ++i) {
      std::string hp = fmt::format("hosts[{}]", i);
      HostSpec h;
      if (hs[i].is_string()) {
        h.name = hs[i].get<std::string>();
      } else {
        Obj o(hs[i], hp, {"name", "address"});
        h.name = o.str("name", "");
        h.address = o.str("address", "");
      }
      if (h.name.empty()) throw ConfigError(hp, "a host needs a name");
      if (sc.find_host(h.name)) throw ConfigError(hp, fmt::format("duplicate host \"{}\"", h.name));
      sc.hosts.push_back(h);
    }
  }
  auto ensure_host = [&](const std::string& name) {
    if (!sc.find_host(name)) sc.hosts.push_back(HostSpec{name, {}});
  };

  if (top.has("network")) {
    Obj o(top.at("network"), "network", {"latency", "loss"});
    if (o.has("latency")) sc.latency = sim::json_duration_dist(o.at("latency"), "network.latency");
    sc.loss = o.number("loss", 0, 0, 0.99);
  }

  // ZooKeeper: default is 5 peers on node1..node5.
  {
    json zdoc = top.has("zk") ? top.at("zk") : json::object();
    Obj o(zdoc, "zk",
          {"tickTime", "initLimit", "syncLimit", "peers", "count", "minSessionTimeout",
           "maxSessionTimeout", "writeRate", "version"});
    ZkSpec& z = sc.zk;
    z.tick = o.dur("tickTime", z.tick);
    if (z.tick < sim::Duration::ms(1)) throw ConfigError("zk.tickTime", "must be at least 1ms");
    // Timeouts are multiples of the tick (up to 1000 ticks): an hour keeps them far from overflow.
    if (z.tick > sim::Duration::s(3600)) throw ConfigError("zk.tickTime", "must be at most 1h");
    z.init_limit = static_cast<int>(o.integer("initLimit", z.init_limit, 1, 1000));
    z.sync_limit = static_cast<int>(o.integer("syncLimit", z.sync_limit, 1, 1000));
    z.min_session_timeout = o.dur("minSessionTimeout", {});
    z.max_session_timeout = o.dur("maxSessionTimeout", {});
    {
      // ZooKeeper's defaults (2 and 20 ticks) where unset; it refuses min > max at startup.
      sim::Duration lo =
          z.min_session_timeout > sim::Duration::zero() ? z.min_session_timeout : z.tick * 2;
      sim::Duration hi =
          z.max_session_timeout > sim::Duration::zero() ? z.max_session_timeout : z.tick * 20;
      if (hi < lo) {
        throw ConfigError(
            "zk.maxSessionTimeout",
            fmt::format(
                "{} is below the minimum session timeout ({}{}): ZooKeeper refuses to start",
                sim::format_duration(hi), sim::format_duration(lo),
                z.min_session_timeout > sim::Duration::zero() ? "" : ", 2 x tickTime"));
      }
    }
    z.write_rate_per_s = o.number("writeRate", 0, 0, 1e5);
    z.version = o.str("version", z.version);
    if (o.has("peers")) {
      const json& ps = o.array("peers");
      std::set<int> ids;
      for (size_t i = 0; i < ps.size(); ++i) {
        std::string pp = fmt::format("zk.peers[{}]", i);
        Obj po(ps[i], pp, {"id", "host"});
        ZkSpec::Peer p;
        if (!po.has("id")) throw ConfigError(pp, "missing key \"id\"");
        p.id = static_cast<int>(po.integer("id", 0, 1, 255));
        p.host = po.str("host", "");
        if (p.host.empty()) throw ConfigError(pp, "missing key \"host\"");
        if (!ids.insert(p.id).second)
          throw ConfigError(pp + ".id", fmt::format("duplicate id {}", p.id));
        z.peers.push_back(p);
      }
      if (o.has("count")) throw ConfigError("zk.count", "give either \"peers\" or \"count\"");
      if (z.peers.size() < 2) throw ConfigError("zk.peers", kStandalone);
    } else {
      int n = static_cast<int>(o.integer("count", 5, 1, 255));
      if (n < 2) throw ConfigError("zk.count", kStandalone);
      for (int i = 1; i <= n; ++i) z.peers.push_back({i, fmt::format("node{}", i)});
    }
    for (const auto& p : z.peers) ensure_host(p.host);
  }

  if (top.has("meta")) {
    Obj o(top.at("meta"), "meta",
          {"sessionTimeout", "localTimer", "rejoinDelay", "hosts", "doubleAdvance", "oldClient",
           "electionPath", "enabled", "startJitter", "startAt"});
    MetaSpec& m = sc.meta;
    m.enabled = o.boolean("enabled", true);
    m.session_timeout = o.dur("sessionTimeout", m.session_timeout);
    m.local_timer = o.dur("localTimer", m.local_timer);
    m.rejoin_delay = o.dur("rejoinDelay", m.rejoin_delay);
    m.double_advance = o.boolean("doubleAdvance", m.double_advance);
    m.old_34_client = o.boolean("oldClient", m.old_34_client);
    m.election_path = o.str("electionPath", m.election_path);
    m.start_jitter = o.dur("startJitter", m.start_jitter);
    if (m.session_timeout <= sim::Duration::zero())
      throw ConfigError("meta.sessionTimeout", "must be positive");
    if (m.local_timer <= sim::Duration::zero())
      throw ConfigError("meta.localTimer", "must be positive");
    if (m.election_path.size() < 2 || m.election_path[0] != '/' || m.election_path.back() == '/' ||
        m.election_path.find("//") != std::string::npos) {
      throw ConfigError(
          "meta.electionPath",
          fmt::format("\"{}\" is not a znode path (like /zbs/meta)", m.election_path));
    }
    if (m.enabled && m.start_jitter >= sc.duration) {
      throw ConfigError(
          "meta.startJitter",
          fmt::format("{} is not shorter than the run ({}): metas would start after "
                      "its end",
                      sim::format_duration(m.start_jitter), sim::format_duration(sc.duration)));
    }
    if (o.has("hosts")) {
      const json& hs = o.array("hosts");
      for (size_t i = 0; i < hs.size(); ++i) {
        if (!hs[i].is_string())
          throw ConfigError(fmt::format("meta.hosts[{}]", i), "expected a host name");
        m.hosts.push_back(hs[i].get<std::string>());
      }
      if (m.enabled && m.hosts.empty())
        throw ConfigError("meta.hosts", "empty: no meta to run (set meta.enabled false instead)");
    } else {
      for (const auto& p : sc.zk.peers) m.hosts.push_back(p.host);
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < m.hosts.size(); ++i) {
      if (!seen.insert(m.hosts[i]).second) {
        throw ConfigError(fmt::format("meta.hosts[{}]", i),
                          fmt::format("two metas on host \"{}\"", m.hosts[i]));
      }
      ensure_host(m.hosts[i]);
    }
    if (o.has("startAt")) {
      const json& sa = o.at("startAt");
      if (!sa.is_object())
        throw ConfigError("meta.startAt", "expected an object: meta host -> start time");
      for (const auto& [h, v] : sa.items()) {
        std::string path = "meta.startAt." + h;
        if (!seen.count(h)) {
          throw ConfigError(path, fmt::format("no meta on host \"{}\" (meta.hosts)", h));
        }
        sim::Duration d = sim::json_duration(v, path);
        if (d < sim::Duration::zero()) throw ConfigError(path, "must not be negative");
        if (d >= sc.duration) {
          throw ConfigError(path, fmt::format("after the end of the run ({}): that meta would "
                                              "never start",
                                              sim::format_duration(sc.duration)));
        }
        m.start_at[h] = d;
      }
    }
  }

  if (top.has("gc")) {
    Obj o(top.at("gc"), "gc", {"zk"});
    if (o.has("zk")) {
      const json& g = o.at("zk");
      sc.gc_zk.enabled = true;
      if (g.is_string()) {
        sc.gc_zk.model_file = g.get<std::string>();
        if (sc.gc_zk.model_file.empty())
          throw ConfigError("gc.zk", "empty path (a gc-model.json from `zksim gcfit`)");
      } else {
        // {"model": F} alone, or {"pause": D, "interval": D} alone, or a model with either
        // overridden: e.g. durations fitted from a real GC log, gaps from the incident's own
        // statistics when the logged JVM collected at another rate.
        Obj go(g, "gc.zk", {"pause", "interval", "model", "comment"});
        if (go.has("model")) {
          sc.gc_zk.model_file = go.str("model", "");
          if (sc.gc_zk.model_file.empty())
            throw ConfigError("gc.zk.model", "empty path (a gc-model.json from `zksim gcfit`)");
        }
        if (!go.has("model") && (!go.has("pause") || !go.has("interval"))) {
          throw ConfigError("gc.zk",
                            "give a gc-model.json path (\"model\"), or both \"pause\" "
                            "and \"interval\"");
        }
        if (go.has("pause")) {
          sc.gc_zk.pause = sim::json_duration_dist(go.at("pause"), "gc.zk.pause");
          sc.gc_zk.has_pause = true;
        }
        if (go.has("interval")) {
          sc.gc_zk.interval = sim::json_duration_dist(go.at("interval"), "gc.zk.interval");
          sc.gc_zk.has_interval = true;
          if (!(sc.gc_zk.interval.quantile(0.5) > 0))
            throw ConfigError("gc.zk.interval", "the median gap must be more than 0");
        }
      }
    }
  }

  if (top.has("detector")) {
    const json& d = top.at("detector");
    if (d.is_boolean()) {
      sc.detector.enabled = d.get<bool>();
    } else {
      Obj o(d, "detector", {"interval", "rpcTimeout", "enabled"});
      sc.detector.enabled = o.boolean("enabled", true);
      sc.detector.interval = o.dur("interval", sc.detector.interval);
      sc.detector.rpc_timeout = o.dur("rpcTimeout", sc.detector.rpc_timeout);
      if (sc.detector.interval <= sim::Duration::zero())
        throw ConfigError("detector.interval", "must be positive");
    }
  }

  if (top.has("logs")) {
    Obj o(top.at("logs"), "logs", {"epoch", "tz"});
    if (o.has("epoch")) sc.wall_epoch_ns = parse_epoch(o.str("epoch", ""), "logs.epoch");
    if (o.has("tz")) sc.tz_offset_s = parse_tz(o.str("tz", ""), "logs.tz");
  } else {
    sc.wall_epoch_ns = sim::ns_from_civil(2025, 1, 1, 0, 0, 0);
  }

  if (top.has("faults")) {
    const json& fs = top.array("faults");
    for (size_t i = 0; i < fs.size(); ++i) {
      std::string fp = fmt::format("faults[{}]", i);
      FaultSpec f = parse_fault(fs[i], fp);
      // "*" (every host) only where a fault applies per link: the ends of a cut, a latency or
      // loss fault's links.
      bool per_link = f.kind == "cut" || f.kind == "latency" || f.kind == "loss";
      auto check_host = [&](const std::string& h, const char* key) {
        if (h == "*" && !(per_link && (f.kind != "cut" || std::string(key) != "host"))) {
          throw ConfigError(fp + "." + key,
                            fmt::format("\"*\" (every host) is not a host for a {} fault", f.kind));
        }
        if (!h.empty() && h != "*" && !sc.find_host(h)) {
          throw ConfigError(fp + "." + key, fmt::format("unknown host \"{}\"", h));
        }
      };
      check_host(f.host, "host");
      check_host(f.from, "from");
      check_host(f.to, "to");
      for (size_t g = 0; g < f.groups.size(); ++g) {
        for (const auto& h : f.groups[g]) {
          if (!sc.find_host(h))
            throw ConfigError(fmt::format("{}.groups[{}]", fp, g),
                              fmt::format("unknown host \"{}\"", h));
        }
      }
      if (!f.target.empty()) {
        bool ok = f.target == "zk:leader" || f.target == "meta:leader" || f.target == "zk:follower";
        for (const auto& p : sc.zk.peers) ok = ok || f.target == fmt::format("zk:{}", p.id);
        for (const auto& h : sc.meta.hosts) ok = ok || f.target == "meta:" + h;
        if (!ok) {
          throw ConfigError(fp + ".target",
                            fmt::format("unknown target \"{}\" (zk:<id>, meta:<host>, "
                                        "zk:leader, zk:follower, meta:leader)",
                                        f.target));
        }
        if (f.target.rfind("meta:", 0) == 0 && !sc.meta.enabled) {
          throw ConfigError(fp + ".target", "the scenario has no meta servers");
        }
      }
      if (f.at > sc.duration) throw ConfigError(fp + ".at", "after the end of the run");
      sc.faults.push_back(std::move(f));
    }
  }

  if (top.has("checks")) {
    Obj o(top.at("checks"), "checks",
          {"maxMetaLeaders", "maxDualLeader", "maxMetaUnavailable", "maxZkUnavailable",
           "metaLeaderWithinAfterHeal", "zkLeaderWithinAfterHeal"});
    Checks& c = sc.checks;
    if (o.has("maxMetaLeaders"))
      c.max_meta_leaders = static_cast<int>(o.integer("maxMetaLeaders", 1, 1, 100));
    if (o.has("maxDualLeader")) c.max_dual_leader = o.dur("maxDualLeader", {});
    if (o.has("maxMetaUnavailable")) c.max_meta_unavailable = o.dur("maxMetaUnavailable", {});
    if (o.has("maxZkUnavailable")) c.max_zk_unavailable = o.dur("maxZkUnavailable", {});
    if (o.has("metaLeaderWithinAfterHeal"))
      c.meta_leader_within_after_heal = o.dur("metaLeaderWithinAfterHeal", {});
    if (o.has("zkLeaderWithinAfterHeal"))
      c.zk_leader_within_after_heal = o.dur("zkLeaderWithinAfterHeal", {});
  }

  // Addresses: explicit, else the name.
  for (auto& h : sc.hosts) {
    if (h.address.empty()) h.address = h.name;
  }
  return sc;
}

namespace {
// One word for a POSIX shell: as is when it holds only characters no shell treats specially,
// else in single quotes (a single quote inside becomes '\'').
std::string shell_word(const std::string& w) {
  bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           (c != '\0' && std::strchr("@%+=:,./_-", c) != nullptr);
  });
  if (plain) return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

std::string run_command(const std::string& path, uint64_t seed,
                        const std::vector<std::string>& overrides) {
  std::string out = fmt::format("zksim run {} --seed {}", shell_word(path), seed);
  for (const auto& o : overrides) out += " --set " + shell_word(o);
  return out;
}

Scenario load(const std::string& path, const std::vector<std::string>& overrides) {
  json doc = sim::read_json_file(path, "scenario");
  try {
    for (const auto& o : overrides) apply_override(doc, o);
    std::string dir = std::filesystem::path(path).parent_path().string();
    return from_json(doc, path, dir.empty() ? "." : dir);
  } catch (const ConfigError& e) {
    throw e.in_file(path);
  }
}

json fault_to_json(const FaultSpec& f) {
  json j = json::object();
  j["at"] = sim::format_duration(f.at);
  j["kind"] = f.kind;
  if (f.duration) j["for"] = sim::format_duration(*f.duration);
  if (!f.target.empty()) j["target"] = f.target;
  if (!f.host.empty()) j["host"] = f.host;
  if (!f.groups.empty()) j["groups"] = f.groups;
  if (!f.from.empty()) j["from"] = f.from;
  if (!f.to.empty()) j["to"] = f.to;
  if (f.both) j["both"] = true;
  if (f.reject) j["reject"] = true;
  if (f.port != 0) j["port"] = f.port;
  if (f.kind == "latency") j["latency"] = sim::format_duration(f.extra_latency);
  if (f.kind == "loss") j["loss"] = f.loss;
  if (f.restart_after) j["restartAfter"] = sim::format_duration(*f.restart_after);
  if (!f.evidence.is_null()) j["evidence"] = f.evidence;
  if (!f.comment.empty()) j["comment"] = f.comment;
  return j;
}

}  // namespace scenario
