#include "models/jvm/gc.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sim/config.h"

namespace jvm {

namespace {
sim::Duration secs(double s) {
  return sim::Duration::ns(static_cast<int64_t>(std::max(0.0, s) * 1e9));
}
}  // namespace

GcProcess::GcProcess(sim::Sim& sim, sim::Process& target, GcModel model, std::string log_file)
    : sim_(sim),
      target_(target),
      model_(std::move(model)),
      log_file_(std::move(log_file)),
      rng_(sim.rng("gc/" + target.name())) {}

void GcProcess::start() {
  schedule_next();
}

void GcProcess::schedule_next() {
  // Gaps are start-to-start (as `zksim gcfit` measures them); the first gap starts at t=0.
  sim::Duration gap = secs(model_.interval.sample(rng_));
  sim::Duration wait = std::max(sim::Duration::zero(), gap - last_len_);
  // Pauses start on a whole millisecond and last whole microseconds: the resolution of a JDK 8
  // GC log (date stamps in ms, lengths in 0.1 us), so the log says exactly what happened and a
  // replay from it reproduces the run. The shift (< 1 ms) is far below any timeout's scale.
  // Two pauses never start in the same millisecond (a GC log could not tell them apart): a gap
  // of 0 (a model fitted from pauses logged at one instant) or a JVM that is down when its pause
  // comes moves the next start on, never back to the same instant.
  constexpr int64_t kMs = 1000000;
  int64_t at = (sim_.now() + wait).ns();
  at = (at + kMs - 1) / kMs * kMs;
  if (last_start_ns_ >= 0) at = std::max(at, last_start_ns_ + kMs);
  last_start_ns_ = at;
  sim_.engine.at(sim::Time::from_ns(at), [this] {
    if (!target_.alive()) {
      schedule_next();  // a crashed JVM has no heap to collect; keep the renewal clock going
      return;
    }
    sim::Duration len = secs(model_.pause.sample(rng_));
    len = sim::Duration::ns((len.count_ns() + 500) / 1000 * 1000);
    last_len_ = len;
    uint64_t id = sim_.trace.next_span_id();
    sim::Rec(sim_.trace, sim_.now(), "gc.pause", target_.name())
        .f("ms", len.to_ms_f())
        .begin("gc", "GC pause", id)
        .emit();
    target_.pause();
    ++pauses_;
    total_ += len;
    sim::Time start = sim_.now();
    sim_.engine.after(len, [this, id, start, len] {
      sim::Rec(sim_.trace, sim_.now(), "gc.resume", target_.name()).end("gc", id).emit();
      log_pause(start, len);
      target_.resume();
      schedule_next();
    });
  });
}

void GcProcess::log_pause(sim::Time start, sim::Duration len) {
  auto& logs = sim_.logs;
  if (log_file_.empty() || !logs.enabled()) return;
  // JDK 8 prints the record when the pause ends, stamped with its start: the date in local time
  // with milliseconds and the zone offset, the JVM's uptime in seconds (3 decimals), the length
  // in seconds (7 decimals). Integer arithmetic: no floating-point formatting in a log line.
  auto c = sim::civil_from_ns(logs.local_ns(start));
  int64_t off = logs.tz_offset_s;
  char sign = off < 0 ? '-' : '+';
  off = off < 0 ? -off : off;
  int64_t up_ms = std::max<int64_t>(0, (start - target_.started_at()).count_ns() / 1000000);
  int64_t len_100ns = (len.count_ns() + 50) / 100;
  std::string line = fmt::format(
      "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}{}{:02d}{:02d}: {}.{:03d}: [GC pause (G1 "
      "Evacuation Pause) (young), {}.{:07d} secs]",
      c.year, c.month, c.day, c.hour, c.minute, c.second, c.nanos / 1000000, sign, off / 3600,
      off % 3600 / 60, up_ms / 1000, up_ms % 1000, len_100ns / 10000000, len_100ns % 10000000);
  logs.line(sim_.net.host_name(target_.host()), log_file_, line);
}

namespace {

// One fitted series of a gc-model.json -> a distribution in seconds.
sim::Dist series_dist(const nlohmann::json& s, const std::string& path) {
  using sim::ConfigError;
  if (!s.is_object() || !s.contains("family"))
    throw ConfigError(path, "expected a fitted series with a \"family\"");
  std::string fam = s.at("family").get<std::string>();
  const nlohmann::json p = s.value("params", nlohmann::json::object());
  auto num = [&](const char* k) {
    if (!p.contains(k) || !p.at(k).is_number())
      throw ConfigError(path + ".params." + k, "missing number");
    return p.at(k).get<double>();
  };
  sim::Dist d;
  if (fam == "lognormal") {
    d = sim::Dist::lognormal(num("mu"), num("sigma"));
  } else if (fam == "gamma") {
    d = sim::Dist::gamma(num("shape"), num("scale"));
  } else if (fam == "weibull") {
    d = sim::Dist::weibull(num("shape"), num("scale"));
  } else if (fam == "exponential") {
    d = sim::Dist::exponential(num("mean"));
  } else if (fam == "empirical") {
    const auto& q = s.at("empirical").at("quantiles");
    std::vector<std::pair<double, double>> t;
    for (const auto& e : q) t.emplace_back(e.at(0).get<double>(), e.at(1).get<double>());
    if (t.size() < 2) throw ConfigError(path + ".empirical.quantiles", "needs at least two points");
    d = sim::Dist::empirical(std::move(t));
  } else {
    throw ConfigError(path + ".family", "unknown family \"" + fam + "\"");
  }
  d.lo = 0;
  d.hi = sim::kMaxDrawnSeconds;
  return d;
}

}  // namespace

GcModel load_gc_model(const std::string& path) {
  nlohmann::json j = sim::read_json_file(path, "GC model");
  try {
    if (!j.contains("kinds") || !j.at("kinds").is_object() || j.at("kinds").empty()) {
      throw sim::ConfigError("kinds",
                             "no fitted kinds (expected a gc-model.json from `zksim gcfit`)");
    }
    const auto& kinds = j.at("kinds");
    std::string kind = kinds.contains("young") ? "young" : kinds.begin().key();
    const auto& k = kinds.at(kind);
    GcModel m;
    m.pause = series_dist(k.at("durations"), "kinds." + kind + ".durations");
    if (!k.contains("gaps") || k.at("gaps").is_null()) {
      throw sim::ConfigError("kinds." + kind + ".gaps", "the model has no gap distribution");
    }
    m.interval = series_dist(k.at("gaps"), "kinds." + kind + ".gaps");
    if (!(m.interval.quantile(0.5) > 0)) {
      throw sim::ConfigError("kinds." + kind + ".gaps",
                             "the median gap is 0 (pauses logged at one instant): not a rate a "
                             "JVM can run at");
    }
    m.source = path + " (" + kind + ")";
    return m;
  } catch (const sim::ConfigError& e) {
    throw e.in_file(path);
  } catch (const nlohmann::json::exception& e) {
    throw sim::ConfigError("", fmt::format("{}: malformed GC model: {}", path, e.what()));
  }
}

}  // namespace jvm
