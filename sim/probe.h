// Rare-path probes (STYLE.md 10, FoundationDB's CODE_PROBE): a model marks a branch that decides
// an outcome and rarely runs (a TRUNC sync, a local timer firing while the ZooKeeper session is
// still alive); each run counts its hits and a campaign reports the probes it never reached, so a
// "nothing found in 5,000 runs" says which of those paths the 5,000 runs exercised.
//
// Sites are objects at namespace scope in the model's .cc; they register themselves during static
// initialisation, whose order between files is unspecified, so nothing depends on a site's index:
// reports go by name. Probes only count; no behaviour reads them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sim {

// Declared as `const ProbeSite kX{"area.what_happened"};  // when it is hit, in a sentence`.
class ProbeSite {
 public:
  explicit ProbeSite(const char* name);
  ProbeSite(const ProbeSite&) = delete;
  ProbeSite& operator=(const ProbeSite&) = delete;
  const char* name() const { return name_; }
  size_t index() const { return index_; }

 private:
  const char* name_;
  size_t index_;
};

// Every site linked into the program, sorted by name (computed once, on the first call).
const std::vector<const ProbeSite*>& probe_catalog();

// One run's hit counts.
class ProbeCounts {
 public:
  void hit(const ProbeSite& s) {
    if (s.index() >= n_.size()) n_.resize(s.index() + 1, 0);
    ++n_[s.index()];
  }
  uint64_t count(const ProbeSite& s) const { return s.index() < n_.size() ? n_[s.index()] : 0; }
  // (name, count) for every site in the catalogue, by name, zeros included.
  std::vector<std::pair<std::string, uint64_t>> by_name() const;

 private:
  std::vector<uint64_t> n_;
};

}  // namespace sim
