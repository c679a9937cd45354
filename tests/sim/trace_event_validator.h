// A checker for Chrome / Perfetto trace-event JSON (the "Trace Event Format" document): the
// structural rules a viewer relies on, so that a trace that loads also renders what we meant.
//
// Rules checked:
//  - top level: an object with a `traceEvents` array, or a bare array of events;
//  - every event is an object with a string `ph` of a known phase; for B/E/X/i/I/b/e/s/t/f/M the
//    fields `name` (string), `pid`, `tid` (integers) and `ts` (a non-negative number) are present;
//  - `X` has `dur` >= 0; `b`/`e`/`n` have a string `cat` and an `id`; `s`/`t`/`f` have an `id`;
//    `i`/`I` scope `s`, when present, is one of g/p/t; `args`, when present, is an object;
//  - `M` is one of process_name/process_labels/process_sort_index/thread_name/thread_sort_index
//    with the matching `args` member (`args.name` a string for the *_name kinds);
//  - async `b`/`e` pair up LIFO per (pid, cat, id): every `e` closes the innermost open `b` of its
//    key (and, when it has a name, one with the same name), every `b` is closed; an end
//    before its begin shows as an end with no open begin (matching runs in timestamp order);
//  - `B`/`E` on one (pid, tid) nest the same way;
//  - complete events `X` on one (pid, tid) nest: no two partially overlap;
//  - every flow start `s` has a flow end `f` with the same (cat, id) at ts >= the start's, and
//    every `f` has a start.
// Events are matched in timestamp order (file order breaks ties), as viewers sort them.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace zksim::testing {

// Human-readable violations, empty if the trace is valid. A JSON syntax error (or an unreadable
// file) is one violation.
std::vector<std::string> validate_trace_events(const nlohmann::json& doc);
std::vector<std::string> validate_trace_event_text(std::string_view json_text);
std::vector<std::string> validate_trace_event_file(const std::string& path);

}  // namespace zksim::testing
