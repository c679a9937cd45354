// Helpers shared by the ingest tests: temp folders and running ingest on them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/ingest/ingest.h"
#include "tools/ingest/summary.h"

namespace zksim::ingest::testing {

namespace fs = std::filesystem;

inline fs::path shared_dir() {
  return fs::path(ZKSIM_SHARED_DIR);
}

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("zksim-ingest-") + std::to_string(::getpid()) + "-" +
                       (info ? std::string(info->test_suite_name()) + "." + info->name() : "x");
    path_ = fs::temp_directory_path() / name;
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  // Writes `text` to path()/rel, creating folders.
  fs::path write(const std::string& rel, const std::string& text) const {
    fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << text;
    return p;
  }

 private:
  fs::path path_;
};

inline std::vector<const Event*> of_type(const Timeline& tl, EventType t) {
  std::vector<const Event*> out;
  for (const Event& e : tl.events)
    if (e.type == t) out.push_back(&e);
  return out;
}

inline std::size_t count_type(const Timeline& tl, EventType t) {
  return of_type(tl, t).size();
}

inline std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace zksim::ingest::testing
