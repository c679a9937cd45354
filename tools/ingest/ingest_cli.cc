#include "tools/ingest/ingest_cli.h"

#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "tools/ingest/ingest.h"
#include "tools/ingest/summary.h"

namespace zksim::ingest {

int run_ingest(const IngestCliOptions& opt, std::ostream& out, std::ostream& err) {
  try {
    IngestOptions io;
    io.tz = opt.tz;
    check_year(opt.year, "--year");
    io.year = opt.year;
    const int offset = parse_tz_offset(opt.tz);
    if (!opt.out.empty()) refuse_output_among_inputs(opt.out, opt.logdir);
    Timeline tl = ingest_dir(opt.logdir, io);
    Summary s = summarize(tl, offset);
    if (!opt.out.empty()) {
      std::ofstream f(opt.out, std::ios::binary | std::ios::trunc);
      if (!f) throw IngestError(fmt::format("{}: cannot open for writing", opt.out));
      write_timeline_json(f, tl, s);
      f.flush();
      if (!f) throw IngestError(fmt::format("{}: write failed", opt.out));
    }
    if (!opt.quiet) out << render_summary(tl, s, offset);
    return 0;
  } catch (const IngestError& e) {
    err << "zksim ingest: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "zksim ingest: error: " << e.what() << "\n";
    return 2;
  }
}

void register_ingest(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<IngestCliOptions>();
  auto year = std::make_shared<int>(0);
  CLI::App* sub = app.add_subcommand(
      "ingest", "Parse a cluster log folder into a normalized timeline and a summary");
  sub->add_option("LOGDIR", opt->logdir, "Folder of logs (host folders like 10_10_10_152)")
      ->required();
  sub->add_option("--out,-o", opt->out, "Write the timeline JSON here");
  sub->add_option("--tz", opt->tz, "Time zone of the log lines: UTC or a fixed offset (+08:00)")
      ->capture_default_str();
  CLI::Option* y = sub->add_option("--year", *year,
                                   "Year of glog lines when neither header nor file name has it");
  sub->add_flag("--quiet,-q", opt->quiet, "Do not print the summary");
  sub->callback([opt, year, y, &exit_code] {
    if (y->count() > 0) opt->year = *year;
    exit_code = run_ingest(*opt, std::cout, std::cerr);
  });
}

}  // namespace zksim::ingest
