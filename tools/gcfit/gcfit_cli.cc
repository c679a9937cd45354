#include "tools/gcfit/gcfit_cli.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <fstream>
#include <memory>
#include <ostream>

#include "tools/gcfit/fit.h"
#include "tools/gcfit/model.h"
#include "tools/gcfit/parser.h"
#include "tools/gcfit/seed.h"

namespace zksim::gcfit {

using nlohmann::json;

namespace {

constexpr const char* kSeedCommand =
    "rg 'GC pause' | awk '{print $(NF-1)}' | sort -n | python3 -c '...sum/avg/min/max/count'";

std::string kinds_breakdown(const ParseStats& st) {
  std::string s;
  for (int k = 0; k < kKindCount; ++k) {
    if (st.by_kind[k] == 0) continue;
    if (!s.empty()) s += ", ";
    s += fmt::format("{} {}", kind_name(static_cast<Kind>(k)), st.by_kind[k]);
  }
  return s.empty() ? "none" : s;
}

std::string format_name(const ParseStats& st) {
  if (st.unified && st.preunified) return "mixed formats";
  if (st.unified) return "unified (JDK 9+)";
  if (st.preunified) return "JDK 6-8";
  return "unknown format";
}

json stats_json(const ParseStats& st) {
  json by = json::object();
  for (int k = 0; k < kKindCount; ++k)
    by[std::string(kind_name(static_cast<Kind>(k)))] = st.by_kind[k];
  json ex = json::array();
  for (const auto& [line, text] : st.skipped_examples)
    ex.push_back(json{{"line", line}, {"text", text}});
  return json{{"path", st.path},
              {"format", format_name(st)},
              {"collector", st.collector},
              {"bytes", st.bytes},
              {"lines", st.lines},
              {"pauses", st.pauses},
              {"by_kind", by},
              {"ignored_lines", st.ignored_lines},
              {"skipped_lines", st.skipped_lines},
              {"skipped_examples", ex},
              {"abandoned_entries", st.abandoned_entries},
              {"unknown_pauses", st.unknown_pauses},
              {"dates", st.dates},
              {"warnings", st.warnings}};
}

std::string csv_quote(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"') r += '"';
    r += c;
  }
  return r + "\"";
}

std::string num(double v) {
  return fmt::format("{:.6g}", v);
}

void print_series_row(std::ostream& out, const std::string& kind, const char* what, const json& s) {
  const json& sm = s["summary"];
  std::string params = s["family"].get<std::string>();
  Distribution d;
  parse_family(params, d.family);
  const json& p = s["params"];
  if (p.contains("mu")) d.mu = p["mu"];
  if (p.contains("sigma")) d.sigma = p["sigma"];
  if (p.contains("shape")) d.shape = p["shape"];
  if (p.contains("scale")) d.scale = p["scale"];
  if (p.contains("mean")) d.mean = p["mean"];
  if (d.family == Family::Empirical) d.table.resize(s["empirical"]["quantiles"].size());
  fmt::print(
      out,
      "{:<10}{:<9}{:>8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}  {:<12}{:<34}{:.4f}\n",
      kind, what, sm["count"].get<int64_t>(), num(sm["sum"]), num(sm["mean"]), num(sm["min"]),
      num(sm["max"]), num(sm["p50"]), num(sm["p99"]), num(sm["p999"]), params, d.describe(),
      s["ks"].get<double>());
}

void print_candidates(std::ostream& out, const std::string& kind, const char* what, const json& s) {
  for (const json& c : s["candidates"]) {
    std::string fam = c["family"];
    if (c.contains("ok") && !c["ok"].get<bool>()) {
      fmt::print(out, "{:<10}{:<9}{:<13}(not fitted: fewer than 2 distinct positive values)\n",
                 kind, what, fam);
      continue;
    }
    Distribution d;
    parse_family(fam, d.family);
    const json& p = c["params"];
    if (p.contains("mu")) d.mu = p["mu"];
    if (p.contains("sigma")) d.sigma = p["sigma"];
    if (p.contains("shape")) d.shape = p["shape"];
    if (p.contains("scale")) d.scale = p["scale"];
    if (p.contains("mean")) d.mean = p["mean"];
    bool chosen = fam == s["family"].get<std::string>();
    fmt::print(out, "{:<10}{:<9}{:<13}{:>14.6g} {:>8.4f}  {}\n", kind, what,
               fam + (chosen ? "*" : ""), c["aic"].get<double>(), c["ks"].get<double>(),
               d.describe());
  }
  fmt::print(out, "{:<10}{:<9}{:<13}{:>14} {:>8.4f}  {} quantiles\n", kind, what,
             s["family"] == "empirical" ? "empirical*" : "empirical", "-",
             s["empirical"]["ks"].get<double>(), s["empirical"]["quantiles"].size());
}

}  // namespace

int run_gcfit(const CliOptions& opt, std::ostream& out, std::ostream& err) {
  std::vector<Kind> kinds;
  if (opt.kind != "all") {
    Kind k;
    if (!parse_kind(opt.kind, k)) {
      fmt::print(err, "zksim gcfit: error: unknown --kind '{}'\n", opt.kind);
      return 2;
    }
    kinds.push_back(k);
  }
  if (opt.logs.empty()) {
    fmt::print(err, "zksim gcfit: error: no log file given\n");
    return 2;
  }
  ModelBuilder builder;
  SeedCollector seed;
  std::unique_ptr<std::ofstream> csv;
  if (!opt.pauses_csv.empty()) {
    csv = std::make_unique<std::ofstream>(opt.pauses_csv);
    if (!*csv) {
      fmt::print(err, "zksim gcfit: error: {}: cannot write\n", opt.pauses_csv);
      return 2;
    }
    *csv << "file,line,kind,collector,seconds,t_ns,absolute,uptime_ns,timed\n";
  }
  std::vector<ParseStats> all_stats;
  for (const std::string& path : opt.logs) {
    std::vector<Pause> pauses;
    Parser parser([&](const Pause& p) { pauses.push_back(p); }, path);
    ParseStats st;
    try {
      std::vector<std::string> warnings;
      uint64_t bytes = for_each_line(
          path,
          [&](std::string_view line, uint64_t n) {
            seed.add_line(line);
            parser.feed(line, n);
          },
          &warnings, 1 << 20, /*strip_cr=*/false);
      st = parser.finish();
      st.bytes = bytes;
      st.warnings = std::move(warnings);
    } catch (const ParseError& e) {
      fmt::print(err, "zksim gcfit: error: {}\n", e.what());
      return 2;
    }
    for (const std::string& w : st.warnings) fmt::print(err, "zksim gcfit: warning: {}\n", w);
    if (st.skipped_lines > 0) {
      fmt::print(err, "zksim gcfit: {}: skipped {} unrecognised line(s), first at line {}: {}\n",
                 path, st.skipped_lines, st.skipped_examples.front().first,
                 st.skipped_examples.front().second);
    }
    if (st.pauses == 0) {
      fmt::print(
          err,
          "zksim gcfit: error: {}: no GC pauses found ({} lines: {} recognised non-pause, {} "
          "unrecognised) - is this a JVM GC log?\n",
          path, st.lines, st.ignored_lines, st.skipped_lines);
      return 2;
    }
    if (csv) {
      for (const Pause& p : pauses) {
        *csv << fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_quote(path), p.line,
                            kind_name(p.kind), p.collector, python_repr(p.seconds), p.t_ns,
                            p.absolute ? 1 : 0, p.uptime_ns, p.timed ? 1 : 0);
      }
    }
    for (const std::string& w : builder.add_file(path, st, pauses))
      fmt::print(err, "zksim gcfit: warning: {}\n", w);
    all_stats.push_back(std::move(st));
  }
  std::string command = "zksim gcfit";
  for (const std::string& p : opt.logs) command += " " + p;
  if (opt.kind != "all") command += " --kind " + opt.kind;
  if (!opt.out.empty()) command += " --out " + opt.out;
  json model = builder.fit(kinds, opt.comment, command);
  if (model["kinds"].empty()) {
    fmt::print(err, "zksim gcfit: error: no {} pauses in the input\n", opt.kind);
    return 2;
  }
  if (csv && !csv->flush()) {  // a full disk: say so, never leave a silently short file
    fmt::print(err, "zksim gcfit: error: {}: cannot write\n", opt.pauses_csv);
    return 2;
  }
  if (!opt.out.empty()) {
    std::ofstream mo(opt.out);
    mo << model.dump(2) << "\n";
    if (!mo.flush()) {
      fmt::print(err, "zksim gcfit: error: {}: cannot write\n", opt.out);
      return 2;
    }
  }
  SeedResult sr;
  bool have_seed = seed.selected() > 0;
  if (have_seed) sr = seed.result();

  if (opt.json) {
    json files = json::array();
    for (const ParseStats& st : all_stats) files.push_back(stats_json(st));
    json doc{{"files", files}, {"model", model}};
    if (have_seed) {
      json sj{{"command", kSeedCommand}, {"selected_lines", seed.selected()}};
      if (sr.error.empty()) {
        sj["lines"] = sr.lines();
        sj["sum"] = sr.sum;
        sj["avg"] = sr.avg;
        sj["min"] = sr.min;
        sj["max"] = sr.max;
        sj["count"] = sr.count;
      } else {
        sj["error"] = sr.error;
      }
      doc["seed_pipeline"] = sj;
    }
    out << doc.dump(2) << "\n";
    return 0;
  }

  uint64_t lines = 0, pauses = 0, skipped = 0;
  for (const ParseStats& st : all_stats) {
    lines += st.lines;
    pauses += st.pauses;
    skipped += st.skipped_lines;
  }
  fmt::print(out, "zksim gcfit: {} file(s), {} lines, {} pauses, {} skipped line(s)\n",
             all_stats.size(), lines, pauses, skipped);
  for (const ParseStats& st : all_stats) {
    fmt::print(
        out, "  {}: {}, {}, {} lines, {} pauses ({}), {} skipped{}{}\n", st.path, format_name(st),
        st.collector, st.lines, st.pauses, kinds_breakdown(st), st.skipped_lines,
        st.abandoned_entries ? fmt::format(", {} unterminated entries", st.abandoned_entries) : "",
        st.dates ? ", wall-clock dates" : "");
  }
  fmt::print(out,
             "\ntimes in seconds; gap = start-to-start time between pauses of the same kind\n");
  fmt::print(out,
             "{:<10}{:<9}{:>8} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}  {:<12}{:<34}{}\n",
             "kind", "series", "count", "sum", "mean", "min", "max", "p50", "p99", "p99.9", "best",
             "parameters", "KS");
  for (int k = 0; k < kKindCount; ++k) {
    std::string kname(kind_name(static_cast<Kind>(k)));
    if (!model["kinds"].contains(kname)) continue;
    const json& km = model["kinds"][kname];
    print_series_row(out, kname, "duration", km["durations"]);
    if (!km["gaps"].is_null()) print_series_row(out, kname, "gap", km["gaps"]);
  }
  fmt::print(out, "\ncandidate fits (* = chosen: smallest AIC)\n");
  fmt::print(out, "{:<10}{:<9}{:<13}{:>14} {:>8}  {}\n", "kind", "series", "family", "AIC", "KS",
             "parameters");
  for (int k = 0; k < kKindCount; ++k) {
    std::string kname(kind_name(static_cast<Kind>(k)));
    if (!model["kinds"].contains(kname)) continue;
    const json& km = model["kinds"][kname];
    print_candidates(out, kname, "duration", km["durations"]);
    if (!km["gaps"].is_null()) print_candidates(out, kname, "gap", km["gaps"]);
  }
  if (have_seed) {
    fmt::print(out, "\nseed pipeline ({}) over {} 'GC pause' line(s):\n", kSeedCommand,
               seed.selected());
    if (sr.error.empty()) {
      for (const std::string& l : sr.lines()) fmt::print(out, "{}\n", l);
    } else {
      fmt::print(out, "python would fail: {}\n", sr.error);
    }
  }
  if (!opt.out.empty()) fmt::print(out, "\nmodel written to {}\n", opt.out);
  return 0;
}

CLI::App* register_gcfit(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<CliOptions>();
  CLI::App* sub = app.add_subcommand(
      "gcfit", "Fit GC pause distributions (durations and gaps per kind) from JVM GC logs");
  sub->add_option("LOG", opt->logs, "GC log files (JDK 6-8 or unified -Xlog; .gz accepted)")
      ->required();
  sub->add_option("--kind", opt->kind, "Pause kind to fit")
      ->check(CLI::IsMember({"young", "mixed", "full", "remark", "cleanup", "safepoint", "all"}))
      ->capture_default_str();
  sub->add_option("--out", opt->out, "Write the fitted gc-model.json here");
  sub->add_flag("--json", opt->json, "Print JSON instead of tables");
  sub->add_option("--pauses-csv", opt->pauses_csv, "Write every parsed pause to this CSV file");
  sub->add_option("--comment", opt->comment, "Text stored in the model's \"comment\" field");
  sub->callback([opt, &exit_code]() { exit_code = run_gcfit(*opt, std::cout, std::cerr); });
  return sub;
}

}  // namespace zksim::gcfit
