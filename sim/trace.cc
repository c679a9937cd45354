#include "sim/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "sim/rng.h"

namespace sim {

const Value* Record::get(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

int64_t Record::get_int(std::string_view key, int64_t dflt) const {
  const Value* v = get(key);
  if (!v) return dflt;
  if (auto p = std::get_if<int64_t>(v)) return *p;
  if (auto p = std::get_if<bool>(v)) return *p ? 1 : 0;
  if (auto p = std::get_if<double>(v)) return static_cast<int64_t>(*p);
  return dflt;
}

std::string_view Record::str(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return {};
  if (auto p = std::get_if<std::string>(v)) return *p;
  return {};
}

std::string Record::get_str(std::string_view key) const {
  const Value* v = get(key);
  if (!v) return {};
  if (auto p = std::get_if<std::string>(v)) return *p;
  if (auto p = std::get_if<int64_t>(v)) return std::to_string(*p);
  return {};
}

namespace {

bool needs_escape(char c) {
  return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  // Copy runs of plain characters in one append; escape the rest.
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && !needs_escape(s[j])) ++j;
    out.append(s.data() + i, j - i);
    if (j == s.size()) break;
    char c = s[j];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
    }
    i = j + 1;
  }
  out.push_back('"');
}

namespace {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(res.ptr - buf));
}

void append_value(std::string& out, const Value& v) {
  if (auto p = std::get_if<int64_t>(&v)) {
    append_int(out, *p);
  } else if (auto p = std::get_if<double>(&v)) {
    // Shortest round-trip representation: identical on every platform with the same bits.
    // JSON has no NaN or infinity: those become null.
    if (std::isfinite(*p)) {
      fmt::format_to(std::back_inserter(out), "{}", *p);
    } else {
      out += "null";
    }
  } else if (auto p = std::get_if<bool>(&v)) {
    out += *p ? "true" : "false";
  } else {
    append_json_string(out, std::get<std::string>(v));
  }
}

// Microseconds with nanosecond decimals, as the trace-event format expects.
std::string us_string(Time t) {
  int64_t ns = t.ns();
  return fmt::format("{}.{:03}", ns / 1000, ns % 1000);
}

}  // namespace

namespace {

void render_json_line(const Record& r, std::string& out) {
  out += "{\"t\":";
  append_int(out, r.t.ns());
  out += ",\"type\":";
  append_json_string(out, r.type);
  out += ",\"node\":";
  append_json_string(out, r.node);
  for (const auto& f : r.fields) {
    out.push_back(',');
    append_json_string(out, f.key);
    out.push_back(':');
    append_value(out, f.value);
  }
  out.push_back('}');
}

}  // namespace

std::string to_json_line(const Record& r) {
  std::string out;
  out.reserve(96);
  render_json_line(r, out);
  return out;
}

void Trace::emit(const Record& r) {
  // The hash is over the exact JSONL line; a reused buffer keeps rendering allocation-free.
  if (hashing_) {
    line_.clear();
    render_json_line(r, line_);
    line_.push_back('\n');
    hash_ = fnv1a64(line_, hash_);
  }
  ++count_;
  for (Sink* s : sinks_) s->on_record(r);
}

void Trace::finish(Time end) {
  for (Sink* s : sinks_) s->finish(end);
}

std::string Trace::hash_hex() const {
  return fmt::format("{:016x}", hash_);
}

void JsonlSink::on_record(const Record& r) {
  std::string line = to_json_line(r);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), out_);
}

void JsonlSink::finish(Time) {
  std::fflush(out_);
}

int PerfettoSink::pid_of(const std::string& node) {
  for (const auto& n : nodes_) {
    if (n.name == node) return n.pid;
  }
  int pid = static_cast<int>(nodes_.size()) + 1;
  nodes_.push_back(Node{pid, node});
  std::string name;
  append_json_string(name, node);
  write_event(fmt::format(
      R"({{"ph":"M","name":"process_name","pid":{},"tid":{},"ts":0,"args":{{"name":{}}}}})", pid,
      pid, name));
  write_event(fmt::format(
      R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0,"args":{{"name":{}}}}})", pid,
      pid, name));
  return pid;
}

void PerfettoSink::write_event(const std::string& json) {
  if (first_) {
    std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out_);
    first_ = false;
  } else {
    std::fputs(",\n", out_);
  }
  std::fwrite(json.data(), 1, json.size(), out_);
}

void PerfettoSink::close_slice(const Open& o, Time t) {
  std::string cat, name;
  append_json_string(cat, o.track);
  append_json_string(name, o.label);
  write_event(
      fmt::format(R"({{"ph":"e","cat":{},"name":{},"id":"0x{:x}","pid":{},"tid":{},"ts":{}}})", cat,
                  name, o.id, o.pid, o.pid, us_string(t)));
}

void PerfettoSink::on_record(const Record& r) {
  int pid = pid_of(r.node);
  std::string args = "{";
  for (size_t i = 0; i < r.fields.size(); ++i) {
    if (i) args.push_back(',');
    append_json_string(args, r.fields[i].key);
    args.push_back(':');
    append_value(args, r.fields[i].value);
  }
  args.push_back('}');
  std::string ts = us_string(r.t);
  switch (r.span) {
    case SpanKind::None:
    case SpanKind::FlowOut:
    case SpanKind::FlowIn: {
      std::string name;
      append_json_string(name, r.type);
      if (r.span == SpanKind::None) {
        write_event(
            fmt::format(R"({{"ph":"i","s":"t","name":{},"pid":{},"tid":{},"ts":{},"args":{}}})",
                        name, pid, pid, ts, args));
      } else {
        // A zero-length complete slice carries each end of the flow arrow. The arrow's start is
        // written only when the message arrives: a message lost to a crash or a reset leaves no
        // dangling flow start (the trace-event format wants every "s" matched by an "f").
        write_event(fmt::format(
            R"({{"ph":"X","name":{},"cat":"msg","pid":{},"tid":{},"ts":{},"dur":0,"args":{}}})",
            name, pid, pid, ts, args));
        if (r.span == SpanKind::FlowOut) {
          pending_flows_[r.span_id] = {pid, ts};
        } else if (auto it = pending_flows_.find(r.span_id); it != pending_flows_.end()) {
          write_event(fmt::format(
              R"({{"ph":"s","name":"msg","cat":"msg","id":"0x{:x}","pid":{},"tid":{},"ts":{}}})",
              r.span_id, it->second.first, it->second.first, it->second.second));
          write_event(fmt::format(
              R"({{"ph":"f","name":"msg","cat":"msg","id":"0x{:x}","pid":{},"tid":{},"ts":{},"bp":"e"}})",
              r.span_id, pid, pid, ts));
          pending_flows_.erase(it);
        }
      }
      break;
    }
    case SpanKind::Set: {
      auto it = std::find_if(set_slices_.begin(), set_slices_.end(), [&](const Open& o) {
        return o.pid == pid && o.track == r.span_track;
      });
      uint64_t id;
      if (it != set_slices_.end()) {
        close_slice(*it, r.t);
        id = it->id;
        set_slices_.erase(it);
      } else {
        id = next_async_id_++;
      }
      Open o{pid, r.span_track, r.span_label, id};
      std::string cat, name;
      append_json_string(cat, o.track);
      append_json_string(name, o.label);
      write_event(fmt::format(
          R"({{"ph":"b","cat":{},"name":{},"id":"0x{:x}","pid":{},"tid":{},"ts":{},"args":{}}})",
          cat, name, id, pid, pid, ts, args));
      set_slices_.push_back(std::move(o));
      break;
    }
    case SpanKind::Begin: {
      // Async ids are the trace's own; the model's span id only pairs Begin with End.
      Open o{pid, r.span_track, r.span_label, r.span_id};
      std::string cat, name;
      append_json_string(cat, o.track);
      append_json_string(name, o.label);
      write_event(fmt::format(
          R"({{"ph":"b","cat":{},"name":{},"id":"0x{:x}","pid":{},"tid":{},"ts":{},"args":{}}})",
          cat, name, (uint64_t{1} << 40) + r.span_id, pid, pid, ts, args));
      o.id = (uint64_t{1} << 40) + r.span_id;
      begun_slices_.push_back(std::move(o));
      break;
    }
    case SpanKind::End: {
      uint64_t id = (uint64_t{1} << 40) + r.span_id;
      auto it = std::find_if(begun_slices_.begin(), begun_slices_.end(),
                             [&](const Open& o) { return o.id == id; });
      if (it != begun_slices_.end()) {
        close_slice(*it, r.t);
        begun_slices_.erase(it);
      }
      break;
    }
  }
}

void PerfettoSink::finish(Time end) {
  for (const auto& o : begun_slices_) close_slice(o, end);
  for (const auto& o : set_slices_) close_slice(o, end);
  begun_slices_.clear();
  set_slices_.clear();
  if (first_) {
    std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out_);
    first_ = false;
  }
  std::fputs("\n]}\n", out_);
  std::fflush(out_);
}

}  // namespace sim
