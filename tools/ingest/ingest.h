// `zksim ingest LOGDIR`: walk a cluster's log folder, parse every log file, and build the sorted
// timeline of key events plus a per-file report.
//
// Streaming: each file is read line by line through zlib (plain and .gz alike) and only key events
// are kept, so memory is bounded by the number of key events, not by the size of the folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tools/ingest/parse.h"
#include "tools/ingest/timeline.h"

namespace zksim::ingest {

struct IngestOptions {
  std::string tz = "UTC";   // time zone of the log lines: "UTC" or a fixed offset "+08:00"
  std::optional<int> year;  // year for glog lines when neither header nor file name has it
  std::size_t max_notes_per_file = 20;  // per-file warnings kept (all are counted)
};

// A file found by the walker, in chronological processing order.
struct FoundFile {
  std::filesystem::path path;  // absolute or as given
  std::string rel;             // relative to LOGDIR, '/'-separated
  std::string host;            // from a host folder "10_10_10_152" → "10.10.10.152"
};

// Recursively lists regular files under root; rotated files of one log come oldest first
// (zookeeper.log.2, zookeeper.log.1, zookeeper.log; date-stamped names in name order).
// Folders below root that zksim wrote (SkippedDir) are not entered; they are listed in `skipped`
// when given. Throws IngestError when root is not a readable directory.
std::vector<FoundFile> walk_log_dir(const std::filesystem::path& root,
                                    std::vector<SkippedDir>* skipped = nullptr);

// Why `dir` is a folder zksim wrote (a run's --logs or a replay's --out), or "" when it is not.
std::string zksim_output_dir_reason(const std::filesystem::path& dir);

// Host of a relative path: the nearest folder named like an address with '_' ("10_10_10_152"),
// else the first folder below LOGDIR, else "".
std::string host_from_rel_path(const std::string& rel);

// Sniffs the first lines of a (possibly gzipped) file and decides its kind by content.
FileKind detect_file_kind(const std::filesystem::path& path, const std::string& name_hint);

// Parses one file, appending its events (unsorted) to `out`. Never throws for bad content: bad
// lines are counted as unknown and noted in the report. Throws IngestError only for
// configuration problems (a glog file whose year cannot be determined without --year).
FileReport parse_log_file(const FoundFile& f, std::uint32_t file_index, const IngestOptions& opt,
                          std::vector<Event>& out);

// Whole folder: walk, detect, parse, sort, fill in myids known per host. Throws IngestError for an
// unreadable or empty folder (no log file at all) and for a bad --tz.
Timeline ingest_dir(const std::filesystem::path& root, const IngestOptions& opt);

// Range check of a --year flag: 1970..9999 (times before the Unix epoch cannot be placed on a
// timeline). Throws IngestError naming `flag` when out of range; nothing when unset.
void check_year(const std::optional<int>& year, const std::string& flag);

// Throws IngestError when `out` is one of the log files under `root` (writing the timeline there
// would overwrite an input).
void refuse_output_among_inputs(const std::filesystem::path& out,
                                const std::filesystem::path& root);

// Deterministic total order of the timeline: (time, host, file, line, type).
void sort_events(std::vector<Event>& events);

}  // namespace zksim::ingest
