#include "tools/sweep/merge.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "tools/sweep/sweep.h"

namespace zksim::sweep {

std::vector<std::string> parse_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

namespace {

struct Row {
  std::string file;
  size_t line = 0;
  std::string text;  // with its newline
  std::string key;
  std::vector<std::string> values;  // axis values
  std::vector<std::string> metrics;
  std::string shape;
};

struct Failure {
  int code;
  std::string msg;
};

}  // namespace

int merge_files(const std::vector<std::string>& files, std::FILE* out, std::FILE* err) {
  try {
    if (files.empty()) throw Failure{2, "no input files"};
    std::optional<bool> jsonl;
    std::string header;  // CSV
    std::vector<std::string> axes;
    size_t ncols = 0;  // CSV
    std::string spec_hash;
    std::string shape;
    int64_t points = -1;
    std::map<size_t, Row> rows;
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      if (!in) throw Failure{2, fmt::format("{}: cannot open", path)};
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      if (text.empty()) throw Failure{2, fmt::format("{}: empty (not a sweep output)", path)};
      // A file that is no sweep output at all is bad input (2), not an unfinished sweep (1).
      if (text[0] != '{' && text.rfind("point,points,spec_hash,shape,key,", 0) != 0)
        throw Failure{2, fmt::format("{}:1: not a zksim sweep CSV header or JSONL row", path)};
      if (text.back() != '\n') {
        throw Failure{
            1, fmt::format("{}: ends with a torn line: that sweep did not finish; rerun the same "
                           "command (it resumes) before merging",
                           path)};
      }
      bool is_jsonl = text[0] == '{';
      if (!jsonl) jsonl = is_jsonl;
      if (*jsonl != is_jsonl) throw Failure{2, fmt::format("{}: mixes CSV and JSONL inputs", path)};
      std::istringstream lines(text);
      std::string line;
      size_t lineno = 0;
      while (std::getline(lines, line)) {
        ++lineno;
        Row r;
        r.file = path;
        r.line = lineno;
        r.text = line + "\n";
        size_t point = 0;
        int64_t pts = 0;
        std::string hash;
        auto bad = [&](const std::string& why) {
          return Failure{2, fmt::format("{}:{}: {}", path, lineno, why)};
        };
        if (!is_jsonl) {
          if (lineno == 1) {
            if (line.rfind("point,points,spec_hash,shape,key,", 0) != 0)
              throw bad("not a zksim sweep CSV header");
            if (header.empty()) {
              header = r.text;
              auto cols = parse_csv_line(line);
              ncols = cols.size();
              for (size_t i = 5; i < cols.size() && cols[i] != "runs"; ++i) axes.push_back(cols[i]);
            } else if (header != r.text) {
              throw bad("header differs from the first file's (a different sweep)");
            }
            continue;
          }
          auto f = parse_csv_line(line);
          if (f.size() != ncols)
            throw bad(
                fmt::format("not a sweep row ({} fields, the header has {})", f.size(), ncols));
          try {
            size_t used = 0;
            point = std::stoul(f[0], &used);
            if (used != f[0].size()) throw bad("bad point number");
            pts = std::stoll(f[1]);
          } catch (const std::logic_error&) {
            throw bad("bad point number");
          }
          hash = f[2];
          r.shape = f[3];
          r.key = f[4];
          for (size_t a = 0; a < axes.size(); ++a) r.values.push_back(f[5 + a]);
          r.metrics.assign(f.begin() + static_cast<long>(5 + axes.size()), f.end());
        } else {
          auto j = nlohmann::ordered_json::parse(line, nullptr, false);
          if (j.is_discarded() || !j.is_object() || !j.contains("point") ||
              !j["point"].is_number_unsigned() || !j.contains("points") ||
              !j.contains("spec_hash") || !j.contains("key") || !j.contains("params") ||
              !j.contains("shape")) {
            throw bad("not a sweep JSONL row");
          }
          if (!j["key"].is_string() || !j["shape"].is_string() || !j["spec_hash"].is_string() ||
              !j["points"].is_number_integer() || !j["params"].is_object())
            throw bad("not a sweep JSONL row (a field of the wrong type)");
          point = j["point"].get<size_t>();
          pts = j["points"].get<int64_t>();
          hash = j["spec_hash"].get<std::string>();
          r.key = j["key"].get<std::string>();
          r.shape = j["shape"].get<std::string>();
          std::vector<std::string> names;
          for (auto it = j["params"].begin(); it != j["params"].end(); ++it) {
            names.push_back(it.key());
            r.values.push_back(it.value().is_string() ? it.value().get<std::string>()
                                                      : it.value().dump());
          }
          if (axes.empty()) axes = names;
          if (names != axes)
            throw bad("its grid axes differ from the first file's (a different sweep)");
          for (const char* c : kMetricColumns) {
            if (!j.contains(c)) throw bad(fmt::format("not a sweep JSONL row (no {})", c));
            r.metrics.push_back(j[c].is_string() ? j[c].get<std::string>() : j[c].dump());
          }
        }
        std::string why = check_row_content(axes, r.values, r.key, r.metrics);
        if (!why.empty()) throw bad(why);
        if (spec_hash.empty()) {
          spec_hash = hash;
          points = pts;
          shape = r.shape;
        }
        if (r.shape != shape) {
          throw bad(fmt::format("shape \"{}\" differs from \"{}\" (first seen in {})", r.shape,
                                shape, rows.empty() ? path : rows.begin()->second.file));
        }
        if (hash != spec_hash) {
          throw bad(fmt::format(
              "spec hash {} differs from {} (first seen in {}): outputs of different sweeps", hash,
              spec_hash, rows.empty() ? path : rows.begin()->second.file));
        }
        if (pts != points || point >= static_cast<size_t>(points)) {
          throw bad(
              fmt::format("point {} of {} does not fit a sweep of {} points", point, pts, points));
        }
        auto [it, fresh] = rows.emplace(point, r);
        if (!fresh) {
          throw Failure{1, fmt::format("point {} ({}) appears twice: {}:{} and {}:{}", point, r.key,
                                       it->second.file, it->second.line, path, lineno)};
        }
      }
    }
    if (points < 0)
      throw Failure{1, fmt::format("no rows at all: the sweep has not run (missing every point)")};
    // The points' coordinates follow from the grid's shape (row-major, last axis fastest): rows
    // that share a coordinate must agree on that axis's value (else a row was edited or damaged),
    // and the missing points are named with the values of rows that share theirs.
    std::vector<size_t> sizes;
    {
      std::string dims = shape + "x";
      size_t pos = 0;
      for (size_t x; (x = dims.find('x', pos)) != std::string::npos; pos = x + 1) {
        std::string part = dims.substr(pos, x - pos);
        if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos ||
            part.size() > 9) {
          sizes.clear();
          break;
        }
        sizes.push_back(std::stoul(part));
      }
    }
    size_t product = 1;
    for (size_t n : sizes) product *= n == 0 ? 1 : n;
    bool can_name = sizes.size() == axes.size() && product == static_cast<size_t>(points);
    for (size_t n : sizes) can_name = can_name && n > 0;
    std::vector<std::map<size_t, const Row*>> digit_row(axes.size());
    if (can_name) {
      for (const auto& [p, r] : rows) {
        size_t rem = p;
        for (size_t a = axes.size(); a-- > 0;) {
          auto [it, fresh] = digit_row[a].emplace(rem % sizes[a], &r);
          if (!fresh && it->second->values[a] != r.values[a]) {
            throw Failure{2, fmt::format("{}:{}: point {} has {}={}, but {}:{} has {}={} at the "
                                         "same grid coordinate (a damaged or edited row?)",
                                         r.file, r.line, p, axes[a], r.values[a], it->second->file,
                                         it->second->line, axes[a], it->second->values[a])};
          }
          rem /= sizes[a];
        }
      }
    }
    if (rows.size() != static_cast<size_t>(points)) {
      std::vector<std::string> missing;
      size_t count = 0;
      for (size_t p = 0; p < static_cast<size_t>(points); ++p) {
        if (rows.count(p)) continue;
        ++count;
        if (missing.size() >= 20) continue;
        std::string key;
        if (can_name) {
          size_t rem = p;
          std::vector<std::string> parts(axes.size());
          for (size_t a = axes.size(); a-- > 0;) {
            auto it = digit_row[a].find(rem % sizes[a]);
            parts[a] = it == digit_row[a].end() ? fmt::format("{}=<value {} of {}>", axes[a],
                                                              rem % sizes[a] + 1, sizes[a])
                                                : axes[a] + "=" + it->second->values[a];
            rem /= sizes[a];
          }
          for (size_t a = 0; a < parts.size(); ++a) key += (a ? ";" : "") + parts[a];
        }
        missing.push_back(key.empty() ? fmt::format("point {}", p)
                                      : fmt::format("point {} ({})", p, key));
      }
      std::string list;
      for (const auto& m : missing) list += "\n  " + m;
      if (count > missing.size())
        list += fmt::format("\n  ... and {} more", count - missing.size());
      throw Failure{1, fmt::format("incomplete: {} of {} points missing (spec hash {}):{}", count,
                                   points, spec_hash, list)};
    }
    std::string all = header;
    for (const auto& [p, r] : rows) all += r.text;
    if (std::fwrite(all.data(), 1, all.size(), out) != all.size() || std::fflush(out) != 0) {
      throw Failure{2, "cannot write the merged output"};
    }
    return 0;
  } catch (const Failure& f) {
    fmt::print(err, "zksim merge: {}\n", f.msg);
    return f.code;
  }
}

}  // namespace zksim::sweep
