// `zksim gcfit LOG... [--kind K] [--out model.json] [--json] [--pauses-csv F] [--comment TEXT]`
//
// Parses JVM GC logs (plain or .gz), fits pause durations and gaps per kind, prints a table (or
// JSON with --json), optionally writes gc-model.json (see model.h), and prints the seed incident's
// `rg 'GC pause' | awk | sort -n | python` summary (see seed.h) when the input has `GC pause`
// lines. Exit codes: 0 success, 2 bad input (unreadable/empty file, no pauses, unwritable output).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;  // <CLI/CLI.hpp> is included by the .cc files that use it
}  // namespace CLI

namespace zksim::gcfit {

struct CliOptions {
  std::vector<std::string> logs;
  std::string kind = "all";  // young|mixed|full|remark|cleanup|safepoint|all
  std::string out;           // model path ("" = do not write)
  bool json = false;
  std::string pauses_csv;  // raw pauses dump ("" = none)
  std::string comment;
};

// Adds the `gcfit` subcommand to `app`. When it runs, exit_code receives its exit status.
CLI::App* register_gcfit(CLI::App& app, int& exit_code);

// Runs gcfit with parsed options, writing to out/err. Returns the exit code.
int run_gcfit(const CliOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace zksim::gcfit
