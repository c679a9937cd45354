#include "tests/sim/trace_event_validator.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

namespace zksim::testing {
namespace {

using nlohmann::json;

struct Ev {
  size_t index;  // position in the file
  const json* j;
  std::string ph;
  std::string name;
  int64_t pid = 0;
  int64_t tid = 0;
  double ts = 0;
  bool ok = false;  // passed the per-event checks needed for matching
};

std::string id_string(const json& id) {
  return id.is_string() ? id.get<std::string>() : id.dump();
}

std::string describe(const Ev& e) {
  return fmt::format("event #{} (ph={}, name={}, ts={})", e.index, e.ph.empty() ? "?" : e.ph,
                     e.name.empty() ? "?" : e.name, e.ts);
}

const std::set<std::string>& known_phases() {
  static const std::set<std::string> s = {"B", "E", "X", "i", "I", "b", "e", "n", "s",
                                          "t", "f", "M", "C", "P", "O", "N", "D", "S",
                                          "T", "p", "F", "R", "c", "(", ")", "v", "V"};
  return s;
}

const std::set<std::string>& checked_phases() {
  static const std::set<std::string> s = {"B", "E", "X", "i", "I", "b",
                                          "e", "n", "s", "t", "f", "M"};
  return s;
}

void check_event(Ev& e, std::vector<std::string>& out) {
  const json& j = *e.j;
  auto bad = [&](const std::string& why) {
    out.push_back(fmt::format("{}: {}", describe(e), why));
  };
  if (!j.is_object()) {
    bad(fmt::format("event is not an object: {}", j.dump()));
    return;
  }
  if (!j.contains("ph") || !j["ph"].is_string()) {
    bad("missing or non-string \"ph\"");
    return;
  }
  e.ph = j["ph"].get<std::string>();
  if (j.contains("name") && j["name"].is_string()) e.name = j["name"].get<std::string>();
  if (j.contains("ts") && j["ts"].is_number()) e.ts = j["ts"].get<double>();
  if (!known_phases().count(e.ph)) {
    bad(fmt::format("unknown phase \"{}\"", e.ph));
    return;
  }
  if (!checked_phases().count(e.ph)) return;  // other phases are accepted as they are
  size_t before = out.size();
  if (!j.contains("name")) {
    bad("missing \"name\"");
  } else if (!j["name"].is_string()) {
    bad("\"name\" is not a string");
  }
  for (const char* k : {"pid", "tid"}) {
    if (!j.contains(k)) {
      bad(fmt::format("missing \"{}\"", k));
    } else if (!j[k].is_number_integer()) {
      bad(fmt::format("\"{}\" is not an integer: {}", k, j[k].dump()));
    }
  }
  if (!j.contains("ts")) {
    bad("missing \"ts\"");
  } else if (!j["ts"].is_number()) {
    bad(fmt::format("\"ts\" is not a number: {}", j["ts"].dump()));
  } else if (!(j["ts"].get<double>() >= 0)) {
    bad(fmt::format("negative \"ts\": {}", j["ts"].dump()));
  }
  if (j.contains("args") && !j["args"].is_object()) bad("\"args\" is not an object");
  if (e.ph == "X") {
    if (!j.contains("dur")) {
      bad("complete event without \"dur\"");
    } else if (!j["dur"].is_number() || !(j["dur"].get<double>() >= 0)) {
      bad(fmt::format("\"dur\" must be a non-negative number, got {}", j["dur"].dump()));
    }
  }
  if (e.ph == "b" || e.ph == "e" || e.ph == "n") {
    if (!j.contains("cat") || !j["cat"].is_string()) bad("async event without a string \"cat\"");
    if (!j.contains("id") || !(j["id"].is_string() || j["id"].is_number_integer())) {
      bad("async event without an \"id\"");
    }
  }
  if (e.ph == "s" || e.ph == "t" || e.ph == "f") {
    if (!j.contains("id") || !(j["id"].is_string() || j["id"].is_number_integer())) {
      bad("flow event without an \"id\"");
    }
  }
  if ((e.ph == "i" || e.ph == "I") && j.contains("s")) {
    if (!j["s"].is_string() || (j["s"] != "g" && j["s"] != "p" && j["s"] != "t")) {
      bad(fmt::format("instant scope \"s\" must be g, p or t, got {}", j["s"].dump()));
    }
  }
  if (e.ph == "M" && j.contains("name") && j["name"].is_string()) {
    static const std::map<std::string, std::string> arg_of = {{"process_name", "name"},
                                                              {"thread_name", "name"},
                                                              {"process_labels", "labels"},
                                                              {"process_sort_index", "sort_index"},
                                                              {"thread_sort_index", "sort_index"}};
    auto it = arg_of.find(e.name);
    if (it == arg_of.end()) {
      bad(fmt::format("unknown metadata name \"{}\"", e.name));
    } else if (!j.contains("args") || !j["args"].is_object() || !j["args"].contains(it->second)) {
      bad(fmt::format("metadata {} needs args.{}", e.name, it->second));
    } else {
      const json& v = j["args"][it->second];
      bool good = it->second == "sort_index" ? v.is_number_integer() : v.is_string();
      if (!good)
        bad(fmt::format("metadata {} has a bad args.{}: {}", e.name, it->second, v.dump()));
    }
  }
  if (out.size() == before) {
    e.pid = j["pid"].get<int64_t>();
    e.tid = j["tid"].get<int64_t>();
    e.ok = true;
  }
}

}  // namespace

std::vector<std::string> validate_trace_event_text(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return {"not valid JSON"};
  return validate_trace_events(doc);
}

std::vector<std::string> validate_trace_event_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {fmt::format("cannot open {}", path)};
  std::ostringstream text;
  text << in.rdbuf();
  return validate_trace_event_text(text.str());
}

std::vector<std::string> validate_trace_events(const json& doc) {
  std::vector<std::string> out;
  const json* events = nullptr;
  if (doc.is_array()) {
    events = &doc;
  } else if (doc.is_object()) {
    if (!doc.contains("traceEvents")) return {"top-level object has no \"traceEvents\""};
    if (!doc["traceEvents"].is_array()) return {"\"traceEvents\" is not an array"};
    events = &doc["traceEvents"];
  } else {
    return {"top level is neither an object nor an array"};
  }

  std::vector<Ev> evs;
  evs.reserve(events->size());
  for (size_t i = 0; i < events->size(); ++i) {
    Ev e;
    e.index = i;
    e.j = &(*events)[i];
    check_event(e, out);
    evs.push_back(std::move(e));
  }

  // Matching happens in timestamp order, ties in file order (a stable sort).
  std::vector<size_t> order(evs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return evs[a].ts < evs[b].ts; });

  using AsyncKey = std::tuple<int64_t, std::string, std::string>;  // pid, cat, id
  using ThreadKey = std::pair<int64_t, int64_t>;                   // pid, tid
  using FlowKey = std::pair<std::string, std::string>;             // cat, id
  std::map<AsyncKey, std::vector<const Ev*>> async_open;
  std::map<ThreadKey, std::vector<const Ev*>> sync_open;
  std::map<ThreadKey, std::vector<const Ev*>> complete;
  std::map<FlowKey, std::vector<const Ev*>> flow_open;

  for (size_t i : order) {
    const Ev& e = evs[i];
    if (!e.ok) continue;
    const json& j = *e.j;
    if (e.ph == "b" || e.ph == "e") {
      AsyncKey key{e.pid, j["cat"].get<std::string>(), id_string(j["id"])};
      auto& stack = async_open[key];
      if (e.ph == "b") {
        stack.push_back(&e);
      } else if (stack.empty()) {
        out.push_back(fmt::format("{}: async end with no open begin for pid {} cat \"{}\" id {}",
                                  describe(e), e.pid, std::get<1>(key), std::get<2>(key)));
      } else {
        const Ev* b = stack.back();
        if (!e.name.empty() && e.name != b->name) {
          out.push_back(fmt::format(
              "{}: async end does not close the innermost open slice \"{}\" (event #{}) of pid {} "
              "cat \"{}\" id {}: slices cross",
              describe(e), b->name, b->index, e.pid, std::get<1>(key), std::get<2>(key)));
        }
        stack.pop_back();
      }
    } else if (e.ph == "B" || e.ph == "E") {
      auto& stack = sync_open[{e.pid, e.tid}];
      if (e.ph == "B") {
        stack.push_back(&e);
      } else if (stack.empty()) {
        out.push_back(
            fmt::format("{}: E with no open B on pid {} tid {}", describe(e), e.pid, e.tid));
      } else {
        const Ev* b = stack.back();
        if (!e.name.empty() && e.name != b->name) {
          out.push_back(fmt::format(
              "{}: E does not close the innermost open B \"{}\" (event #{}) on pid {} tid {}",
              describe(e), b->name, b->index, e.pid, e.tid));
        }
        stack.pop_back();
      }
    } else if (e.ph == "X") {
      complete[{e.pid, e.tid}].push_back(&e);
    } else if (e.ph == "s") {
      flow_open[{j.value("cat", std::string()), id_string(j["id"])}].push_back(&e);
    } else if (e.ph == "f") {
      auto& starts = flow_open[{j.value("cat", std::string()), id_string(j["id"])}];
      if (starts.empty()) {
        out.push_back(fmt::format("{}: flow end with no flow start for cat \"{}\" id {}",
                                  describe(e), j.value("cat", std::string()), id_string(j["id"])));
      } else {
        starts.erase(starts.begin());
      }
    }
  }
  for (const auto& [key, stack] : async_open) {
    for (const Ev* b : stack) {
      out.push_back(fmt::format("{}: async begin never ended (pid {} cat \"{}\" id {})",
                                describe(*b), std::get<0>(key), std::get<1>(key),
                                std::get<2>(key)));
    }
  }
  for (const auto& [key, stack] : sync_open) {
    for (const Ev* b : stack) {
      out.push_back(
          fmt::format("{}: B never ended on pid {} tid {}", describe(*b), key.first, key.second));
    }
  }
  for (const auto& [key, starts] : flow_open) {
    for (const Ev* s : starts) {
      out.push_back(fmt::format("{}: flow start without a flow end (cat \"{}\" id {})",
                                describe(*s), key.first, key.second));
    }
  }
  // Complete events on one thread must form a forest: sorted by (ts, longest first), each one
  // starts after the enclosing one ends or ends within it.
  for (auto& [key, xs] : complete) {
    std::stable_sort(xs.begin(), xs.end(), [](const Ev* a, const Ev* b) {
      double da = (*a->j)["dur"].get<double>(), db = (*b->j)["dur"].get<double>();
      return a->ts != b->ts ? a->ts < b->ts : da > db;
    });
    std::vector<std::pair<double, const Ev*>> stack;  // (end, event)
    for (const Ev* x : xs) {
      double end = x->ts + (*x->j)["dur"].get<double>();
      while (!stack.empty() && stack.back().first <= x->ts) stack.pop_back();
      if (!stack.empty() && end > stack.back().first) {
        const Ev* o = stack.back().second;
        out.push_back(fmt::format(
            "{}: complete event [{}, {}] partially overlaps event #{} [{}, {}] on pid {} tid {}",
            describe(*x), x->ts, end, o->index, o->ts, stack.back().first, key.first, key.second));
        continue;
      }
      stack.emplace_back(end, x);
    }
  }
  return out;
}

}  // namespace zksim::testing
