// `zksim merge`: combines the outputs of sharded sweeps (or of one sweep) into one file.
//
// Checks that every file comes from the same sweep (same header and spec hash), that no file ends
// with a torn line, and that every point 0..points-1 appears exactly once; then writes the header
// and the rows sorted by point. The result is byte-identical to a single-machine sweep's output.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace zksim::sweep {

// Returns 0 on success, 1 when points are missing or duplicated, 2 for unreadable or foreign
// files. Messages (naming the point and its key) go to `err`.
int merge_files(const std::vector<std::string>& files, std::FILE* out, std::FILE* err);

// Splits one CSV line (RFC 4180 quoting, no trailing newline).
std::vector<std::string> parse_csv_line(const std::string& line);

}  // namespace zksim::sweep
