// `zksim ingest LOGDIR [--out timeline.json] [--tz +08:00] [--year 2025]`: the subcommand hook the
// single `zksim` binary (tools/cli) calls, plus the function it runs, for tests.
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace CLI {
class App;  // <CLI/CLI.hpp> is included by the .cc files that use it
}  // namespace CLI

namespace zksim::ingest {

struct IngestCliOptions {
  std::string logdir;
  std::string out;  // timeline JSON path; empty = do not write
  std::string tz = "UTC";
  std::optional<int> year;
  bool quiet = false;  // no summary on stdout
};

// Runs ingest; prints the summary to `out` and errors to `err`. Returns the exit status:
// 0 success, 2 bad input (unreadable or empty folder, unknown time zone, missing year, ...).
int run_ingest(const IngestCliOptions& opt, std::ostream& out, std::ostream& err);

// Adds the `ingest` subcommand to app; when it runs, exit_code receives run_ingest's status.
void register_ingest(CLI::App& app, int& exit_code);

}  // namespace zksim::ingest
