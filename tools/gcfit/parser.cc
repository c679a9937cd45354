#include "tools/gcfit/parser.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace zksim::gcfit {

namespace {

constexpr std::string_view kKindNames[kKindCount] = {"young",  "mixed",   "full",
                                                     "remark", "cleanup", "safepoint"};

constexpr std::string_view kStoppedPrefix =
    "Total time for which application threads were stopped: ";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool contains(std::string_view s, std::string_view p) {
  return s.find(p) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a decimal number (optional fraction, '.' or ',' as separator) at the start of s.
// Returns the number of characters consumed (0 on failure).
size_t parse_decimal(std::string_view s, double& out) {
  size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0) return 0;
  size_t end = i;
  bool comma = false;
  if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && is_digit(s[i + 1])) {
    comma = s[i] == ',';
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    end = i;
  }
  if (!comma) {
    auto r = std::from_chars(s.data(), s.data() + end, out);
    return r.ec == std::errc() ? end : 0;
  }
  std::string tmp(s.substr(0, end));
  for (char& c : tmp) {
    if (c == ',') c = '.';
  }
  auto r = std::from_chars(tmp.data(), tmp.data() + tmp.size(), out);
  return r.ec == std::errc() ? end : 0;
}

// Longest pause taken at face value: a longer one (or one that overflows) is a damaged line.
constexpr double kMaxPauseSeconds = 86400;

bool sane_pause(double seconds) {
  return std::isfinite(seconds) && seconds >= 0 && seconds <= kMaxPauseSeconds;
}

// Parses the decimal number that ends s (e.g. "..., 0.0121737"); false if s does not end in one,
// or when the number is only the tail of a malformed one ("-0.5", "1e999", "0x1p3").
bool parse_trailing_decimal(std::string_view s, double& out) {
  size_t i = s.size();
  while (i > 0 && is_digit(s[i - 1])) --i;
  if (i == s.size()) return false;
  if (i >= 2 && (s[i - 1] == '.' || s[i - 1] == ',') && is_digit(s[i - 2])) {
    --i;
    while (i > 0 && is_digit(s[i - 1])) --i;
  }
  if (i > 0) {
    char c = s[i - 1];
    if (c == '-' || c == '+' || c == '.' || std::isalpha(static_cast<unsigned char>(c)))
      return false;
  }
  return parse_decimal(s.substr(i), out) == s.size() - i && sane_pause(out);
}

// A unified `Pause ...` line's last token that is meant as a duration but is not a valid one
// ("-6.529ms", "1e400ms", "nanms"): such a line is damaged, not a pause-less start line.
bool looks_like_bad_duration(std::string_view tok) {
  std::string_view num;
  for (std::string_view unit : {"ms", "us", "ns", "\xC2\xB5s", "s"}) {
    if (tok.size() > unit.size() && tok.substr(tok.size() - unit.size()) == unit) {
      num = tok.substr(0, tok.size() - unit.size());
      break;
    }
  }
  if (num.empty()) return false;
  std::string lower;
  for (char c : num)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "nan" || lower == "inf" || lower == "-inf" || lower == "+inf") return true;
  bool digit = false;
  for (char c : lower) {
    if (is_digit(c)) {
      digit = true;
    } else if (std::string_view("+-.,expabcdf").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return digit;
}

int64_t to_ns(double seconds) {
  return static_cast<int64_t>(std::llround(seconds * 1e9));
}

// The decimal number at the start of s times 10^-exp10, correctly rounded (so "21.861" ms is
// exactly the double nearest 0.021861 s, not 21.861 / 1000). Returns characters consumed.
size_t parse_scaled_decimal(std::string_view s, int exp10, double& out) {
  double v = 0;
  size_t n = parse_decimal(s, v);
  if (n == 0 || exp10 == 0) {
    out = v;
    return n;
  }
  std::string tmp(s.substr(0, n));
  for (char& c : tmp) {
    if (c == ',') c = '.';
  }
  tmp += "e-" + std::to_string(exp10);
  auto r = std::from_chars(tmp.data(), tmp.data() + tmp.size(), out);
  return r.ec == std::errc() ? n : 0;
}

// "12.345ms" / "1.2s" / "17us" / "123ns" -> seconds.
bool parse_duration_token(std::string_view tok, double& seconds) {
  double v = 0;
  size_t n = parse_decimal(tok, v);
  if (n == 0) return false;
  std::string_view unit = tok.substr(n);
  int exp10;
  if (unit == "ms") {
    exp10 = 3;
  } else if (unit == "s") {
    exp10 = 0;
  } else if (unit == "us" || unit == "\xC2\xB5s") {
    exp10 = 6;
  } else if (unit == "ns") {
    exp10 = 9;
  } else {
    return false;
  }
  return parse_scaled_decimal(tok, exp10, seconds) == n;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits_at(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool looks_like_date(std::string_view s) {
  return s.size() >= 19 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
         s[4] == '-' && s[7] == '-' && s[10] == 'T';
}

bool word_is_tag_or_level(std::string_view g) {
  for (char c : g) {
    if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == ',' || c == '_' || c == '+' || c == ' '))
      return false;
  }
  return true;
}

bool numeric_decoration(std::string_view g) {
  for (char c : g) {
    if (!(is_digit(c) || c == '.' || c == ',' || c == ':' || c == '-' || c == '+' || c == 'T' ||
          c == 'Z' || c == 's' || c == 'm' || c == 'n'))
      return false;
  }
  return true;
}

// Entry starts of the pre-unified format: `[GC ...` or `[Full GC ...`, not concurrent phases or
// G1 detail lines.
bool is_entry_start(std::string_view rest) {
  if (starts_with(rest, "[Full GC")) return true;
  if (!starts_with(rest, "[GC")) return false;
  if (rest.size() == 3) return false;
  char c = rest[3];
  if (!(c == ' ' || c == '(' || c == '[' || c == '-' || c == ',' || is_digit(c))) return false;
  std::string_view after = rest.substr(3);
  if (starts_with(after, " concurrent") || starts_with(after, " Worker") ||
      starts_with(after, " ref-proc"))
    return false;
  return true;
}

bool is_known_header(std::string_view line) {
  static constexpr std::string_view kPrefixes[] = {"Java HotSpot",
                                                   "OpenJDK",
                                                   "Memory:",
                                                   "CommandLine flags:",
                                                   "/proc/meminfo:",
                                                   "Heap",
                                                   "{Heap",
                                                   "}",
                                                   "Desired survivor size",
                                                   "- age",
                                                   "CPU:",
                                                   "uname:",
                                                   "OS:",
                                                   "rlimit:",
                                                   "load average:",
                                                   "Total time",
                                                   "Application time"};
  for (auto p : kPrefixes) {
    if (starts_with(line, p)) return true;
  }
  return false;
}

}  // namespace

std::string_view kind_name(Kind k) {
  return kKindNames[static_cast<int>(k)];
}

bool parse_kind(std::string_view name, Kind& out) {
  for (int i = 0; i < kKindCount; ++i) {
    if (kKindNames[i] == name) {
      out = static_cast<Kind>(i);
      return true;
    }
  }
  return false;
}

bool parse_iso8601_ns(std::string_view s, int64_t& out_ns, std::optional<int64_t>* offset_out) {
  int y, mo, d, h, mi, sec;
  if (!looks_like_date(s)) return false;
  if (!digits_at(s, 0, 4, y) || !digits_at(s, 5, 2, mo) || !digits_at(s, 8, 2, d) ||
      !digits_at(s, 11, 2, h) || s[13] != ':' || !digits_at(s, 14, 2, mi) || s[16] != ':' ||
      !digits_at(s, 17, 2, sec))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  size_t i = 19;
  int64_t frac_ns = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    int64_t scale = 100000000;
    size_t start = i;
    while (i < s.size() && is_digit(s[i])) {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return false;
  }
  int64_t offset_s = 0;
  if (i < s.size()) {
    if (s[i] == 'Z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      int oh, om;
      if (!digits_at(s, i + 1, 2, oh)) return false;
      size_t j = i + 3;
      if (j < s.size() && s[j] == ':') ++j;
      if (!digits_at(s, j, 2, om)) return false;
      // Real zone offsets lie within -12:00..+14:00; "+9900" or "+0575" is a damaged date.
      if (om >= 60 || oh * 60 + om > 14 * 60) return false;
      offset_s = sign * (oh * 3600 + om * 60);
      i = j + 2;
      if (offset_out) *offset_out = offset_s;
    }
  }
  if (i != s.size()) return false;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  out_ns = secs * 1000000000 + frac_ns;
  return true;
}

uint64_t for_each_line(const std::string& path,
                       const std::function<void(std::string_view, uint64_t)>& fn,
                       std::vector<std::string>* warnings, size_t max_line, bool strip_cr) {
  (void)warnings;  // no non-fatal read problem today: a truncated gzip stream is an error
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw ParseError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw ParseError(fmt::format("{}: cannot read: is a directory", path));
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw ParseError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  gzbuffer(f, 1 << 17);
  if (max_line < 16) max_line = 16;
  const size_t cap = std::max<size_t>(max_line, 1 << 20);
  std::vector<char> buf(cap);
  size_t len = 0;
  uint64_t total = 0;
  uint64_t lineno = 0;
  bool discard = false;  // dropping the rest of an over-long line
  auto truncated = [&](uint64_t bytes) {
    return fmt::format(
        "{}: truncated gzip stream (unexpected end of file after {} uncompressed bytes): the file "
        "is incomplete; copy it again or decompress what is left (zcat {} > x.log) and pass that",
        path, bytes, path);
  };
  auto emit = [&](const char* p, size_t n) {
    if (strip_cr && n > 0 && p[n - 1] == '\r') --n;
    if (n > max_line) n = max_line;
    fn(std::string_view(p, n), ++lineno);
  };
  for (;;) {
    int got = gzread(f, buf.data() + len, static_cast<unsigned>(cap - len));
    if (got < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      std::string m = err == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "read error");
      gzclose(f);
      if (err == Z_BUF_ERROR) throw ParseError(truncated(total));
      throw ParseError(fmt::format("{}: cannot read: {}", path, m));
    }
    if (got == 0) {
      // zlib reports a gzip stream cut short (a partial copy, a full disk) only through
      // gzerror after the last data: fitting the prefix would be silently wrong.
      int err = Z_OK;
      gzerror(f, &err);
      if (err == Z_BUF_ERROR) {
        gzclose(f);
        throw ParseError(truncated(total));
      }
      break;
    }
    total += static_cast<uint64_t>(got);
    size_t end = len + static_cast<size_t>(got);
    size_t start = 0;
    if (discard) {
      const void* nl = std::memchr(buf.data() + len, '\n', end - len);
      if (nl == nullptr) {
        len = 0;
        continue;
      }
      start = static_cast<size_t>(static_cast<const char*>(nl) - buf.data()) + 1;
      discard = false;
    } else {
      start = 0;
    }
    // Scan only the new bytes for the first newline; earlier bytes had none.
    size_t scan_from = std::max(start, len);
    for (;;) {
      const void* nl = std::memchr(buf.data() + scan_from, '\n', end - scan_from);
      if (nl == nullptr) break;
      size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
      emit(buf.data() + start, pos - start);
      start = pos + 1;
      scan_from = start;
    }
    size_t rem = end - start;
    if (rem == cap) {  // a full buffer without a newline: truncate the line
      emit(buf.data(), rem);
      discard = true;
      len = 0;
      continue;
    }
    if (start > 0 && rem > 0) std::memmove(buf.data(), buf.data() + start, rem);
    len = rem;
  }
  if (len > 0 && !discard) emit(buf.data(), len);
  gzclose(f);
  if (total == 0) throw ParseError(fmt::format("{}: empty input (no bytes)", path));
  return total;
}

struct Parser::Prefix {
  bool found = false;
  bool has_date = false;
  int64_t date_ns = 0;
  std::optional<int64_t> date_offset_s;  // the date's UTC offset, when it carried one
  bool has_uptime = false;
  int64_t uptime_ns = 0;
  size_t len = 0;
};

namespace {

// Pre-unified line prefix: [date: ][uptime: ][#id: ]
void parse_prefix(std::string_view line, Parser::Prefix& p);

}  // namespace

Parser::Parser(std::function<void(const Pause&)> sink, std::string path) : sink_(std::move(sink)) {
  stats_.path = std::move(path);
  stats_.collector = hint_;
}

void Parser::emit(Pause& p) {
  ++stats_.pauses;
  ++stats_.by_kind[static_cast<int>(p.kind)];
  if (p.absolute) stats_.dates = true;
  sink_(p);
}

void Parser::skip(std::string_view line, uint64_t lineno) {
  ++stats_.skipped_lines;
  if (stats_.skipped_examples.size() < 5) {
    stats_.skipped_examples.emplace_back(lineno, std::string(line.substr(0, 120)));
  }
}

void Parser::note_collector(std::string_view t) {
  const char* c = nullptr;
  if (contains(t, "+UseG1GC") || contains(t, "Using G1")) {
    c = "G1";
  } else if (contains(t, "+UseConcMarkSweepGC") || contains(t, "Using Concurrent Mark Sweep")) {
    c = "CMS";
  } else if (contains(t, "+UseParallelGC") || contains(t, "+UseParallelOldGC") ||
             contains(t, "Using Parallel")) {
    c = "Parallel";
  } else if (contains(t, "+UseSerialGC") || contains(t, "Using Serial")) {
    c = "Serial";
  } else if (contains(t, "+UseShenandoahGC") || contains(t, "Using Shenandoah")) {
    c = "Shenandoah";
  } else if (contains(t, "+UseZGC") || contains(t, "Using The Z Garbage Collector")) {
    c = "ZGC";
  }
  if (c != nullptr) {
    hint_ = c;
    stats_.collector = hint_;
  }
}

namespace {

void parse_prefix(std::string_view line, Parser::Prefix& p) {
  size_t pos = 0;
  if (looks_like_date(line)) {
    size_t e = line.find(": ");
    int64_t ns;
    if (e != std::string_view::npos && parse_iso8601_ns(line.substr(0, e), ns, &p.date_offset_s)) {
      p.has_date = true;
      p.date_ns = ns;
      pos = e + 2;
    }
  }
  {
    double up = 0;
    size_t n = parse_decimal(line.substr(pos), up);
    if (n > 0 && pos + n + 1 < line.size() && line[pos + n] == ':' && line[pos + n + 1] == ' ') {
      p.has_uptime = true;
      p.uptime_ns = to_ns(up);
      pos += n + 2;
    }
  }
  if (pos < line.size() && line[pos] == '#') {
    size_t i = pos + 1;
    while (i < line.size() && is_digit(line[i])) ++i;
    if (i > pos + 1 && i + 1 < line.size() && line[i] == ':' && line[i + 1] == ' ') pos = i + 2;
  }
  p.found = pos > 0;
  p.len = pos;
}

void set_time(Pause& pz, const Parser::Prefix& pre, int64_t minus_ns) {
  pz.timed = pre.has_date || pre.has_uptime;
  pz.absolute = pre.has_date;
  pz.uptime_ns = pre.has_uptime ? pre.uptime_ns - minus_ns : -1;
  if (pre.has_date) {
    pz.t_ns = pre.date_ns - minus_ns;
    pz.utc_offset_s = pre.date_offset_s;
  } else if (pre.has_uptime) {
    pz.t_ns = pz.uptime_ns;
  } else {
    pz.t_ns = 0;
  }
}

}  // namespace

void Parser::feed(std::string_view line, uint64_t lineno) {
  ++stats_.lines;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!open_ && !line.empty() && line[0] == '[' && unified_line(line)) return;
  preunified_line(line, lineno);
}

bool Parser::unified_line(std::string_view line) {
  size_t pos = 0;
  int ndeco = 0;
  bool has_abs = false, has_up = false;
  int64_t abs_ns = 0, up_ns = 0;
  std::optional<int64_t> abs_offset_s;
  while (pos < line.size() && line[pos] == '[') {
    size_t close = line.find(']', pos);
    if (close == std::string_view::npos) break;
    std::string_view g = line.substr(pos + 1, close - pos - 1);
    std::string_view gt = trim(g);
    if (gt.empty()) break;
    if (is_digit(gt[0]) && numeric_decoration(gt)) {
      if (looks_like_date(gt)) {
        int64_t ns;
        if (parse_iso8601_ns(gt, ns, &abs_offset_s)) {
          has_abs = true;
          abs_ns = ns;
        }
      } else {
        double v = 0;
        size_t n = parse_decimal(gt, v);
        std::string_view unit = gt.substr(n);
        if (n > 0 && (unit == "s" || unit == "ms" || unit == "ns")) {
          double secs = unit == "s" ? v : unit == "ms" ? v / 1e3 : v / 1e9;
          if (secs > 1e8) {  // timemillis / timenanos: wall clock since the epoch
            has_abs = true;
            abs_ns = unit == "s"    ? to_ns(v)
                     : unit == "ms" ? static_cast<int64_t>(v) * 1000000
                                    : static_cast<int64_t>(v);
          } else {
            has_up = true;
            up_ns = to_ns(secs);
          }
        }
        // plain numbers are pid/tid decorations
      }
    } else if (!word_is_tag_or_level(gt)) {
      break;
    }
    ++ndeco;
    pos = close + 1;
  }
  if (ndeco == 0) return false;
  stats_.unified = true;
  std::string_view msg = trim(line.substr(pos));

  double seconds = 0;
  Kind kind = Kind::Young;
  std::string collector;
  bool pause = false;
  if (starts_with(msg, "Using ")) {
    note_collector(msg);
  } else if (starts_with(msg, "GC(")) {
    size_t e = msg.find(") ");
    std::string_view rest = e == std::string_view::npos ? std::string_view() : msg.substr(e + 2);
    if (rest.size() > 3 && rest[1] == ':' && rest[2] == ' ') rest.remove_prefix(3);  // ZGC "y: "
    if (starts_with(rest, "Pause ")) {
      size_t sp = rest.rfind(' ');
      std::string_view tok = rest.substr(sp + 1);
      bool ok = parse_duration_token(tok, seconds);
      if (ok && !sane_pause(seconds)) ok = false;
      if (!ok && looks_like_bad_duration(tok)) {
        skip(line, stats_.lines);
        return true;
      }
      if (ok) {
        std::string_view what = rest.substr(6);
        collector = hint_;
        pause = true;
        if (starts_with(what, "Young")) {
          kind = contains(what, "(Mixed)") ? Kind::Mixed : Kind::Young;
        } else if (starts_with(what, "Mixed")) {
          kind = Kind::Mixed;
        } else if (starts_with(what, "Initial Mark")) {
          kind = Kind::Young;
        } else if (starts_with(what, "Full")) {
          kind = Kind::Full;
        } else if (starts_with(what, "Remark")) {
          kind = Kind::Remark;
        } else if (starts_with(what, "Cleanup")) {
          kind = Kind::Cleanup;
        } else if (starts_with(what, "Degenerated")) {
          kind = Kind::Full;
          collector = "Shenandoah";
        } else if (starts_with(what, "Init ") || starts_with(what, "Final ")) {
          kind = Kind::Remark;
          collector = "Shenandoah";
        } else if (starts_with(what, "Mark Start") || starts_with(what, "Mark End") ||
                   starts_with(what, "Relocate Start")) {
          kind = Kind::Remark;
          collector = "ZGC";
        } else {
          pause = false;
          ++stats_.unknown_pauses;
        }
        if (collector == "unknown" && contains(what, "G1 ")) collector = "G1";
        if (collector != "unknown" && collector != hint_) {
          hint_ = collector;
          stats_.collector = hint_;
        }
      }
    }
  } else if (starts_with(msg, kStoppedPrefix)) {
    std::string_view v = msg.substr(kStoppedPrefix.size());
    size_t n = parse_decimal(v, seconds);
    if (n > 0 && starts_with(v.substr(n), " seconds") && sane_pause(seconds)) {
      pause = true;
      kind = Kind::Safepoint;
      collector = hint_;
    } else {
      skip(line, stats_.lines);  // the safepoint line with a damaged duration
      return true;
    }
  } else if (starts_with(msg, "Safepoint \"")) {
    size_t t = msg.find("Total: ");
    if (t != std::string_view::npos) {
      size_t n = parse_scaled_decimal(msg.substr(t + 7), 9, seconds);
      if (n > 0 && starts_with(msg.substr(t + 7 + n), " ns")) {
        pause = true;
        kind = Kind::Safepoint;
        collector = hint_;
      }
    }
  }
  if (!pause) {
    ++stats_.ignored_lines;
    return true;
  }
  Pause p;
  p.seconds = seconds;
  p.kind = kind;
  p.collector = std::move(collector);
  p.line = stats_.lines;
  int64_t d = to_ns(seconds);
  p.absolute = has_abs;
  p.timed = has_abs || has_up;
  if (has_abs) p.utc_offset_s = abs_offset_s;
  p.uptime_ns = has_up ? up_ns - d : -1;
  p.t_ns = has_abs ? abs_ns - d : has_up ? up_ns - d : 0;
  emit(p);
  return true;
}

void Parser::preunified_line(std::string_view line, uint64_t lineno) {
  Prefix pre;
  parse_prefix(line, pre);
  std::string_view rest = line.substr(pre.len);
  if (open_) {
    if (is_entry_start(rest) && (pre.found || line[0] == '[')) {
      ++stats_.abandoned_entries;  // a new entry starts before the previous one closed
      open_ = false;
    } else {
      ++stats_.ignored_lines;
      ++entry_lines_;
      size_t from = entry_.size();
      entry_.push_back('\n');
      entry_.append(line);
      scan_entry(std::string_view(entry_).substr(from));
      if (open_ && (entry_lines_ > 256 || entry_.size() > (64 << 10))) {
        ++stats_.abandoned_entries;
        open_ = false;
      }
      return;
    }
  }
  if (pre.found || (!rest.empty() && rest[0] == '[')) {
    stats_.preunified = true;
    if (is_entry_start(rest)) {
      start_entry(rest, pre, lineno);
      return;
    }
    if (pre.found && starts_with(rest, kStoppedPrefix)) {
      double s = 0;
      std::string_view v = rest.substr(kStoppedPrefix.size());
      size_t n = parse_decimal(v, s);
      if (n == 0 || !starts_with(v.substr(n), " seconds") || !sane_pause(s)) {
        skip(line, lineno);  // the safepoint line with a damaged duration
        return;
      }
      {
        Pause p;
        p.seconds = s;
        p.kind = Kind::Safepoint;
        p.collector = hint_;
        p.line = lineno;
        set_time(p, pre, to_ns(s));
        emit(p);
        return;
      }
    }
    ++stats_.ignored_lines;  // concurrent phases, Application time, G1 detail lines
    return;
  }
  if (trim(line).empty() || line[0] == ' ' || line[0] == '\t' || line[0] == ',') {
    ++stats_.ignored_lines;  // blank lines, detail lines, heap summaries
    return;
  }
  if (is_known_header(line)) {
    if (starts_with(line, "CommandLine flags:")) note_collector(line);
    ++stats_.ignored_lines;
    return;
  }
  skip(line, lineno);
}

void Parser::start_entry(std::string_view text, const Prefix& pre, uint64_t lineno) {
  open_ = true;
  depth_ = 0;
  entry_lines_ = 1;
  entry_.assign(text);
  pending_ = Pause();
  pending_.line = lineno;
  set_time(pending_, pre, 0);
  scan_entry(entry_);
}

void Parser::scan_entry(std::string_view text) {
  // `text` is a suffix of entry_.
  size_t base = entry_.size() - text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '[') {
      ++depth_;
    } else if (c == ']') {
      if (--depth_ == 0) {
        entry_.resize(base + i);
        close_entry();
        return;
      }
    }
  }
}

void Parser::close_entry() {
  open_ = false;
  // entry_ holds "[GC ...., 0.0121737 secs" (without the closing bracket).
  std::string_view e = trim(entry_);
  std::string_view body = e.substr(1);
  if (e.size() >= 4 && e.substr(e.size() - 4) == "secs") {
    e.remove_suffix(4);
  } else if (e.size() >= 3 && e.substr(e.size() - 3) == "sec") {
    e.remove_suffix(3);
  } else {
    ++stats_.ignored_lines;  // a bracketed entry without a duration
    return;
  }
  e = trim(e);
  double s = 0;
  if (!parse_trailing_decimal(e, s)) {
    // "..., -0.5 secs", "nan secs", ",  secs", "1e999 secs": a damaged pause line.
    size_t nl = entry_.find('\n');
    skip(std::string_view(entry_).substr(0, nl), pending_.line);
    return;
  }
  Kind kind;
  std::string collector;
  if (starts_with(body, "Full GC")) {
    kind = Kind::Full;
  } else if (starts_with(body, "GC pause")) {
    size_t nl = body.find_first_of("\n[");  // header: up to a nested entry or the next line
    std::string_view head = body.substr(0, nl);
    kind = contains(head, "(mixed)") || contains(head, "(partial)") ? Kind::Mixed : Kind::Young;
    collector = "G1";
  } else if (starts_with(body, "GC remark")) {
    kind = Kind::Remark;
    collector = "G1";
  } else if (starts_with(body, "GC cleanup")) {
    kind = Kind::Cleanup;
    collector = "G1";
  } else if (contains(body, "CMS-initial-mark") || contains(body, "CMS Initial Mark") ||
             contains(body, "CMS-remark") || contains(body, "CMS Final Remark")) {
    kind = Kind::Remark;
    collector = "CMS";
  } else if (contains(body, "[CMS:") || contains(body, "[Tenured:")) {
    kind = Kind::Full;  // promotion failure / concurrent mode failure inside a young entry
  } else {
    kind = Kind::Young;
  }
  if (collector.empty()) {
    if (contains(body, "ParNew") || contains(body, "CMS")) {
      collector = "CMS";
    } else if (contains(body, "PSYoungGen") || contains(body, "ParOldGen") ||
               contains(body, "PSOldGen")) {
      collector = "Parallel";
    } else if (contains(body, "DefNew") || contains(body, "Tenured")) {
      collector = "Serial";
    } else {
      collector = hint_;
    }
  }
  if (collector != "unknown") {
    hint_ = collector;
    stats_.collector = hint_;
  }
  pending_.seconds = s;
  pending_.kind = kind;
  pending_.collector = std::move(collector);
  emit(pending_);
}

const ParseStats& Parser::finish() {
  if (open_) {
    ++stats_.abandoned_entries;
    open_ = false;
  }
  return stats_;
}

ParseStats parse_file(const std::string& path, const std::function<void(const Pause&)>& sink) {
  Parser parser(sink, path);
  std::vector<std::string> warnings;
  uint64_t bytes = for_each_line(
      path, [&](std::string_view line, uint64_t n) { parser.feed(line, n); }, &warnings);
  ParseStats st = parser.finish();
  st.bytes = bytes;
  st.warnings = std::move(warnings);
  return st;
}

}  // namespace zksim::gcfit
