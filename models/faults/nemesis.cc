#include "models/faults/nemesis.h"

#include <fmt/format.h>

#include "sim/check.h"

namespace faults {

using scenario::FaultSpec;

namespace {

// " port 2888" for a port-selective link fault, nothing for a whole-link one.
std::string port_suffix(uint16_t port) {
  return port == 0 ? std::string() : fmt::format(" port {}", port);
}

}  // namespace

Nemesis::Nemesis(sim::Sim& sim, Resolver resolve) : sim_(sim), resolve_(std::move(resolve)) {
  size_t n = sim_.net.host_count();
  cuts_.assign(n * n, 0);
  down_.assign(n, 0);
}

sim::HostId Nemesis::host(const std::string& name) const {
  sim::HostId h = sim_.net.find_host(name);
  SIM_CHECK(h != sim::kNoHost, "unknown host {}", name);
  return h;
}

std::vector<sim::HostId> Nemesis::hosts_matching(const std::string& name) const {
  std::vector<sim::HostId> out;
  if (name == "*") {
    for (sim::HostId h = 0; h < sim_.net.host_count(); ++h) out.push_back(h);
  } else {
    out.push_back(host(name));
  }
  return out;
}

void Nemesis::cut(sim::HostId from, sim::HostId to, bool reject, int delta) {
  int& c = cuts_[from * sim_.net.host_count() + to];
  c += delta;
  SIM_CHECK(c >= 0, "link {}->{} healed more often than cut", from, to);
  sim_.net.set_link_up(from, to, c == 0, reject);
}

void Nemesis::cut(sim::HostId from, sim::HostId to, uint16_t port, bool reject, int delta) {
  if (port == 0) {
    cut(from, to, reject, delta);
    return;
  }
  int& c = port_cuts_[{from, to, port}];
  c += delta;
  SIM_CHECK(c >= 0, "port {} on link {}->{} healed more often than cut", port, from, to);
  sim_.net.set_port_up(from, to, port, c == 0, reject);
}

void Nemesis::schedule(const std::vector<FaultSpec>& faults) {
  for (size_t i = 0; i < faults.size(); ++i) {
    const FaultSpec& f = faults[i];
    sim::Time at = sim::Time::zero() + f.at;
    sim::Time end = f.duration ? at + *f.duration : at;
    if (f.restart_after) end = at + *f.restart_after;
    if (end > last_heal_) last_heal_ = end;
    sim_.engine.at(at, [this, i, f] { fire(i, f); });
  }
}

void Nemesis::fire(size_t index, const FaultSpec& f) {
  const sim::Time now = sim_.now();
  std::string node;  // what the fault is shown on
  std::string detail;
  std::function<void()> undo;

  // The fault's target process (a role resolved now), or null when the role has no holder: the
  // fault is then skipped, and says so.
  auto target = [&]() -> sim::Process* {
    sim::Process* p = resolve_(f.target);
    if (!p) {
      sim::Rec(sim_.trace, now, "fault.skipped", f.target)
          .f("kind", f.kind)
          .f("index", static_cast<int64_t>(index))
          .emit();
    }
    return p;
  };
  // The host a fault names, or its target process's; empty when skipped.
  auto fault_host = [&]() -> std::string {
    if (!f.host.empty()) return f.host;
    sim::Process* p = target();
    return p ? sim_.net.host_name(p->host()) : std::string();
  };

  if (f.kind == "ifdown") {
    std::string hname = fault_host();
    if (hname.empty()) return;
    sim::HostId h = host(hname);
    node = hname;
    detail = fmt::format("ifdown {}", hname);
    if (down_[h]++ == 0) sim_.net.set_host_up(h, false);
    undo = [this, h] {
      if (--down_[h] == 0) sim_.net.set_host_up(h, true);
    };
  } else if (f.kind == "partition") {
    std::vector<std::vector<std::string>> names = f.groups;
    std::string isolated;
    if (names.empty()) {
      // One host against all the others (its own loopback traffic goes on): a switch port or a
      // cable, unlike ifdown, which takes the host's address away.
      std::string hname = fault_host();
      if (hname.empty()) return;
      isolated = hname;
      names = {{hname}, {}};
      for (sim::HostId h = 0; h < sim_.net.host_count(); ++h)
        if (sim_.net.host_name(h) != hname) names[1].push_back(sim_.net.host_name(h));
    }
    std::vector<std::vector<sim::HostId>> groups;
    for (const auto& g : names) {
      std::vector<sim::HostId> ids;
      for (const auto& n : g) ids.push_back(host(n));
      groups.push_back(std::move(ids));
    }
    size_t n = sim_.net.host_count();
    std::vector<size_t> group(n, groups.size());
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      for (sim::HostId h : groups[gi]) group[h] = gi;
    }
    std::vector<std::pair<sim::HostId, sim::HostId>> links;
    for (sim::HostId a = 0; a < n; ++a) {
      for (sim::HostId b = 0; b < n; ++b) {
        if (group[a] != group[b]) links.emplace_back(a, b);
      }
    }
    uint16_t port = f.port;
    for (auto [a, b] : links) cut(a, b, port, f.reject, +1);
    node = isolated.empty() ? "net" : isolated;  // the isolated host, as for ifdown
    std::string gs;
    for (const auto& g : names) {
      gs += gs.empty() ? "" : " | ";
      for (size_t k = 0; k < g.size(); ++k) gs += (k ? "," : "") + g[k];
    }
    detail = fmt::format("partition {}{}", gs, port_suffix(port));
    bool reject = f.reject;
    undo = [this, links, port, reject] {
      for (auto [a, b] : links) cut(a, b, port, reject, -1);
    };
  } else if (f.kind == "cut") {
    std::vector<std::pair<sim::HostId, sim::HostId>> links;
    for (sim::HostId a : hosts_matching(f.from)) {
      for (sim::HostId b : hosts_matching(f.to)) {
        if (a == b) continue;
        links.emplace_back(a, b);
        if (f.both) links.emplace_back(b, a);
      }
    }
    uint16_t port = f.port;
    for (auto [a, b] : links) cut(a, b, port, f.reject, +1);
    node = "net";
    detail = fmt::format("cut {} {} {}{}", f.from, f.both ? "<->" : "->", f.to, port_suffix(port));
    bool reject = f.reject;
    undo = [this, links, port, reject] {
      for (auto [a, b] : links) cut(a, b, port, reject, -1);
    };
  } else if (f.kind == "latency" || f.kind == "loss") {
    std::vector<std::pair<sim::HostId, sim::HostId>> links;
    std::string from = f.from.empty() ? (f.host.empty() ? "*" : f.host) : f.from;
    std::string to = f.to.empty() ? "*" : f.to;
    for (sim::HostId a : hosts_matching(from)) {
      for (sim::HostId b : hosts_matching(to)) {
        links.emplace_back(a, b);
        if (f.to.empty() && !f.host.empty()) links.emplace_back(b, a);  // a host's both directions
      }
    }
    for (auto [a, b] : links) sim_.net.set_link_extra(a, b, f.extra_latency, f.loss);
    node = "net";
    detail = f.kind == "latency" ? fmt::format("latency +{} {} -> {}",
                                               sim::format_duration(f.extra_latency), from, to)
                                 : fmt::format("loss {} {} -> {}", f.loss, from, to);
    undo = [this, links] {
      for (auto [a, b] : links) sim_.net.set_link_extra(a, b, sim::Duration::zero(), 0);
    };
  } else {
    sim::Process* p = target();
    if (!p) return;
    node = p->name();
    if (f.kind == "pause") {
      detail = fmt::format("pause {}", p->name());
      p->pause();
      undo = [p] { p->resume(); };
    } else if (f.kind == "crash") {
      detail = fmt::format("crash {}", p->name());
      p->crash();
      undo = [p] { p->restart(); };  // used when the crash has a duration ("for")
      if (f.restart_after) {
        sim::Duration after = *f.restart_after;
        sim_.engine.after(after, [this, p, index] {
          sim::Rec(sim_.trace, sim_.now(), "fault.restart", p->name())
              .f("index", static_cast<int64_t>(index))
              .emit();
          p->restart();
        });
      }
    } else if (f.kind == "restart") {
      // A running process is killed and started again (systemctl restart); a crashed one started.
      detail = fmt::format("restart {}", p->name());
      if (p->alive()) p->crash();
      p->restart();
    }
  }

  uint64_t span = sim_.trace.next_span_id();
  sim::Rec start(sim_.trace, now, "fault.start", node);
  start.f("kind", f.kind).f("index", static_cast<int64_t>(index)).f("what", detail);
  if (f.duration) start.f("for_ms", f.duration->to_ms_f());
  if (f.duration && undo) {
    start.begin("fault", detail, span);
  }
  start.emit();
  if (f.duration && undo) {
    sim_.engine.after(*f.duration, [this, undo, node, span, index, detail] {
      sim::Rec(sim_.trace, sim_.now(), "fault.end", node)
          .f("index", static_cast<int64_t>(index))
          .f("what", detail)
          .end("fault", span)
          .emit();
      undo();
    });
  }
}

}  // namespace faults
