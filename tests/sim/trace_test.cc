#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "sim/rng.h"
#include "sim/trace.h"

namespace sim {
namespace {

// Captures a FILE* sink's output in memory.
class MemFile {
 public:
  MemFile() : f_(open_memstream(&buf_, &len_)) {}
  ~MemFile() {
    if (f_) std::fclose(f_);
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

TEST(sim_trace, RecordsReuseTheScratchWithoutLeakingFields) {
  // Rec builds in the trace's scratch record: a record must never inherit the previous one's
  // fields or span, and a Rec opened while another is open must not clobber it.
  Trace tr;
  VectorSink v;
  tr.add_sink(&v);
  Rec(tr, Time::zero(), "gc.pause", "zk:1").f("ms", 12.5).begin("gc", "GC pause", 7).emit();
  Rec(tr, Time::zero() + Duration::ms(1), "zk.election", "zk:2").emit();
  {
    Rec outer(tr, Time::zero() + Duration::ms(2), "meta.role", "meta:node1");
    outer.f("role", "leader");
    Rec(tr, Time::zero() + Duration::ms(2), "client.state", "meta:node1:zk")
        .f("state", "CONNECTED")
        .emit();
    outer.set("role", "leader").emit();
  }
  Rec(tr, Time::zero() + Duration::ms(3), "zk.follower.exception.with.a.long.type", "zk:3")
      .f("cause", "read timed out")
      .emit();
  ASSERT_EQ(v.records.size(), 5u);
  EXPECT_EQ(to_json_line(v.records[0]), R"({"t":0,"type":"gc.pause","node":"zk:1","ms":12.5})");
  EXPECT_EQ(v.records[0].span, SpanKind::Begin);
  EXPECT_EQ(v.records[0].span_id, 7u);
  EXPECT_EQ(to_json_line(v.records[1]), R"({"t":1000000,"type":"zk.election","node":"zk:2"})");
  EXPECT_EQ(v.records[1].span, SpanKind::None);
  EXPECT_EQ(v.records[1].span_track, "");
  EXPECT_EQ(v.records[1].span_id, 0u);
  EXPECT_EQ(to_json_line(v.records[2]),
            R"({"t":2000000,"type":"client.state","node":"meta:node1:zk","state":"CONNECTED"})");
  EXPECT_EQ(to_json_line(v.records[3]),
            R"({"t":2000000,"type":"meta.role","node":"meta:node1","role":"leader"})");
  EXPECT_EQ(v.records[3].span, SpanKind::Set);
  EXPECT_EQ(v.records[3].span_label, "leader");
  EXPECT_EQ(v.records[4].type, "zk.follower.exception.with.a.long.type");
  EXPECT_EQ(v.records[4].fields.size(), 1u);
  EXPECT_EQ(tr.count(), 5u);
}

TEST(sim_trace, JsonLineFormat) {
  Trace tr;
  VectorSink v;
  tr.add_sink(&v);
  Rec(tr, Time::zero() + Duration::us(1500), "zk.state", "zk1")
      .f("state", "LOOKING")
      .f("epoch", 3)
      .f("zxid", uint64_t{0x100000002})
      .f("ratio", 0.5)
      .f("tiny", 1e-7)
      .f("up", true)
      .f("down", false)
      .f("wait", Duration::ms(2))
      .f("neg", int64_t{-4})
      .emit();
  ASSERT_EQ(v.records.size(), 1u);
  EXPECT_EQ(to_json_line(v.records[0]),
            R"({"t":1500000,"type":"zk.state","node":"zk1","state":"LOOKING","epoch":3,)"
            R"("zxid":4294967298,"ratio":0.5,"tiny":1e-07,"up":true,"down":false,"wait":2000000,)"
            R"("neg":-4})");
  Record r;
  r.t = Time::zero();
  r.type = "a\"b";
  r.node = "back\\slash\n\t\r\x01";
  EXPECT_EQ(to_json_line(r), R"({"t":0,"type":"a\"b","node":"back\\slash\n\t\r\u0001"})");
}

TEST(sim_trace, RecordAccessors) {
  Record r;
  r.fields = {{"n", int64_t{5}}, {"b", true}, {"d", 2.9}, {"s", std::string("x")}};
  EXPECT_EQ(r.get_int("n"), 5);
  EXPECT_EQ(r.get_int("b"), 1);
  EXPECT_EQ(r.get_int("d"), 2);
  EXPECT_EQ(r.get_int("s", -1), -1);
  EXPECT_EQ(r.get_int("missing", -7), -7);
  EXPECT_EQ(r.get_str("s"), "x");
  EXPECT_EQ(r.get_str("n"), "5");
  EXPECT_EQ(r.get_str("missing"), "");
  EXPECT_EQ(r.get("missing"), nullptr);
}

TEST(sim_trace, HashIsFnv1aOverTheJsonlLines) {
  Trace tr;
  VectorSink v;
  MemFile f;
  JsonlSink jsonl(f.get());
  tr.add_sink(&v);
  tr.add_sink(&jsonl);
  EXPECT_EQ(tr.hash(), fnv1a64(""));
  for (int i = 0; i < 50; ++i) {
    Rec(tr, Time::zero() + Duration::ms(i), i % 3 ? "net.send" : "gc.pause",
        "n" + std::to_string(i % 4))
        .f("i", i)
        .f("half", i / 2.0)
        .emit();
  }
  tr.finish(Time::zero() + Duration::ms(50));
  EXPECT_EQ(tr.count(), 50u);
  std::string file = f.str();
  std::string lines;
  for (const auto& r : v.records) lines += to_json_line(r) + "\n";
  EXPECT_EQ(file, lines);
  EXPECT_EQ(tr.hash(), fnv1a64(file));
  EXPECT_EQ(tr.hash_hex(), fmt::format("{:016x}", fnv1a64(file)));
  EXPECT_EQ(tr.hash_hex().size(), 16u);
  EXPECT_EQ(file.substr(0, file.find('\n')),
            R"({"t":0,"type":"gc.pause","node":"n0","i":0,"half":0})");

  // One changed byte anywhere changes the hash.
  Trace tr2;
  for (int i = 0; i < 50; ++i) {
    Rec(tr2, Time::zero() + Duration::ms(i), i % 3 ? "net.send" : "gc.pause",
        "n" + std::to_string(i % 4))
        .f("i", i == 49 ? 48 : i)
        .f("half", i / 2.0)
        .emit();
  }
  EXPECT_NE(tr2.hash(), tr.hash());
}

TEST(sim_trace, FnSinkSeesEveryRecordAndSpanIdsIncrease) {
  Trace tr;
  std::vector<std::string> seen;
  FnSink fs([&](const Record& r) { seen.push_back(r.type); });
  tr.add_sink(&fs);
  Rec(tr, Time::zero(), "a", "n").emit();
  Rec(tr, Time::zero(), "b", "n").begin("gc", "pause", tr.next_span_id()).emit();
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(tr.next_span_id(), 2u);
  EXPECT_FALSE(tr.messages());
  tr.set_messages(true);
  EXPECT_TRUE(tr.messages());
}

TEST(sim_trace, HashingOffStillFeedsSinks) {
  // Fuzz and sweep campaigns turn the hash off; sinks (the checks) must see the same records.
  Trace on, off;
  off.set_hashing(false);
  VectorSink von, voff;
  on.add_sink(&von);
  off.add_sink(&voff);
  for (Trace* tr : {&on, &off}) {
    for (int i = 0; i < 20; ++i) {
      Rec(*tr, Time::zero() + Duration::ms(i), "zk.state", "zk:1").f("i", i).emit();
    }
  }
  EXPECT_EQ(off.count(), 20u);
  EXPECT_EQ(off.hash(), fnv1a64(""));
  EXPECT_NE(on.hash(), fnv1a64(""));
  ASSERT_EQ(voff.records.size(), von.records.size());
  for (size_t i = 0; i < von.records.size(); ++i)
    EXPECT_EQ(to_json_line(voff.records[i]), to_json_line(von.records[i]));
}

}  // namespace
}  // namespace sim
