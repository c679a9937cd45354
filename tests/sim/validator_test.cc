#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "sim/sim.h"
#include "tests/sim/sim_test_util.h"
#include "tests/sim/trace_event_validator.h"

namespace {

using zksim::testing::validate_trace_event_text;
using zksim::testing::validate_trace_events;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "  " + s + "\n";
  return out;
}

const char* kGood = R"({"displayTimeUnit":"ms","traceEvents":[
  {"ph":"M","name":"process_name","pid":1,"tid":1,"ts":0,"args":{"name":"zk1"}},
  {"ph":"M","name":"thread_name","pid":1,"tid":1,"ts":0,"args":{"name":"main"}},
  {"ph":"M","name":"process_sort_index","pid":1,"tid":1,"ts":0,"args":{"sort_index":3}},
  {"ph":"B","name":"outer","pid":1,"tid":1,"ts":1},
  {"ph":"B","name":"inner","pid":1,"tid":1,"ts":2},
  {"ph":"E","name":"inner","pid":1,"tid":1,"ts":3},
  {"ph":"E","pid":1,"tid":1,"ts":4,"name":"outer"},
  {"ph":"X","name":"big","pid":1,"tid":2,"ts":10,"dur":10},
  {"ph":"X","name":"nested","pid":1,"tid":2,"ts":12,"dur":8},
  {"ph":"X","name":"zero","pid":1,"tid":2,"ts":12,"dur":0},
  {"ph":"X","name":"adjacent","pid":1,"tid":2,"ts":20,"dur":5.5},
  {"ph":"X","name":"other thread overlaps freely","pid":1,"tid":3,"ts":15,"dur":10},
  {"ph":"i","name":"tick","pid":1,"tid":1,"ts":5,"s":"t"},
  {"ph":"i","name":"global","pid":1,"tid":1,"ts":5,"s":"g"},
  {"ph":"I","name":"noscope","pid":1,"tid":1,"ts":5},
  {"ph":"b","cat":"state","name":"LOOKING","id":"0x1","pid":1,"tid":1,"ts":0},
  {"ph":"e","cat":"state","name":"LOOKING","id":"0x1","pid":1,"tid":1,"ts":7},
  {"ph":"b","cat":"state","name":"FOLLOWING","id":"0x1","pid":1,"tid":1,"ts":7},
  {"ph":"b","cat":"state","name":"sub","id":"0x1","pid":1,"tid":1,"ts":8},
  {"ph":"e","cat":"state","name":"sub","id":"0x1","pid":1,"tid":1,"ts":9},
  {"ph":"b","cat":"gc","name":"p1","id":2,"pid":1,"tid":1,"ts":8},
  {"ph":"b","cat":"gc","name":"p2","id":3,"pid":1,"tid":1,"ts":9},
  {"ph":"e","cat":"gc","name":"p1","id":2,"pid":1,"tid":1,"ts":10},
  {"ph":"e","cat":"gc","name":"p2","id":3,"pid":1,"tid":1,"ts":11},
  {"ph":"b","cat":"state","name":"same id other pid","id":"0x1","pid":2,"tid":2,"ts":8},
  {"ph":"e","cat":"state","name":"same id other pid","id":"0x1","pid":2,"tid":2,"ts":9},
  {"ph":"e","cat":"state","name":"FOLLOWING","id":"0x1","pid":1,"tid":1,"ts":30},
  {"ph":"s","cat":"msg","name":"msg","id":"0x7","pid":1,"tid":1,"ts":3},
  {"ph":"f","cat":"msg","name":"msg","id":"0x7","pid":2,"tid":2,"ts":3.5,"bp":"e"},
  {"ph":"C","name":"counter","pid":1,"ts":3,"args":{"v":1}}
]})";

TEST(sim_trace_validator, AcceptsAWellFormedTrace) {
  auto v = validate_trace_event_text(kGood);
  EXPECT_TRUE(v.empty()) << join(v);
  // A bare array is a valid trace too.
  auto doc = nlohmann::json::parse(kGood);
  v = validate_trace_events(doc["traceEvents"]);
  EXPECT_TRUE(v.empty()) << join(v);
  EXPECT_TRUE(validate_trace_event_text("[]").empty());
  EXPECT_TRUE(validate_trace_event_text(R"({"traceEvents":[]})").empty());
}

struct Bad {
  const char* rule;
  std::string json;  // events, or a whole document when it does not start with '{"ph"'
  std::vector<std::string> expect;  // one fragment per expected violation, in order
};

void PrintTo(const Bad& b, std::ostream* os) {
  *os << b.rule;
}

std::string doc_of(const std::string& j) {
  if (j.rfind("{\"ph\"", 0) == 0 || j.rfind("5", 0) == 0 || j.rfind("[", 0) == 0) {
    return "{\"traceEvents\":[" + j + "]}";
  }
  return j;
}

class sim_trace_validator_bad : public ::testing::TestWithParam<Bad> {};

TEST_P(sim_trace_validator_bad, ReportsTheViolation) {
  const Bad& b = GetParam();
  auto v = validate_trace_event_text(doc_of(b.json));
  ASSERT_EQ(v.size(), b.expect.size()) << b.rule << "\n" << join(v);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_NE(v[i].find(b.expect[i]), std::string::npos) << b.rule << ": " << v[i];
  }
}

#define EV(...) "{\"ph\":" #__VA_ARGS__ "}"

INSTANTIATE_TEST_SUITE_P(
    Rules, sim_trace_validator_bad,
    ::testing::Values(
        Bad{"syntax", "{\"traceEvents\":[", {"not valid JSON"}},
        Bad{"top level type", "\"hello\"", {"neither an object nor an array"}},
        Bad{"no traceEvents", R"({"events":[]})", {"no \"traceEvents\""}},
        Bad{"traceEvents type", R"({"traceEvents":{}})", {"not an array"}},
        Bad{"event type", "5", {"event #0 (ph=?, name=?, ts=0): event is not an object"}},
        Bad{"ph missing",
            R"({"traceEvents":[{"name":"x","pid":1,"tid":1,"ts":0}]})",
            {"missing or non-string \"ph\""}},
        Bad{"ph unknown",
            R"({"ph":"Q","name":"x","pid":1,"tid":1,"ts":0})",
            {"unknown phase \"Q\""}},
        Bad{"name missing", R"({"ph":"i","pid":1,"tid":1,"ts":0})", {"missing \"name\""}},
        Bad{"name type",
            R"({"ph":"i","name":7,"pid":1,"tid":1,"ts":0})",
            {"\"name\" is not a string"}},
        Bad{"pid missing", R"({"ph":"i","name":"x","tid":1,"ts":0})", {"missing \"pid\""}},
        Bad{"tid type",
            R"({"ph":"i","name":"x","pid":1,"tid":"main","ts":0})",
            {"\"tid\" is not an integer"}},
        Bad{"ts missing", R"({"ph":"i","name":"x","pid":1,"tid":1})", {"missing \"ts\""}},
        Bad{"ts negative", R"({"ph":"i","name":"x","pid":1,"tid":1,"ts":-1})", {"negative \"ts\""}},
        Bad{"ts type",
            R"({"ph":"i","name":"x","pid":1,"tid":1,"ts":"5"})",
            {"\"ts\" is not a number"}},
        Bad{"args type",
            R"({"ph":"i","name":"x","pid":1,"tid":1,"ts":0,"args":[1]})",
            {"\"args\" is not an object"}},
        Bad{"X dur missing",
            R"({"ph":"X","name":"x","pid":1,"tid":1,"ts":0})",
            {"without \"dur\""}},
        Bad{"X dur negative",
            R"({"ph":"X","name":"x","pid":1,"tid":1,"ts":5,"dur":-1})",
            {"non-negative"}},
        Bad{"b cat missing",
            R"({"ph":"b","name":"x","id":1,"pid":1,"tid":1,"ts":0}, {"ph":"e","cat":"c","name":"x","id":1,"pid":1,"tid":1,"ts":1})",
            {"event #0", "event #1 (ph=e, name=x, ts=1): async end with no open begin"}},
        Bad{"e id missing",
            R"({"ph":"b","cat":"c","name":"x","id":1,"pid":1,"tid":1,"ts":0}, {"ph":"e","cat":"c","name":"x","pid":1,"tid":1,"ts":1})",
            {"event #1 (ph=e, name=x, ts=1): async event without an \"id\"", "never ended"}},
        Bad{"s id missing",
            R"({"ph":"s","cat":"m","name":"x","pid":1,"tid":1,"ts":0})",
            {"flow event without an \"id\""}},
        Bad{"instant scope",
            R"({"ph":"i","name":"x","pid":1,"tid":1,"ts":0,"s":"x"})",
            {"scope \"s\" must be g, p or t"}},
        Bad{"M unknown",
            R"({"ph":"M","name":"process_color","pid":1,"tid":1,"ts":0,"args":{}})",
            {"unknown metadata name \"process_color\""}},
        Bad{"M args.name",
            R"({"ph":"M","name":"thread_name","pid":1,"tid":1,"ts":0,"args":{"nom":"x"}})",
            {"thread_name needs args.name"}},
        Bad{"M args.name type",
            R"({"ph":"M","name":"process_name","pid":1,"tid":1,"ts":0,"args":{"name":1}})",
            {"bad args.name"}},
        Bad{"M sort_index type",
            R"({"ph":"M","name":"thread_sort_index","pid":1,"tid":1,"ts":0,"args":{"sort_index":"1"}})",
            {"bad args.sort_index"}},
        Bad{"e without b",
            R"({"ph":"e","cat":"c","name":"x","id":1,"pid":1,"tid":1,"ts":0})",
            {"async end with no open begin for pid 1 cat \"c\" id 1"}},
        Bad{"b without e",
            R"({"ph":"b","cat":"c","name":"x","id":"0x2","pid":1,"tid":1,"ts":0})",
            {"async begin never ended (pid 1 cat \"c\" id 0x2)"}},
        Bad{"b/e other pid",
            R"({"ph":"b","cat":"c","name":"x","id":1,"pid":1,"tid":1,"ts":0}, {"ph":"e","cat":"c","name":"x","id":1,"pid":2,"tid":1,"ts":1})",
            {"async end with no open begin for pid 2", "never ended (pid 1"}},
        Bad{"b/e cross",
            R"({"ph":"b","cat":"c","name":"A","id":1,"pid":1,"tid":1,"ts":0}, {"ph":"b","cat":"c","name":"B","id":1,"pid":1,"tid":1,"ts":1},
               {"ph":"e","cat":"c","name":"A","id":1,"pid":1,"tid":1,"ts":2}, {"ph":"e","cat":"c","name":"B","id":1,"pid":1,"tid":1,"ts":3})",
            {"event #2 (ph=e, name=A, ts=2): async end does not close the innermost open slice "
             "\"B\"",
             "event #3 (ph=e, name=B, ts=3): async end does not close the innermost open slice "
             "\"A\""}},
        Bad{"e before b",
            R"({"ph":"b","cat":"c","name":"A","id":1,"pid":1,"tid":1,"ts":5}, {"ph":"e","cat":"c","name":"A","id":1,"pid":1,"tid":1,"ts":4})",
            {"event #1 (ph=e, name=A, ts=4): async end with no open begin", "event #0 (ph=b"}},
        Bad{"E without B", R"({"ph":"E","name":"x","pid":1,"tid":1,"ts":0})", {"E with no open B"}},
        Bad{"B without E", R"({"ph":"B","name":"x","pid":1,"tid":1,"ts":0})", {"B never ended"}},
        Bad{"B/E cross",
            R"({"ph":"B","name":"A","pid":1,"tid":1,"ts":0}, {"ph":"B","name":"B","pid":1,"tid":1,"ts":1},
               {"ph":"E","name":"A","pid":1,"tid":1,"ts":2}, {"ph":"E","name":"B","pid":1,"tid":1,"ts":3})",
            {"E does not close the innermost open B \"B\"",
             "E does not close the innermost open B \"A\""}},
        Bad{"B/E per thread",
            R"({"ph":"B","name":"A","pid":1,"tid":1,"ts":0}, {"ph":"E","name":"A","pid":1,"tid":2,"ts":1})",
            {"E with no open B on pid 1 tid 2", "B never ended on pid 1 tid 1"}},
        Bad{"X overlap",
            R"({"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":10}, {"ph":"X","name":"b","pid":1,"tid":1,"ts":5,"dur":10})",
            {"event #1 (ph=X, name=b, ts=5): complete event [5, 15] partially overlaps event #0 "
             "[0, 10]"}},
        Bad{"s without f",
            R"({"ph":"s","cat":"m","name":"x","id":"0x9","pid":1,"tid":1,"ts":0})",
            {"flow start without a flow end (cat \"m\" id 0x9)"}},
        Bad{"f without s",
            R"({"ph":"f","cat":"m","name":"x","id":"0x9","pid":1,"tid":1,"ts":0,"bp":"e"})",
            {"flow end with no flow start"}},
        Bad{"f before s",
            R"({"ph":"s","cat":"m","name":"x","id":1,"pid":1,"tid":1,"ts":5}, {"ph":"f","cat":"m","name":"x","id":1,"pid":1,"tid":1,"ts":4})",
            {"flow end with no flow start", "flow start without a flow end"}}),
    [](const auto& info) {
      std::string n;
      for (char c : std::string(info.param.rule))
        n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return n;
    });

// --- PerfettoSink output ------------------------------------------------------------------

class MemFile {
 public:
  MemFile() : f_(open_memstream(&buf_, &len_)) {}
  ~MemFile() {
    std::fclose(f_);
    std::free(buf_);
  }
  std::FILE* get() { return f_; }
  std::string str() {
    std::fflush(f_);
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* f_;
};

TEST(sim_trace_validator, PerfettoSinkOutputIsValid) {
  using namespace sim;
  using testutil::at;
  using testutil::ms;
  Sim s(5);
  MemFile f;
  PerfettoSink perfetto(f.get());
  s.trace.add_sink(&perfetto);
  s.trace.set_messages(true);
  LinkParams lp;
  lp.latency = Dist::uniform(0.0005, 0.005);
  s.net.set_default_link(lp);
  HostId ha = s.net.add_host("ha"), hb = s.net.add_host("hb");
  testutil::TestProc a(s, "a", ha), b(s, "b", hb);
  auto set = [&](Time t, Process& p, const char* track, const char* label) {
    at(s, t, [&s, &p, track, label] {
      Rec(s.trace, s.now(), "state", p.name()).set(track, label).emit();
    });
  };
  auto begin = [&](Time t, Process& p, const char* track, const char* label, uint64_t id) {
    at(s, t, [&s, &p, track, label, id] {
      Rec(s.trace, s.now(), "span.begin", p.name())
          .f("label", label)
          .begin(track, label, id)
          .emit();
    });
  };
  auto end = [&](Time t, Process& p, const char* track, uint64_t id) {
    at(s, t,
       [&s, &p, track, id] { Rec(s.trace, s.now(), "span.end", p.name()).end(track, id).emit(); });
  };
  set(ms(0), a, "state", "LOOKING");
  set(ms(0), b, "state", "LOOKING");  // same track name, other process
  set(ms(5), a, "state", "LEADING");
  set(ms(6), b, "state", "FOLLOWING");
  set(ms(40), a, "state", "LOOKING");
  set(ms(7), a, "role", "leader");  // a second Set track on the same node
  // Spans on one track crossing each other: 1 [10, 20], 2 [15, 30], 3 [18, open until finish].
  begin(ms(10), a, "gc", "pause-1", 1);
  begin(ms(15), a, "gc", "pause-2", 2);
  begin(ms(18), a, "gc", "pause-3", 3);
  end(ms(20), a, "gc", 1);
  end(ms(30), a, "gc", 2);
  end(ms(31), a, "gc", 99);  // unknown id: ignored
  begin(ms(12), b, "fault", "partition", 4);
  end(ms(12), b, "fault", 4);  // zero-length
  at(s, ms(3), [&] { Rec(s.trace, s.now(), "note", "a").f("text", "quote \" and \\").emit(); });
  // Flows: messages both ways, sent in bursts so some are in flight together.
  ConnId bconn = UINT64_MAX;
  s.net.listen(b, 9, [&](ConnId c, ProcId) { bconn = c; });
  ConnId c = s.net.connect(a, hb, 9, [](ConnId, NetError e) { ASSERT_EQ(e, NetError::Ok); });
  int received = 0;
  for (int i = 0; i < 5; ++i) {
    at(s, ms(20) + Duration::us(300) * i, [&] {
      s.net.send(
          c, a, [&] { ++received; }, "ping");
      s.net.send(
          bconn, b, [&] { ++received; }, "pong");
    });
  }
  s.engine.run(ms(100));
  s.trace.finish(s.now());
  ASSERT_EQ(received, 10);

  std::string out = f.str();
  auto v = validate_trace_event_text(out);
  EXPECT_TRUE(v.empty()) << join(v) << out;
  auto doc = nlohmann::json::parse(out);
  std::map<std::string, int> phases;
  for (const auto& e : doc["traceEvents"]) phases[e["ph"].get<std::string>()]++;
  EXPECT_EQ(phases["M"], 4);      // process and thread names of a and b
  EXPECT_EQ(phases["b"], 6 + 4);  // 6 Set slices, 4 Begin spans
  EXPECT_EQ(phases["e"], 6 + 4);  // all closed, the open ones at finish
  EXPECT_EQ(phases["s"], 10);
  EXPECT_EQ(phases["f"], 10);
  EXPECT_EQ(phases["X"], 20);
  EXPECT_EQ(phases["i"], 1);

  // The same output with one end event removed is caught.
  auto& evs = doc["traceEvents"];
  for (size_t i = 0; i < evs.size(); ++i) {
    if (evs[i]["ph"] == "e" && evs[i]["name"] == "pause-2") {
      evs.erase(i);
      break;
    }
  }
  v = validate_trace_events(doc);
  ASSERT_EQ(v.size(), 1u) << join(v);
  EXPECT_NE(v[0].find("name=pause-2"), std::string::npos) << v[0];
  EXPECT_NE(v[0].find("never ended"), std::string::npos) << v[0];

  // The file entry point, as CLI tests use it.
  std::string path = std::string(ZKSIM_BINARY_DIR) + "/sim_validator_test_trace.json";
  std::FILE* fp = std::fopen(path.c_str(), "wb");
  ASSERT_NE(fp, nullptr);
  std::fwrite(out.data(), 1, out.size(), fp);
  std::fclose(fp);
  v = zksim::testing::validate_trace_event_file(path);
  EXPECT_TRUE(v.empty()) << join(v);
  std::remove(path.c_str());
  v = zksim::testing::validate_trace_event_file(path);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("cannot open"), std::string::npos);
}

}  // namespace
