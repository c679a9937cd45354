#include "models/world/world.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "models/faults/nemesis.h"
#include "models/jvm/gc.h"
#include "models/zbs/detector.h"
#include "models/zbs/meta.h"
#include "models/zk/config.h"
#include "models/zk/peer.h"
#include "sim/config.h"
#include "sim/sim.h"

namespace world {

namespace {

struct File {
  std::FILE* f = nullptr;
  std::string path;
  const char* what;
  File(const std::string& p, const char* w) : path(p), what(w) {
    if (path.empty()) return;
    f = std::fopen(path.c_str(), "w");
    if (!f) throw sim::ConfigError("", fmt::format("cannot write {} file {}", what, path));
  }
  // Closes the file; a write that failed (a full disk) is an error, not a silently short file.
  void close() {
    if (!f) return;
    bool ok = std::fflush(f) == 0 && !std::ferror(f);
    int err = errno;
    ok = std::fclose(f) == 0 && ok;
    f = nullptr;
    if (!ok)
      throw sim::ConfigError(
          "", fmt::format("cannot write {} file {}: {}", what, path, std::strerror(err)));
  }
  ~File() {
    if (f) std::fclose(f);
  }
};

zk::Config zk_config(const scenario::ZkSpec& z) {
  zk::Config c;
  c.tick = z.tick;
  c.init_limit = z.init_limit;
  c.sync_limit = z.sync_limit;
  c.min_session_timeout = z.min_session_timeout;
  c.max_session_timeout = z.max_session_timeout;
  c.write_rate_per_s = z.write_rate_per_s;
  c.version = z.version;
  return c;
}

jvm::GcModel fitted_gc_model(const std::string& file, const std::string& dir) {
  // Fuzz and sweep run thousands of worlds from one scenario: resolve and parse each model file
  // once per process (resolving costs a stat per JVM per run). The cache is keyed by the file as
  // written and the scenario's folder, guarded for the worker threads; entries never change.
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, jvm::GcModel> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_pair(file, dir);
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::filesystem::path p(file);
    if (p.is_relative()) {
      std::filesystem::path beside = std::filesystem::path(dir) / p;
      if (std::filesystem::exists(beside)) p = beside;
    }
    it = cache.emplace(std::move(key), jvm::load_gc_model(p.string())).first;
  }
  return it->second;
}

jvm::GcModel gc_model(const scenario::GcSpec& g, const std::string& dir) {
  if (g.model_file.empty()) return jvm::GcModel{g.pause, g.interval, "inline"};
  jvm::GcModel m = fitted_gc_model(g.model_file, dir);
  if (g.has_pause) m.pause = g.pause;
  if (g.has_interval) m.interval = g.interval;
  if (g.has_pause || g.has_interval) {
    m.source += g.has_pause && g.has_interval ? " (pause and interval: inline)"
                : g.has_pause                 ? " (pause: inline)"
                                              : " (interval: inline)";
  }
  return m;
}

}  // namespace

RunResult run(const scenario::Scenario& sc, const RunOptions& opt) {
  RunResult res;
  res.seed = opt.seed.value_or(sc.seed);
  sim::Sim s(res.seed);

  File trace_file(opt.trace_path, "trace");
  File perfetto_file(opt.perfetto_path, "Perfetto trace");
  std::unique_ptr<sim::JsonlSink> jsonl;
  std::unique_ptr<sim::PerfettoSink> perfetto;
  if (trace_file.f) {
    jsonl = std::make_unique<sim::JsonlSink>(trace_file.f);
    s.trace.add_sink(jsonl.get());
  }
  if (perfetto_file.f) {
    perfetto = std::make_unique<sim::PerfettoSink>(perfetto_file.f);
    s.trace.add_sink(perfetto.get());
  }
  checks::Observer observer(sc);
  s.trace.add_sink(&observer);
  sim::VectorSink keep;
  if (opt.keep_records) s.trace.add_sink(&keep);
  for (sim::Sink* extra : opt.extra_sinks) s.trace.add_sink(extra);
  // With --logs, the faults as applied (roles resolved, restarts) go to logs_dir/zksim-run.json so
  // that `zksim replay` can compare what it infers from the logs with what was injected.
  nlohmann::json applied = nlohmann::json::array();
  sim::FnSink fault_sink([&applied](const sim::Record& r) {
    if (r.type.rfind("fault.", 0) != 0) return;
    nlohmann::json f{{"t_ns", r.t.since_start().count_ns()}, {"type", r.type}, {"node", r.node}};
    for (const auto& fld : r.fields) std::visit([&](const auto& v) { f[fld.key] = v; }, fld.value);
    applied.push_back(std::move(f));
  });
  if (!opt.logs_dir.empty()) s.trace.add_sink(&fault_sink);
  s.trace.set_messages(opt.messages);
  s.trace.set_hashing(opt.hash);
  if (!opt.logs_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.logs_dir, ec);
    if (ec)
      throw sim::ConfigError(
          "", fmt::format("cannot create logs directory {}: {}", opt.logs_dir, ec.message()));
    s.logs.set_dir(opt.logs_dir);
    s.logs.wall_epoch_ns = sc.wall_epoch_ns;
    s.logs.tz_offset_s = sc.tz_offset_s;
  }

  // Network: every host on one switched LAN.
  s.net.set_default_link(sim::LinkParams{sc.latency, sc.loss});
  for (const auto& h : sc.hosts) {
    sim::HostId id = s.net.add_host(h.name);
    s.net.set_host_address(id, h.address);
  }

  // ZooKeeper ensemble.
  zk::Config zcfg = zk_config(sc.zk);
  std::vector<zk::PeerSpec> ensemble;
  for (const auto& p : sc.zk.peers) ensemble.push_back(zk::PeerSpec{p.id, p.host});
  std::vector<std::unique_ptr<zk::Peer>> peers;
  for (const auto& p : sc.zk.peers)
    peers.push_back(std::make_unique<zk::Peer>(s, zcfg, ensemble, p.id));

  // Meta servers, each with its ZooKeeper C client pointed at every peer.
  std::vector<std::unique_ptr<zbs::Meta>> metas;
  if (sc.meta.enabled) {
    zbs::MetaConfig mc;
    mc.session_timeout = sc.meta.session_timeout;
    mc.local_timer = sc.meta.local_timer;
    mc.rejoin_delay = sc.meta.rejoin_delay;
    mc.election_path = sc.meta.election_path;
    mc.zookeeper_2466_double_advance = sc.meta.double_advance;
    mc.old_34_client = sc.meta.old_34_client;
    for (const auto& p : sc.zk.peers) mc.servers.push_back(zk::ServerAddr{p.host, zk::kClientPort});
    for (const auto& h : sc.meta.hosts) {
      metas.push_back(std::make_unique<zbs::Meta>(s, s.net.find_host(h), mc));
    }
  }
  std::unique_ptr<zbs::Detector> detector;
  if (sc.detector.enabled && opt.detector && !metas.empty()) {
    std::vector<zbs::Meta*> ms;
    for (auto& m : metas) ms.push_back(m.get());
    zbs::DetectorConfig dc;
    dc.interval = sc.detector.interval;
    dc.rpc_timeout = sc.detector.rpc_timeout;
    // The detector runs on a host of its own (an operator's box on the same LAN).
    sim::HostId dh = s.net.add_host("detector");
    detector = std::make_unique<zbs::Detector>(s, dh, ms, dc);
  }

  // GC pauses on every ZooKeeper JVM.
  std::vector<std::unique_ptr<jvm::GcProcess>> gcs;
  std::string gc_source;
  if (sc.gc_zk.enabled) {
    jvm::GcModel model = gc_model(sc.gc_zk, sc.dir);
    gc_source = model.source;
    // zkServer.sh setups log GC to $ZOO_LOG_DIR/zookeeper_gc.log (-Xloggc), beside zookeeper.log.
    for (auto& p : peers)
      gcs.push_back(std::make_unique<jvm::GcProcess>(s, *p, model, "zookeeper_gc.log"));
  }

  // Faults, with roles resolved when each fires.
  auto resolve = [&](const std::string& target) -> sim::Process* {
    if (target == "zk:leader") {
      zk::Peer* best = nullptr;
      for (auto& p : peers) {
        if (p->state() != zk::Peer::State::Leading) continue;
        if (!best || p->epoch() > best->epoch()) best = p.get();
      }
      return best;
    }
    if (target == "zk:follower") {
      for (auto& p : peers) {
        if (p->state() == zk::Peer::State::Following) return p.get();
      }
      return nullptr;
    }
    if (target == "meta:leader") {
      for (auto& m : metas) {
        if (m->is_leader()) return m.get();
      }
      return nullptr;
    }
    return s.find_process(target);
  };
  faults::Nemesis nemesis(s, resolve);
  nemesis.schedule(sc.faults);
  res.last_heal = nemesis.last_heal();
  if (!sc.faults.empty()) observer.set_last_heal(nemesis.last_heal());

  for (auto& p : peers) p->start();
  for (auto& m : metas) {
    sim::Duration delay;
    if (auto at = sc.meta.start_at.find(s.net.host_name(m->host())); at != sc.meta.start_at.end()) {
      delay = at->second;
    } else if (sc.meta.start_jitter > sim::Duration::zero()) {
      sim::Rng r = s.rng("world/start/" + m->name());
      delay = sim::Duration::ns(
          static_cast<int64_t>(r.below(static_cast<uint64_t>(sc.meta.start_jitter.count_ns()))));
    }
    zbs::Meta* mp = m.get();
    s.engine.after(delay, [mp] { mp->start(); });
  }
  if (detector) detector->start();
  for (auto& g : gcs) g->start();

  const sim::Time end = sim::Time::zero() + sc.duration;
  if (opt.stop_on_unsafe) {
    // Run in slices so a safety violation ends the run early.
    while (s.now() < end && !observer.unsafe()) {
      sim::Time next = std::min(end, s.now() + sim::Duration::s(1));
      s.engine.run(next);
    }
  } else {
    s.engine.run(end);
  }
  s.trace.finish(s.now());
  s.logs.flush();
  trace_file.close();
  perfetto_file.close();

  res.trace_hash = opt.hash ? s.trace.hash_hex() : std::string();
  res.events = s.engine.events_processed();
  res.records = s.trace.count();
  res.sim_time = s.now().since_start();
  res.metrics = observer.metrics();
  res.violations = observer.violations();
  res.probes = s.probes;
  if (opt.keep_records) res.records_kept = std::move(keep.records);
  if (!opt.logs_dir.empty()) {
    nlohmann::json rec{{"schema", "zksim.run/1"},      {"seed", res.seed},
                       {"trace_hash", res.trace_hash}, {"faults_applied", applied},
                       {"scenario", sc.doc},           {"metrics", to_json(res)["metrics"]}};
    if (!gc_source.empty()) rec["gc_model"] = gc_source;
    // Where the scenario's relative paths (a GC model) resolve: `replay --faults record` reruns
    // the recorded scenario from here.
    std::error_code ec;
    auto dir = std::filesystem::absolute(sc.dir.empty() ? "." : sc.dir, ec);
    if (!ec) rec["scenario_dir"] = dir.lexically_normal().string();
    std::ofstream out(std::filesystem::path(opt.logs_dir) / "zksim-run.json");
    out << rec.dump(1) << "\n";
    if (!out)
      throw sim::ConfigError("", fmt::format("cannot write {}/zksim-run.json", opt.logs_dir));
  }
  return res;
}

nlohmann::json to_json(const RunResult& r) {
  using nlohmann::json;
  auto ms = [](sim::Duration d) { return d.to_ms_f(); };
  auto win = [&](const checks::WindowStats& w) {
    return json{{"count", w.count}, {"total_ms", ms(w.total)}, {"max_ms", ms(w.max)}};
  };
  auto windows = [&](const std::vector<checks::Window>& ws) {
    json a = json::array();
    for (const auto& w : ws)
      a.push_back(json{{"start_ms", ms(w.begin.since_start())}, {"length_ms", ms(w.length())}});
    return a;
  };
  const auto& m = r.metrics;
  json j;
  j["seed"] = r.seed;
  j["trace_hash"] = r.trace_hash;
  j["events"] = r.events;
  j["records"] = r.records;
  j["sim_time_ms"] = ms(r.sim_time);
  j["wall_ms"] = r.wall_ms;
  json meta;
  meta["dual_leader"] = win(m.meta_dual);
  meta["dual_leader"]["windows"] = windows(m.meta_dual_windows);
  meta["unavailable"] = win(m.meta_unavailable);
  meta["unavailable"]["windows"] = windows(m.meta_gap_windows);
  meta["leader_changes"] = m.meta_leader_changes;
  meta["stops"] = m.meta_failovers;
  meta["recovery_after_heal_ms"] =
      m.meta_recovery_after_heal ? json(ms(*m.meta_recovery_after_heal)) : json(nullptr);
  json zk;
  zk["elections"] = m.zk_elections;
  zk["unavailable"] = win(m.zk_unavailable);
  zk["unavailable"]["windows"] = windows(m.zk_gap_windows);
  zk["follower_exceptions"] = m.zk_follower_exceptions;
  zk["session_expirations"] = m.zk_session_expirations;
  zk["recovery_after_heal_ms"] =
      m.zk_recovery_after_heal ? json(ms(*m.zk_recovery_after_heal)) : json(nullptr);
  j["metrics"] = json{{"meta", meta}, {"zk", zk}, {"gc", json{{"pauses", m.gc_pauses}}}};
  j["violations"] = r.violations;
  json probes = json::object();
  for (const auto& [name, n] : r.probes.by_name()) probes[name] = n;
  j["probes"] = probes;
  return j;
}

}  // namespace world
