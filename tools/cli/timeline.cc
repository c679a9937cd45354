#include "tools/cli/timeline.h"

#include <fmt/format.h>

namespace cli {

std::optional<std::string> describe(const sim::Record& r, bool all) {
  const std::string& t = r.type;
  auto s = [&](const char* k) { return r.get_str(k); };
  auto i = [&](const char* k) { return r.get_int(k); };
  if (t == "fault.start") {
    const sim::Value* v = r.get("for_ms");
    std::string dur = v && std::holds_alternative<double>(*v)
                          ? fmt::format(" for {} ms", std::get<double>(*v))
                          : "";
    return fmt::format("FAULT  {}{}", s("what"), dur);
  }
  if (t == "fault.end") return fmt::format("HEAL   {}", s("what"));
  if (t == "fault.restart") return std::string("RESTART");
  if (t == "fault.skipped") return fmt::format("fault skipped: no {} at this instant", r.node);
  if (t == "zk.state") {
    std::string st = s("state");
    std::string ph = s("phase");
    std::string line = st;
    if (st != "LOOKING") line += " - " + ph;
    if (i("leader") >= 0 && st != "LOOKING")
      line += fmt::format("  (leader {}, epoch {})", i("leader"), i("epoch"));
    return line;
  }
  if (t == "zk.election")
    return fmt::format("election: {} with leader {} (took {} ms)", s("role"), i("leader"),
                       i("took_ms"));
  if (t == "zk.follower.exception")
    return fmt::format("Exception when following the leader ({})", s("cause"));
  if (t == "zk.leader.quorum_lost")
    return fmt::format("Not sufficient followers synced, only synced with sids: {}", s("synced"));
  if (t == "zk.session.expire")
    return fmt::format("Expiring session {}, timeout of {} ms exceeded", s("session"),
                       i("timeout_ms"));
  if (t == "zk.znode.delete" || t == "zk.znode.create") {
    return fmt::format("{} {} (session {})", t == "zk.znode.create" ? "create" : "delete",
                       s("path"), s("session"));
  }
  if (t == "client.state")
    return fmt::format("zk client {} --> {}{}", s("from"), s("to"),
                       s("server").empty() ? "" : " [" + s("server") + "]");
  if (t == "meta.quorum") return fmt::format("QuorumCluster {} --> {}", s("from"), s("to"));
  if (t == "meta.timer") return fmt::format("local session timer {} ({} ms)", s("action"), i("ms"));
  if (t == "meta.role")
    return fmt::format("role {}{}", s("role"),
                       i("seq") > 0 ? fmt::format(" (seq {})", i("seq")) : "");
  if (t == "meta.leader")
    return std::string(i("leading") ? "** serving as META LEADER **" : "** stopped leading **");
  if (t == "gc.pause") {
    const sim::Value* v = r.get("ms");
    double ms = v && std::holds_alternative<double>(*v) ? std::get<double>(*v) : 0;
    if (ms >= 1000 || all) return fmt::format("GC pause {:.1f} ms", ms);
    return std::nullopt;
  }
  if (all) {
    std::string line = t;
    for (const auto& f : r.fields) {
      line += " " + f.key + "=";
      if (auto p = std::get_if<std::string>(&f.value))
        line += *p;
      else if (auto p = std::get_if<int64_t>(&f.value))
        line += std::to_string(*p);
      else if (auto p = std::get_if<double>(&f.value))
        line += fmt::format("{}", *p);
      else
        line += std::get<bool>(f.value) ? "true" : "false";
    }
    return line;
  }
  return std::nullopt;
}

void TimelinePrinter::on_record(const sim::Record& r) {
  if (r.type == "detector.matrix" && !all_) {
    // Only changes of the detector's view are worth a line.
    std::string m = r.get_str("matrix");
    if (m == last_matrix_) return;
    last_matrix_ = m;
    if (printed_ >= max_) {
      ++skipped_;
      return;
    }
    fmt::print(out_, "  {:>14}  {:<14} detector: quorum matrix: {}{}\n", sim::format_time(r.t),
               r.node, m, r.get_int("leaders") > 1 ? "  <-- more than 1 leader" : "");
    ++printed_;
    return;
  }
  auto line = describe(r, all_);
  if (!line) return;
  if (printed_ >= max_) {
    ++skipped_;
    return;
  }
  fmt::print(out_, "  {:>14}  {:<14} {}\n", sim::format_time(r.t), r.node, *line);
  ++printed_;
}

void TimelinePrinter::finish(sim::Time) {
  if (skipped_)
    fmt::print(out_, "  ... {} more timeline lines (use --max-lines, or --trace for everything)\n",
               skipped_);
}

}  // namespace cli
