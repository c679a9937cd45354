#include "tools/gcfit/seed.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "tools/gcfit/parser.h"

namespace zksim::gcfit {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\x1c' ||
         c == '\x1d' || c == '\x1e' || c == '\x1f';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

// Digits with single underscores between digits (Python 3.6+ numeric literal rule).
bool take_digits(std::string_view s, size_t& i, std::string& out) {
  size_t start = i;
  while (i < s.size()) {
    if (is_digit(s[i])) {
      out.push_back(s[i++]);
    } else if (s[i] == '_' && i > start && is_digit(s[i - 1]) && i + 1 < s.size() &&
               is_digit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  return i > start;
}

// Python repr of a str (for error messages), ASCII only.
std::string py_str_repr(std::string_view s) {
  bool has_sq = s.find('\'') != std::string_view::npos;
  bool has_dq = s.find('"') != std::string_view::npos;
  char q = has_sq && !has_dq ? '"' : '\'';
  std::string r(1, q);
  for (unsigned char c : s) {
    if (c == '\\') {
      r += "\\\\";
    } else if (c == q) {
      r += '\\';
      r += static_cast<char>(c);
    } else if (c == '\n') {
      r += "\\n";
    } else if (c == '\r') {
      r += "\\r";
    } else if (c == '\t') {
      r += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      r += fmt::format("\\x{:02x}", c);
    } else {
      r += static_cast<char>(c);
    }
  }
  r += q;
  return r;
}

struct NumKey {
  bool neg = false;
  std::string_view intpart;   // without leading zeros
  std::string_view fracpart;  // without trailing zeros
};

NumKey sort_key(std::string_view s) {
  NumKey k;
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (i < s.size() && s[i] == '-') {
    k.neg = true;
    ++i;
  }
  size_t a = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  std::string_view ip = s.substr(a, i - a);
  while (!ip.empty() && ip.front() == '0') ip.remove_prefix(1);
  k.intpart = ip;
  if (i < s.size() && s[i] == '.') {
    size_t b = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    std::string_view fp = s.substr(b, i - b);
    while (!fp.empty() && fp.back() == '0') fp.remove_suffix(1);
    k.fracpart = fp;
  }
  if (k.intpart.empty() && k.fracpart.empty()) k.neg = false;  // -0 == 0
  return k;
}

int cmp_abs(const NumKey& a, const NumKey& b) {
  if (a.intpart.size() != b.intpart.size()) return a.intpart.size() < b.intpart.size() ? -1 : 1;
  int c = a.intpart.compare(b.intpart);
  if (c != 0) return c < 0 ? -1 : 1;
  c = a.fracpart.compare(b.fracpart);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

}  // namespace

std::string python_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  std::string out;
  if (s.front() == '-') {
    out.push_back('-');
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp10);
  int decpt = exp10 + 1;  // value = 0.DIGITS * 10^decpt
  const int nd = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += fmt::format("e{}{:02d}", exp10 < 0 ? '-' : '+', std::abs(exp10));
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= nd) {
    out += digits;
    out.append(static_cast<size_t>(decpt - nd), '0');
    out += ".0";
  } else {
    out += digits.substr(0, static_cast<size_t>(decpt));
    out += '.';
    out += digits.substr(static_cast<size_t>(decpt));
  }
  return out;
}

bool python_float(std::string_view s, double& out) {
  while (!s.empty() && py_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && py_space(s.back())) s.remove_suffix(1);
  if (s.empty()) return false;
  bool neg = false;
  std::string_view body = s;
  if (body.front() == '+' || body.front() == '-') {
    neg = body.front() == '-';
    body.remove_prefix(1);
  }
  if (iequals(body, "inf") || iequals(body, "infinity")) {
    out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (iequals(body, "nan")) {
    out = neg ? -std::nan("") : std::nan("");
    return true;
  }
  std::string num;
  size_t i = 0;
  bool intd = take_digits(body, i, num);
  bool fracd = false;
  if (i < body.size() && body[i] == '.') {
    num.push_back('.');
    ++i;
    fracd = take_digits(body, i, num);
  }
  if (!intd && !fracd) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    num.push_back('e');
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) num.push_back(body[i++]);
    if (!take_digits(body, i, num)) return false;
  }
  if (i != body.size()) return false;
  double v = 0;
  auto r = std::from_chars(num.data(), num.data() + num.size(), v);
  if (r.ptr != num.data() + num.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    // Python gives inf on overflow and 0.0 (or a subnormal) on underflow; from_chars leaves v
    // unchanged. Decide by the exponent's sign.
    bool big = num.find("e-") == std::string::npos;
    v = big ? HUGE_VAL : 0.0;
  }
  out = neg ? -v : v;
  return true;
}

bool sort_n_less(std::string_view a, std::string_view b) {
  NumKey ka = sort_key(a), kb = sort_key(b);
  int c;
  if (ka.neg != kb.neg) {
    c = ka.neg ? -1 : 1;
  } else {
    c = cmp_abs(ka, kb);
    if (ka.neg) c = -c;
  }
  if (c != 0) return c < 0;
  return a < b;  // last-resort comparison of whole lines (C locale: bytes)
}

std::string_view awk_nf_minus_1(std::string_view line) {
  // Fields are separated by runs of space, tab and newline; leading/trailing ones are ignored.
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  size_t end = line.size();
  while (end > 0 && blank(line[end - 1])) --end;
  size_t last_start = end;
  while (last_start > 0 && !blank(line[last_start - 1])) --last_start;
  size_t e2 = last_start;
  while (e2 > 0 && blank(line[e2 - 1])) --e2;
  if (e2 == 0) return line;  // NF <= 1: $(NF-1) is $0
  size_t s2 = e2;
  while (s2 > 0 && !blank(line[s2 - 1])) --s2;
  return line.substr(s2, e2 - s2);
}

std::vector<std::string> SeedResult::lines() const {
  return {"sum: " + python_repr(sum), "avg: " + python_repr(avg), "min: " + python_repr(min),
          "max: " + python_repr(max), fmt::format("count: {}", count)};
}

void SeedCollector::add_line(std::string_view line) {
  if (line.find("GC pause") != std::string_view::npos) fields_.emplace_back(awk_nf_minus_1(line));
}

SeedResult SeedCollector::result() const {
  std::vector<std::string_view> fields(fields_.begin(), fields_.end());
  std::sort(fields.begin(), fields.end(), sort_n_less);
  SeedResult r;
  std::vector<double> a;
  a.reserve(fields.size());
  for (std::string_view f : fields) {
    double v;
    if (!python_float(f, v)) {
      // Python reports the line as read from stdin, newline included.
      r.error =
          "ValueError: could not convert string to float: " + py_str_repr(std::string(f) + "\n");
      return r;
    }
    a.push_back(v);
  }
  r.count = static_cast<int64_t>(a.size());
  for (double v : a) r.sum += v;
  if (a.empty()) {
    r.error = "ZeroDivisionError: float division by zero";
    return r;
  }
  r.avg = r.sum / static_cast<double>(a.size());
  r.min = *std::min_element(a.begin(), a.end());
  r.max = *std::max_element(a.begin(), a.end());
  return r;
}

SeedResult seed_pipeline(const std::vector<std::string>& paths) {
  SeedCollector c;
  for (const std::string& path : paths) {
    for_each_line(
        path, [&](std::string_view line, uint64_t) { c.add_line(line); }, nullptr, 1 << 20,
        /*strip_cr=*/false);
  }
  return c.result();
}

}  // namespace zksim::gcfit
