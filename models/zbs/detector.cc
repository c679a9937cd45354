#include "models/zbs/detector.h"

#include <fmt/format.h>

#include "sim/check.h"
#include "sim/textlog.h"
#include "sim/trace.h"

namespace zbs {

Detector::Detector(sim::Sim& sim, sim::HostId host, std::vector<Meta*> metas, DetectorConfig cfg)
    : sim::Process(sim, "detector", host), cfg_(cfg), tick_timer_(*this), deadline_(*this) {
  SIM_CHECK(!metas.empty(), "detector needs metas to poll");
  for (Meta* m : metas) targets_.push_back(Target{m, std::nullopt, false});
}

void Detector::start() {
  on_start();
}

void Detector::on_start() {
  for (auto& t : targets_) {
    t.conn.reset();
    t.connected = false;
  }
  in_tick_ = false;
  tick();
}

void Detector::dlog(const std::string& msg) {
  if (!sim().logs.enabled()) return;
  int64_t ns = sim().logs.local_ns(now());
  if (ns <= last_log_ns_) ns = last_log_ns_ + 1000;
  last_log_ns_ = ns;
  sim::CivilTime c = sim::civil_from_ns(ns);
  sim().logs.line(
      "detector", "detector.log",
      fmt::format("{:04d}/{:02d}/{:02d} {:02d}:{:02d}:{:02d}.{:06d} {}", c.year, c.month, c.day,
                  c.hour, c.minute, c.second, static_cast<int>(c.nanos / 1000), msg));
}

void Detector::tick() {
  ++tick_id_;
  in_tick_ = true;
  answers_.assign(targets_.size(), Answer::Waiting);
  deadline_.arm(cfg_.rpc_timeout, [this] {
    for (size_t i = 0; i < answers_.size(); ++i) {
      if (answers_[i] == Answer::Waiting) fail(i);
    }
    maybe_finish();
  });
  for (size_t i = 0; i < targets_.size(); ++i) ask(i);
}

void Detector::ask(size_t i) {
  Target& t = targets_[i];
  uint64_t key = tick_id_ * 1024 + i;
  if (cfg_.management_network) {
    Meta* m = t.meta;
    uint64_t inc = m->incarnation();
    sim::Duration lat = cfg_.management_latency;
    sim::Sim* s = &sim();
    Detector* self = this;
    s->engine.after(lat, [s, m, inc, lat, key, self] {
      if (!m->alive() || m->incarnation() != inc) return;
      m->deliver([s, m, lat, key, self] {
        MetaSummary sum{m->is_leader(), m->quorum_state(), m->seq()};
        s->engine.after(lat, [self, key, sum] {
          self->deliver([self, key, sum] { self->on_meta_summary(0, key, sum); });
        });
      });
    });
    return;
  }
  if (t.conn && t.connected) {
    Meta* m = t.meta;
    sim::ConnId c = *t.conn;
    sim::ProcId me = id();
    sim().net.send(
        c, *this, [m, c, me, key] { m->serve_summary(c, me, key); }, "GetMetaSummary");
    return;
  }
  if (t.conn) return;  // still connecting: the request goes out when it completes
  t.conn = sim().net.connect(*this, t.meta->host(), cfg_.port,
                             [this, i](sim::ConnId c, sim::NetError e) {
                               Target& t = targets_[i];
                               if (!t.conn || *t.conn != c) return;
                               if (e != sim::NetError::Ok) {
                                 t.conn.reset();
                                 if (in_tick_ && answers_[i] == Answer::Waiting) {
                                   fail(i);
                                   maybe_finish();
                                 }
                                 return;
                               }
                               t.connected = true;
                               sim().net.on_close(c, *this, [this, i, c](sim::NetError) {
                                 Target& t = targets_[i];
                                 if (!t.conn || *t.conn != c) return;
                                 t.conn.reset();
                                 t.connected = false;
                                 if (in_tick_ && answers_[i] == Answer::Waiting) {
                                   fail(i);
                                   maybe_finish();
                                 }
                               });
                               if (in_tick_ && answers_[i] == Answer::Waiting) ask(i);
                             });
}

void Detector::fail(size_t i) {
  answers_[i] = Answer::Failed;
  Target& t = targets_[i];
  if (t.conn) sim().net.close(*t.conn, *this);
  t.conn.reset();
  t.connected = false;
  dlog(fmt::format("failed to get meta summary for meta {}, connection is shut down", i));
}

void Detector::on_meta_summary(sim::ConnId conn, uint64_t key, const MetaSummary& s) {
  size_t i = key % 1024;
  if (key / 1024 != tick_id_ || !in_tick_ || i >= targets_.size()) return;
  if (answers_[i] != Answer::Waiting) return;
  if (!cfg_.management_network && (!targets_[i].conn || *targets_[i].conn != conn)) return;
  answers_[i] = s.is_leader ? Answer::Leader : Answer::NotLeader;
  maybe_finish();
}

void Detector::maybe_finish() {
  if (!in_tick_) return;
  for (Answer a : answers_) {
    if (a == Answer::Waiting) return;
  }
  finish();
}

void Detector::finish() {
  in_tick_ = false;
  deadline_.cancel();
  ++ticks_;
  int leaders = 0, failed = 0;
  std::string m = "[";
  for (size_t i = 0; i < answers_.size(); ++i) {
    if (i > 0) m += " ";
    m += answers_[i] == Answer::Leader ? "L" : "X";
    leaders += answers_[i] == Answer::Leader;
    failed += answers_[i] == Answer::Failed;
  }
  m += "]";
  last_matrix_ = m;
  if (leaders > 1) {
    ++multi_;
    dlog(fmt::format("more than 1 leader appear at this tick, cnt={}", leaders));
  }
  dlog("quorum matrix: " + m);
  sim::Rec(sim().trace, now(), "detector.matrix", name())
      .f("matrix", m)
      .f("leaders", leaders)
      .f("failed", failed)
      .emit();
  tick_timer_.arm(cfg_.interval, [this] { tick(); });
}

}  // namespace zbs
