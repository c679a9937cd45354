#include "sim/probe.h"

#include <algorithm>
#include <string_view>

#include "sim/check.h"

namespace sim {
namespace {

// A function-local static: initialised on first use, so sites may register from any file's static
// initialisers.
std::vector<const ProbeSite*>& registry() {
  static std::vector<const ProbeSite*> sites;
  return sites;
}

}  // namespace

// Registration only stores the address: reading another file's site here would touch a global
// of a file whose initialisation order is unspecified (ASan's strict_init_order reports it).
ProbeSite::ProbeSite(const char* name) : name_(name), index_(registry().size()) {
  registry().push_back(this);
}

const std::vector<const ProbeSite*>& probe_catalog() {
  // Sites register during static initialisation, before main: by the first call all have.
  static const std::vector<const ProbeSite*> sorted = [] {
    std::vector<const ProbeSite*> out = registry();
    std::sort(out.begin(), out.end(), [](const ProbeSite* a, const ProbeSite* b) {
      return std::string_view(a->name()) < std::string_view(b->name());
    });
    for (size_t i = 1; i < out.size(); ++i)
      SIM_CHECK(std::string_view(out[i - 1]->name()) != out[i]->name(), "probe {} declared twice",
                out[i]->name());
    return out;
  }();
  return sorted;
}

std::vector<std::pair<std::string, uint64_t>> ProbeCounts::by_name() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const ProbeSite* s : probe_catalog()) out.emplace_back(s->name(), count(*s));
  return out;
}

}  // namespace sim
