#include "sim/textlog.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "sim/config.h"

namespace sim {

TextLogs::~TextLogs() {
  for (auto& [path, f] : files_) std::fclose(f);
}

void TextLogs::line(const std::string& host, const std::string& file, const std::string& text) {
  if (!enabled()) return;
  // Host folders are named like the seeds' collections: 10.10.10.152 -> 10_10_10_152.
  std::string folder = host;
  for (char& c : folder) {
    if (c == '.' || c == ':' || c == '/') c = '_';
  }
  std::string path = dir_ + "/" + folder + "/" + file;
  auto it = files_.find(path);
  if (it == files_.end()) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/" + folder, ec);
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f)
      throw ConfigError("",
                        fmt::format("cannot create log file {}: {}", path, std::strerror(errno)));
    it = files_.emplace(path, f).first;
  }
  std::fwrite(text.data(), 1, text.size(), it->second);
  std::fputc('\n', it->second);
}

void TextLogs::flush() {
  for (auto& [path, f] : files_) {
    if (std::fflush(f) != 0 || std::ferror(f))
      throw ConfigError("",
                        fmt::format("cannot write log file {}: {}", path, std::strerror(errno)));
  }
}

// Howard Hinnant's days_from_civil / civil_from_days.
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilTime civil_from_ns(int64_t ns) {
  int64_t secs = ns >= 0 ? ns / 1000'000'000 : (ns - 999'999'999) / 1000'000'000;
  int64_t nanos = ns - secs * 1000'000'000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400;
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp + (mp < 10 ? 3 : -9);
  return CivilTime{static_cast<int>(y + (m <= 2)),
                   static_cast<int>(m),
                   static_cast<int>(d),
                   static_cast<int>(sod / 3600),
                   static_cast<int>(sod / 60 % 60),
                   static_cast<int>(sod % 60),
                   nanos};
}

int64_t ns_from_civil(int year, int month, int day, int hour, int minute, int second) {
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 86400) + hour * 3600 + minute * 60 + second) * 1000'000'000;
}

}  // namespace sim
