#include "tools/ingest/ingest.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>
#include <system_error>
#include <tuple>

#ifdef ZKSIM_INGEST_WITH_GCFIT
#include "tools/gcfit/parser.h"
#endif

namespace zksim::ingest {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxLine = 1 << 20;  // longer lines are cut (and noted), never buffered whole
constexpr std::size_t kMaxRecordText = 64 * 1024;

// Line reader over zlib: reads gzip and plain files alike (gzread is transparent for plain files).
class LineReader {
 public:
  explicit LineReader(const fs::path& p) : gz_(gzopen(p.c_str(), "rb")) {
    if (gz_ != nullptr) gzbuffer(gz_, 256 * 1024);
  }
  ~LineReader() {
    if (gz_ != nullptr) gzclose(gz_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  bool ok() const { return gz_ != nullptr; }
  bool gzip() const { return gz_ != nullptr && gzdirect(gz_) == 0; }
  // Next line without its '\n' (a trailing '\r' is kept; parsers trim it). False at the end.
  bool next(std::string& line) {
    line.clear();
    truncated_ = false;
    no_newline_ = false;
    for (;;) {
      if (pos_ == len_) {
        if (!fill()) {
          if (line.empty() && !truncated_) return false;
          no_newline_ = true;
          return true;
        }
      }
      const char* start = buf_.data() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', len_ - pos_));
      std::size_t n = nl == nullptr ? len_ - pos_ : static_cast<std::size_t>(nl - start);
      if (line.size() < kMaxLine) line.append(start, std::min(n, kMaxLine - line.size()));
      if (line.size() >= kMaxLine && n > 0) truncated_ = true;
      pos_ += n;
      if (nl != nullptr) {
        ++pos_;
        return true;
      }
    }
  }
  bool cut() const { return truncated_; }
  bool no_newline() const { return no_newline_; }
  const std::string& error() const { return error_; }

 private:
  bool fill() {
    if (eof_) return false;
    int n = gzread(gz_, buf_.data(), static_cast<unsigned>(buf_.size()));
    if (n <= 0) {
      eof_ = true;
      int errnum = 0;
      const char* msg = gzerror(gz_, &errnum);
      if (n < 0 || (errnum != Z_OK && errnum != Z_STREAM_END))
        error_ = fmt::format("read error: {}", msg == nullptr ? "unknown" : msg);
      return false;
    }
    len_ = static_cast<std::size_t>(n);
    pos_ = 0;
    return true;
  }

  gzFile gz_;
  std::array<char, 64 * 1024> buf_{};
  std::size_t len_ = 0, pos_ = 0;
  bool eof_ = false, truncated_ = false, no_newline_ = false;
  std::string error_;
};

bool has_control_chars(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) return true;
  }
  return false;
}

// A line that starts like a record head of some layout but does not parse is a damaged record
// (truncated, garbled), not a continuation of the record above.
bool looks_like_broken_head(std::string_view l) {
  auto d = [&](std::size_t i) { return i < l.size() && l[i] >= '0' && l[i] <= '9'; };
  if (d(0) && d(1) && d(2) && d(3) && l.size() > 4 && (l[4] == '-' || l[4] == '/')) return true;
  if (!l.empty() && (l[0] == 'I' || l[0] == 'W' || l[0] == 'E' || l[0] == 'F') && d(1) && d(2) &&
      d(3) && d(4))
    return true;
  return false;
}

std::string base_name_hint(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

// Year (and month) of glog lines from "Log file created at: 2025/07/19 15:54:06" or a file name
// with "YYYYMMDD-HHMMSS".
std::optional<std::pair<int, unsigned>> year_from_name(const std::string& name) {
  for (std::size_t i = 0; i + 15 <= name.size(); ++i) {
    bool ok = true;
    for (std::size_t k = 0; k < 15 && ok; ++k) {
      char c = name[i + k];
      ok = k == 8 ? c == '-' : (c >= '0' && c <= '9');
    }
    if (!ok) continue;
    if (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') continue;
    int y = std::stoi(name.substr(i, 4));
    unsigned m = static_cast<unsigned>(std::stoi(name.substr(i + 4, 2)));
    if (y >= 1970 && y <= 9999 && m >= 1 && m <= 12) return std::make_pair(y, m);
  }
  return std::nullopt;
}

struct FileState {
  FileReport rep;
  std::map<int, std::int64_t> myid_last;
  std::set<int> myids;  // explicit myids seen in this file
  std::size_t notes_dropped = 0;
};

void note(FileState& st, const IngestOptions& opt, std::string msg) {
  if (st.rep.notes.size() < opt.max_notes_per_file)
    st.rep.notes.push_back(std::move(msg));
  else
    ++st.notes_dropped;
}

// Every dated line passes here: a time before the Unix epoch (a log dated 1969, a wrong --year)
// would be clamped into nonsense windows downstream, so it is refused naming the file and line.
void saw_time(FileState& st, std::int64_t t, std::uint64_t line) {
  if (t < 0) {
    throw IngestError(fmt::format(
        "{}:{}: time {} is before 1970-01-01T00:00:00Z (the Unix epoch), which zksim cannot place "
        "on a timeline: check the log's dates (and --year / --tz)",
        st.rep.path, line, format_utc(t)));
  }
  if (st.rep.first_ns == 0 && st.rep.last_ns == 0) st.rep.first_ns = t;
  st.rep.last_ns = std::max(st.rep.last_ns, t);
  st.rep.first_ns = std::min(st.rep.first_ns, t);
}

}  // namespace

void check_year(const std::optional<int>& year, const std::string& flag) {
  if (year && (*year < 1970 || *year > 9999)) {
    throw IngestError(
        fmt::format("{}: {} is outside 1970..9999 (the year of the log lines)", flag, *year));
  }
}

void refuse_output_among_inputs(const fs::path& out, const fs::path& root) {
  std::error_code ec;
  if (!fs::exists(out, ec) || !fs::is_directory(root, ec)) return;
  for (const FoundFile& f : walk_log_dir(root)) {
    if (fs::equivalent(out, f.path, ec)) {
      throw IngestError(fmt::format(
          "{}: --out is one of the input log files ({}); writing the timeline there would "
          "overwrite it: write it outside the log folder",
          out.string(), f.rel));
    }
  }
}

std::string host_from_rel_path(const std::string& rel) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto slash = rel.find('/', start);
    if (slash == std::string::npos) break;
    parts.push_back(rel.substr(start, slash - start));
    start = slash + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    const std::string& p = *it;
    int groups = 1;
    bool ok = !p.empty();
    for (char c : p) {
      if (c == '_')
        ++groups;
      else if (c < '0' || c > '9')
        ok = false;
    }
    if (ok && groups == 4 && p.front() != '_' && p.back() != '_' &&
        p.find("__") == std::string::npos) {
      std::string h = p;
      std::replace(h.begin(), h.end(), '_', '.');
      return h;
    }
  }
  return parts.empty() ? std::string() : parts.front();
}

std::string zksim_output_dir_reason(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / "zksim-run.json", ec))
    return "the logs of a simulated run (zksim run --logs: has zksim-run.json)";
  if (fs::is_regular_file(dir / "report.json", ec) &&
      fs::is_regular_file(dir / "scenario.json", ec))
    return "a replay's output (zksim replay --out: has report.json and scenario.json)";
  return "";
}

std::vector<FoundFile> walk_log_dir(const fs::path& root, std::vector<SkippedDir>* skipped) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw IngestError(fmt::format("{}: not a directory (or not readable)", root.string()));
  struct Keyed {
    std::string dir, stem;
    int cls;
    long long value;
    std::string name;
    FoundFile f;
  };
  std::vector<Keyed> files;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec)
    throw IngestError(fmt::format("{}: cannot read directory: {}", root.string(), ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec)
      throw IngestError(fmt::format("{}: cannot read directory: {}", root.string(), ec.message()));
    if (it->is_directory(ec)) {
      std::string why = zksim_output_dir_reason(it->path());
      if (!why.empty()) {
        it.disable_recursion_pending();
        std::string rel = fs::relative(it->path(), root, ec).generic_string();
        if (skipped) skipped->push_back(SkippedDir{ec ? it->path().string() : rel, why});
      }
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    FoundFile f;
    f.path = it->path();
    f.rel = fs::relative(it->path(), root, ec).generic_string();
    if (ec || f.rel.empty()) f.rel = it->path().filename().string();
    f.host = host_from_rel_path(f.rel);
    std::string name = it->path().filename().string();
    std::string dir = fs::path(f.rel).parent_path().generic_string();
    std::string n = name;
    if (n.size() > 3 && n.ends_with(".gz")) n.resize(n.size() - 3);
    // zookeeper.log.2 < zookeeper.log.1 < zookeeper.log (log4j numeric rotation, newest last).
    Keyed k{dir, n, 1, 0, name, f};
    auto dot = n.rfind('.');
    if (dot != std::string::npos && dot + 1 < n.size() && n.size() - dot - 1 <= 4 &&
        std::all_of(n.begin() + static_cast<long>(dot) + 1, n.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      k.stem = n.substr(0, dot);
      k.cls = 0;
      k.value = -std::stoll(n.substr(dot + 1));
    }
    files.push_back(std::move(k));
  }
  std::sort(files.begin(), files.end(), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.dir, a.stem, a.cls, a.value, a.name) <
           std::tie(b.dir, b.stem, b.cls, b.value, b.name);
  });
  if (skipped)  // directory order is the filesystem's: sort, like the files
    std::sort(skipped->begin(), skipped->end(),
              [](const SkippedDir& a, const SkippedDir& b) { return a.rel < b.rel; });
  std::vector<FoundFile> out;
  out.reserve(files.size());
  for (auto& k : files) out.push_back(std::move(k.f));
  return out;
}

FileKind detect_file_kind(const fs::path& path, const std::string& name_hint) {
  LineReader r(path);
  if (!r.ok()) return FileKind::kBinary;
  std::string line;
  int zk = 0, glog = 0, det = 0, gc = 0, other = 0, lines = 0, bad = 0;
  bool meta_hint = false;
  while (lines < 200 && r.next(line)) {
    ++lines;
    if (line.find('\0') != std::string::npos) {
      ++bad;
      continue;
    }
    // Invalid UTF-8 / control bytes mark binary data.
    std::size_t ctl = 0;
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) ++ctl;
    }
    if (ctl * 20 > line.size() + 1) {
      ++bad;
      continue;
    }
    if (line.starts_with("Log file created at: ")) meta_hint = true;
    if (parse_zk_line(line))
      ++zk;
    else if (parse_glog_line(line))
      ++glog;
    else if (parse_detector_line(line))
      ++det;
    else if (looks_like_gc_line(line))
      ++gc;
    else
      ++other;
  }
  if (lines == 0) return FileKind::kEmpty;
  if (bad * 4 >= lines || (bad > 0 && zk + glog + det + gc == 0)) return FileKind::kBinary;
  const bool name_zk = name_hint.find("zookeeper") != std::string::npos;
  const bool name_det = name_hint.find("detector") != std::string::npos;
  const bool name_gc = name_hint.find("gc") != std::string::npos;
  const int best = std::max({zk, glog, det, gc});
  if (best == 0) return meta_hint ? FileKind::kMeta : FileKind::kUnknownText;
  // Ties go to the name's suggestion, then to the most specific layout.
  if (det > 0 && (det == best || name_det) && !meta_hint) return FileKind::kDetector;
  if (zk == best && (name_zk || zk > glog)) return FileKind::kZookeeper;
  if (gc == best && (name_gc || gc > glog)) return FileKind::kGc;
  if (glog == best) return FileKind::kMeta;
  if (zk == best) return FileKind::kZookeeper;
  return FileKind::kGc;
}

FileReport parse_log_file(const FoundFile& f, std::uint32_t file_index, const IngestOptions& opt,
                          std::vector<Event>& out) {
  const int offset = parse_tz_offset(opt.tz);
  FileState st;
  st.rep.path = f.rel;
  st.rep.host = f.host;
  const std::string name = base_name_hint(f.rel);
  st.rep.kind = detect_file_kind(f.path, name);
  LineReader r(f.path);
  if (!r.ok()) {
    st.rep.kind = FileKind::kBinary;
    note(st, opt, "cannot open file");
    return st.rep;
  }
  st.rep.gzip = r.gzip();
  const std::size_t first_event = out.size();
  const FileKind kind = st.rep.kind;
  if (kind == FileKind::kBinary || kind == FileKind::kEmpty) {
    note(st, opt, kind == FileKind::kBinary ? "binary content; skipped" : "empty file");
    return st.rep;
  }

  // Glog year: --year, else the "Log file created at:" header, else the file name.
  std::optional<std::pair<int, unsigned>> glog_base;
  if (opt.year) glog_base = std::make_pair(*opt.year, 1u);
  if (!glog_base) glog_base = year_from_name(name);
  bool glog_base_from_flag = opt.year.has_value();
  int detector_year = 0;  // detector files carry the year on their own lines

  // The record being assembled: head line plus continuation lines.
  std::string head;
  std::uint64_t head_no = 0;
  std::string cause, root_cause, tail;  // first continuation, last "Caused by:", glog joined text
  bool pending = false;

  auto emit = [&](Event& ev) {
    ev.host = f.host;
    ev.file = file_index;
    ev.line = head_no;
    out.push_back(std::move(ev));
    ++st.rep.events;
  };

  auto glog_time = [&](const GlogLine& g, std::uint64_t line_no) -> std::optional<std::int64_t> {
    int y = 0;
    if (glog_base) {
      y = glog_base->first;
      // A file started in December holds January lines of the next year.
      if (!glog_base_from_flag && g.month < glog_base->second) ++y;
    } else if (detector_year != 0) {
      y = detector_year;
    } else if (kind == FileKind::kDetector) {
      return std::nullopt;  // a Go client line before any dated detector line: no year yet
    } else {
      throw IngestError(fmt::format(
          "{}:{}: cannot tell the year of glog lines (no 'Log file created at:' header and no "
          "YYYYMMDD-HHMMSS in the file name); pass --year",
          f.rel, line_no));
    }
    return local_to_utc_ns(y, g.month, g.day, g.hour, g.minute, g.second,
                           std::int64_t{g.micros} * 1000, offset);
  };

  auto flush = [&]() {
    if (!pending) return;
    pending = false;
    if (kind == FileKind::kZookeeper) {
      auto zl = parse_zk_line(head);
      if (!zl) return;
      std::int64_t t = local_to_utc_ns(zl->year, zl->month, zl->day, zl->hour, zl->minute,
                                       zl->second, std::int64_t{zl->millis} * 1'000'000, offset);
      saw_time(st, t, head_no);
      int id = zl->myid >= 0 ? zl->myid : myid_from_thread(zl->thread);
      if (id >= 0) {
        st.myids.insert(id);
        auto& last = st.myid_last[id];
        last = std::max(last, t);
      }
      Event ev;
      if (classify_zk_message(*zl, cause, root_cause, ev)) {
        ev.time_ns = t;
        ev.myid = id;
        ev.process = Process::kZookeeper;
        emit(ev);
      }
    } else if (kind == FileKind::kMeta || kind == FileKind::kDetector) {
      if (auto d = parse_detector_line(head)) {
        detector_year = d->year;
        std::int64_t t = local_to_utc_ns(d->year, d->month, d->day, d->hour, d->minute, d->second,
                                         std::int64_t{d->micros} * 1000, offset);
        saw_time(st, t, head_no);
        Event ev;
        if (classify_detector_message(d->message, ev)) {
          ev.time_ns = t;
          ev.process = Process::kDetector;
          emit(ev);
        }
        return;
      }
      auto g = parse_glog_line(head);
      if (!g) return;
      auto t = glog_time(*g, head_no);
      if (!t) return;
      saw_time(st, *t, head_no);
      std::string joined;
      std::string_view msg = g->message;
      if (!tail.empty()) {
        joined = std::string(g->message) + tail;
        msg = joined;
      }
      Event ev;
      if (kind == FileKind::kMeta && classify_meta_message(g->source_file, msg, ev)) {
        ev.time_ns = *t;
        ev.process = Process::kMeta;
        emit(ev);
      }
    }
  };

  auto is_head = [&](std::string_view l) -> bool {
    switch (kind) {
      case FileKind::kZookeeper:
        return parse_zk_line(l).has_value();
      case FileKind::kMeta:
      case FileKind::kDetector:
        return parse_glog_line(l).has_value() || parse_detector_line(l).has_value();
      default:
        return false;
    }
  };

  if (kind == FileKind::kGc) {
#ifdef ZKSIM_INGEST_WITH_GCFIT
    // GC pauses come from tools/gcfit's streaming parser. Only pauses with a wall-clock date
    // (PrintGCDateStamps, unified time decorations; the line carries its own UTC offset) can be
    // placed on the timeline; uptime-only pauses are counted in a note.
    std::uint64_t uptime_only = 0;
    std::set<std::int64_t> offsets;  // UTC offsets of the dates: the host's zone
    try {
      gcfit::ParseStats ps = gcfit::parse_file(f.path.string(), [&](const gcfit::Pause& p) {
        if (!p.absolute || !p.timed) {
          ++uptime_only;
          return;
        }
        if (p.utc_offset_s) offsets.insert(*p.utc_offset_s);
        Event ev;
        ev.type = EventType::kGcPause;
        ev.process = Process::kGc;
        ev.time_ns = p.t_ns;
        ev.state = std::string(gcfit::kind_name(p.kind));
        ev.detail = p.collector;
        ev.num = static_cast<std::int64_t>(p.seconds * 1e6 + 0.5);
        ev.host = f.host;
        ev.file = file_index;
        ev.line = p.line;
        saw_time(st, p.t_ns, p.line);
        out.push_back(std::move(ev));
        ++st.rep.events;
      });
      st.rep.lines = ps.lines;
      st.rep.records = ps.pauses + ps.ignored_lines;
      st.rep.unknown = ps.skipped_lines + ps.abandoned_entries;
      for (const auto& [ln, text] : ps.skipped_examples)
        note(st, opt, fmt::format("line {}: unknown line", ln));
      for (const std::string& w : ps.warnings) note(st, opt, w);
    } catch (const gcfit::ParseError& e) {
      note(st, opt, e.what());
    }
    // A GC log stamps its dates with the host's zone; ZooKeeper and glog lines carry none and are
    // read in --tz. Say so when the two disagree (a day split at the wrong midnight otherwise).
    if (offsets.size() == 1) st.rep.stamped_utc_offset_s = *offsets.begin();
    if (offsets.size() == 1 && *offsets.begin() != parse_tz_offset(opt.tz)) {
      std::string zone = format_tz_offset(*offsets.begin());
      note(st, opt,
           fmt::format("its dates are stamped {} while lines without a zone are read as {}: pass "
                       "--tz {} if the hosts ran in that zone",
                       zone, opt.tz, zone));
    }
    if (uptime_only > 0)
      note(
          st, opt,
          fmt::format("{} GC pauses have no wall-clock date (JVM uptime only); not on the timeline",
                      uptime_only));
    return st.rep;
#endif
  }

  std::string line;
  std::uint64_t line_no = 0;
  const bool parse_lines =
      kind == FileKind::kZookeeper || kind == FileKind::kMeta || kind == FileKind::kDetector;
  while (r.next(line)) {
    ++line_no;
    ++st.rep.lines;
    if (r.cut())
      note(st, opt, fmt::format("line {}: longer than {} bytes, cut", line_no, kMaxLine));
    if (!parse_lines) {
      if (kind == FileKind::kUnknownText) ++st.rep.unknown;
      continue;
    }
    if (kind == FileKind::kMeta &&
        (line.starts_with("Running on machine: ") || line.starts_with("Log line format: ") ||
         line.starts_with("Running duration (h:mm:ss): "))) {
      ++st.rep.records;  // rest of the glog file header
      continue;
    }
    if (kind == FileKind::kMeta && line.starts_with("Log file created at: ")) {
      // glog header: "Log file created at: 2025/07/19 15:54:06"; its year unless --year is given
      std::string_view d = std::string_view(line).substr(21);
      if (!opt.year && d.size() >= 7 && d[4] == '/') {
        int y = std::atoi(std::string(d.substr(0, 4)).c_str());
        unsigned m = static_cast<unsigned>(std::atoi(std::string(d.substr(5, 2)).c_str()));
        if (y >= 1970 && m >= 1 && m <= 12) glog_base = std::make_pair(y, m);
      }
      ++st.rep.records;
      continue;
    }
    const std::string_view lv = line;
    if (is_head(lv)) {
      flush();
      if (r.no_newline())
        note(st, opt, fmt::format("line {}: last line has no newline (truncated file?)", line_no));
      head = line;
      head_no = line_no;
      cause.clear();
      root_cause.clear();
      tail.clear();
      pending = true;
      ++st.rep.records;
      continue;
    }
    std::string_view trimmed = lv;
    while (!trimmed.empty() && (trimmed.back() == '\r' || trimmed.back() == ' '))
      trimmed.remove_suffix(1);
    if (trimmed.empty()) continue;  // blank lines are neither records nor unknown
    if (!pending || has_control_chars(trimmed) || looks_like_broken_head(trimmed)) {
      ++st.rep.unknown;
      note(st, opt,
           fmt::format("line {}: {}", line_no,
                       !pending                     ? "unknown line (no record above)"
                       : has_control_chars(trimmed) ? "unknown line (control characters)"
                       : r.no_newline()             ? "truncated record at end of file"
                                                    : "malformed or truncated record"));
      if (looks_like_broken_head(trimmed)) flush();
      continue;
    }
    ++st.rep.continuation;
    // Multi-line records: stack traces belong to the line above.
    if (kind == FileKind::kZookeeper) {
      if (cause.empty() && !trimmed.starts_with("\tat ") && !trimmed.starts_with("at "))
        cause = std::string(trimmed.substr(0, 4096));
      else if (trimmed.starts_with("Caused by: "))
        root_cause = std::string(trimmed.substr(11, 4096));
    } else if (tail.size() < kMaxRecordText) {
      tail += '\n';
      tail.append(trimmed.substr(0, kMaxRecordText - tail.size()));
    }
  }
  flush();
  if (!r.error().empty()) note(st, opt, fmt::format("{} (truncated or corrupt gzip?)", r.error()));
  if (kind == FileKind::kGc) note(st, opt, "GC log not parsed (built without tools/gcfit)");
  if (kind == FileKind::kUnknownText) note(st, opt, "content matches no known log layout; skipped");
  if (st.notes_dropped > 0) st.rep.notes.push_back(fmt::format("... {} more", st.notes_dropped));

  // 3.9 logs print "[myid:]": a file whose explicit myids are all one value lends it to the
  // events that carry none (session expiry on the SessionTracker thread, ...).
  if (st.myids.size() == 1) {
    int id = *st.myids.begin();
    for (std::size_t i = first_event; i < out.size(); ++i)
      if (out[i].myid < 0 && out[i].process == Process::kZookeeper) out[i].myid = id;
  }
  for (auto& [id, t] : st.myid_last) st.rep.myid_last_ns.emplace_back(id, t);
  return st.rep;
}

void sort_events(std::vector<Event>& events) {
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return std::tie(a.time_ns, a.host, a.file, a.line, a.type) <
           std::tie(b.time_ns, b.host, b.file, b.line, b.type);
  });
}

Timeline ingest_dir(const fs::path& root, const IngestOptions& opt) {
  (void)parse_tz_offset(opt.tz);  // a bad --tz fails before any file is read
  Timeline tl;
  tl.root = root.string();
  tl.tz = opt.tz;
  std::vector<FoundFile> files = walk_log_dir(root, &tl.skipped_dirs);
  if (files.empty() && !tl.skipped_dirs.empty()) {
    std::string which;
    for (const SkippedDir& d : tl.skipped_dirs) which += fmt::format("\n  {}/: {}", d.rel, d.why);
    throw IngestError(fmt::format(
        "{}: no log files outside the folders zksim wrote, which are not read with other logs "
        "(give one of them as the log folder):{}",
        root.string(), which));
  }
  if (files.empty())
    throw IngestError(fmt::format("{}: no log files found (empty folder)", root.string()));
  std::size_t usable = 0;
  for (const FoundFile& f : files) {
    FileReport rep = parse_log_file(f, static_cast<std::uint32_t>(tl.files.size()), opt, tl.events);
#ifndef ZKSIM_INGEST_WITH_GCFIT
    if (rep.kind == FileKind::kGc) ++tl.gc_files_not_parsed;
#endif
    if (rep.kind == FileKind::kZookeeper || rep.kind == FileKind::kMeta ||
        rep.kind == FileKind::kDetector || rep.kind == FileKind::kGc)
      ++usable;
    tl.files.push_back(std::move(rep));
  }
  if (usable == 0) {
    std::string why;
    for (const FileReport& r : tl.files)
      why += fmt::format("\n  {}: {}", r.path,
                         r.notes.empty() ? std::string(file_kind_name(r.kind)) : r.notes.front());
    throw IngestError(fmt::format("{}: no recognizable log file among {} file(s):{}", root.string(),
                                  tl.files.size(), why));
  }
  // A host whose ZooKeeper events name a single myid lends it to its events without one.
  std::map<std::string, std::set<int>> host_ids;
  for (const Event& e : tl.events)
    if (e.process == Process::kZookeeper && e.myid >= 0 && !e.host.empty())
      host_ids[e.host].insert(e.myid);
  for (Event& e : tl.events) {
    if (e.process != Process::kZookeeper || e.myid >= 0 || e.host.empty()) continue;
    auto it = host_ids.find(e.host);
    if (it != host_ids.end() && it->second.size() == 1) e.myid = *it->second.begin();
  }
  sort_events(tl.events);
  return tl;
}

}  // namespace zksim::ingest
