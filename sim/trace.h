// The trace: every observable event is a typed record with a time and a source node; sinks render
// it (JSONL, Perfetto/Chrome trace JSON, human logs) and observers (checkers, metrics) watch it.
//
// The trace hash is FNV-1a over the canonical JSONL line of every record, in emission order, so
// "same scenario + seed => same hash" is exactly "byte-identical JSONL trace".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/time.h"

namespace sim {

using Value = std::variant<int64_t, double, bool, std::string>;

struct Field {
  std::string key;
  Value value;
};

// How a record shows on a Perfetto track. States, sessions, pauses and faults overlap, so all
// durations are rendered as async slices (matched begin/end), never as nested complete events.
enum class SpanKind : uint8_t {
  None,     // an instant
  Set,      // "track `span_track` of this node is now `span_label`": ends the previous slice
  Begin,    // opens slice `span_label` with id `span_id` on track `span_track`
  End,      // closes the slice with id `span_id`
  FlowOut,  // a message leaves (flow arrow start), id = span_id
  FlowIn,   // a message arrives (flow arrow end), id = span_id
};

struct Record {
  Time t;
  std::string type;  // dotted: fault.start, zk.state, client.state, meta.role, gc.pause, ...
  std::string node;  // process or host name: zk1, meta:node2, node2
  std::vector<Field> fields;
  SpanKind span = SpanKind::None;
  std::string span_track;
  std::string span_label;
  uint64_t span_id = 0;

  const Value* get(std::string_view key) const;
  int64_t get_int(std::string_view key, int64_t dflt = 0) const;
  std::string get_str(std::string_view key) const;
  // The string field `key`, or "" when absent or not a string (no copy).
  std::string_view str(std::string_view key) const;
};

// Canonical JSONL rendering: {"t":..,"type":..,"node":..,<fields in order>}.
std::string to_json_line(const Record& r);
void append_json_string(std::string& out, std::string_view s);

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void on_record(const Record& r) = 0;
  // Called once at the end of the run with the final clock (close open slices, flush).
  virtual void finish(Time /*end*/) {}
};

class Trace {
 public:
  void add_sink(Sink* s) { sinks_.push_back(s); }
  void emit(const Record& r);
  void finish(Time end);
  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  std::string hash_hex() const;
  // Message records are costly and off by default.
  bool messages() const { return messages_; }
  void set_messages(bool on) { messages_ = on; }
  // The hash renders every record as its JSONL line; campaigns that never report per-run hashes
  // (fuzz, sweep) turn it off. hash() is then the empty-trace value.
  void set_hashing(bool on) { hashing_ = on; }
  bool hashing() const { return hashing_; }
  uint64_t next_span_id() { return ++span_ids_; }

 private:
  std::vector<Sink*> sinks_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t count_ = 0;
  uint64_t span_ids_ = 0;
  bool messages_ = false;
  bool hashing_ = true;
  std::string line_;
  friend class Rec;
  Record scratch_;  // reused by Rec (see there)
  bool scratch_busy_ = false;
};

// Fluent construction: Rec(trace, now, "zk.state", "zk1").f("state", "LOOKING").emit();
//
// A record is built in the trace's scratch record, whose strings and field vector keep their
// capacity from one record to the next: building and emitting a record allocates nothing once the
// run is warm (a run emits thousands; campaigns run millions). A Rec built while another is still
// open (not yet destroyed) gets a record of its own.
class Rec {
 public:
  Rec(Trace& tr, Time t, std::string_view type, std::string_view node) : tr_(tr) {
    if (!tr.scratch_busy_) {
      tr.scratch_busy_ = true;
      r_ = &tr.scratch_;
      r_->fields.clear();
      r_->span = SpanKind::None;
      r_->span_track.clear();
      r_->span_label.clear();
      r_->span_id = 0;
    } else {
      own_ = std::make_unique<Record>();
      r_ = own_.get();
      r_->fields.reserve(6);
    }
    r_->t = t;
    overwrite(r_->type, type);
    overwrite(r_->node, node);
  }
  ~Rec() {
    if (r_ == &tr_.scratch_) tr_.scratch_busy_ = false;
  }
  Rec(const Rec&) = delete;
  Rec& operator=(const Rec&) = delete;

  Rec& f(std::string_view key, int64_t v) { return add(key, Value{v}); }
  Rec& f(std::string_view key, int v) { return add(key, Value{int64_t{v}}); }
  Rec& f(std::string_view key, uint64_t v) { return add(key, Value{static_cast<int64_t>(v)}); }
  Rec& f(std::string_view key, double v) { return add(key, Value{v}); }
  Rec& f(std::string_view key, bool v) { return add(key, Value{v}); }
  Rec& f(std::string_view key, std::string v) { return add(key, Value{std::move(v)}); }
  Rec& f(std::string_view key, const char* v) { return add(key, Value{std::string(v)}); }
  Rec& f(std::string_view key, Duration d) { return add(key, Value{d.count_ns()}); }
  Rec& set(std::string_view track, std::string_view label) {
    r_->span = SpanKind::Set;
    overwrite(r_->span_track, track);
    overwrite(r_->span_label, label);
    return *this;
  }
  Rec& begin(std::string_view track, std::string_view label, uint64_t id) {
    r_->span = SpanKind::Begin;
    overwrite(r_->span_track, track);
    overwrite(r_->span_label, label);
    r_->span_id = id;
    return *this;
  }
  Rec& end(std::string_view track, uint64_t id) {
    r_->span = SpanKind::End;
    overwrite(r_->span_track, track);
    r_->span_id = id;
    return *this;
  }
  Rec& flow(SpanKind k, uint64_t id) {
    r_->span = k;
    r_->span_id = id;
    return *this;
  }
  void emit() { tr_.emit(*r_); }

 private:
  // Overwrites a scratch string in place: clear() keeps its capacity and append() copies without
  // std::string::assign's general replace path (a measurable share of a run's instructions).
  static void overwrite(std::string& s, std::string_view v) {
    s.clear();
    s.append(v.data(), v.size());
  }
  Rec& add(std::string_view key, Value v) {
    r_->fields.push_back(Field{std::string(key), std::move(v)});
    return *this;
  }
  Trace& tr_;
  Record* r_ = nullptr;
  std::unique_ptr<Record> own_;
};

// One JSON object per line.
class JsonlSink : public Sink {
 public:
  explicit JsonlSink(std::FILE* out) : out_(out) {}
  void on_record(const Record& r) override;
  void finish(Time end) override;

 private:
  std::FILE* out_;
};

// Chrome / Perfetto trace-event JSON: one process per node, one async track per span_track.
class PerfettoSink : public Sink {
 public:
  explicit PerfettoSink(std::FILE* out) : out_(out) {}
  void on_record(const Record& r) override;
  void finish(Time end) override;

 private:
  struct Node {
    int pid;
    std::string name;
  };
  struct Open {
    int pid;
    std::string track;
    std::string label;
    uint64_t id;
  };
  int pid_of(const std::string& node);
  void write_event(const std::string& json);
  void close_slice(const Open& o, Time t);
  std::FILE* out_;
  bool first_ = true;
  std::vector<Node> nodes_;         // small: linear search keeps insertion order
  std::vector<Open> set_slices_;    // open "Set" slices, one per (pid, track)
  std::vector<Open> begun_slices_;  // open Begin slices by id
  uint64_t next_async_id_ = 1;
  std::map<uint64_t, std::pair<int, std::string>> pending_flows_;  // flow id -> sender pid, ts
};

// Collects records in memory (tests, replay round trips).
class VectorSink : public Sink {
 public:
  void on_record(const Record& r) override { records.push_back(r); }
  std::vector<Record> records;
};

// Calls a function per record (observers: checkers and metrics).
class FnSink : public Sink {
 public:
  explicit FnSink(std::function<void(const Record&)> fn) : fn_(std::move(fn)) {}
  void on_record(const Record& r) override { fn_(r); }

 private:
  std::function<void(const Record&)> fn_;
};

}  // namespace sim
