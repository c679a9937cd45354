// Simulated processes: running, paused (GC / SIGSTOP) or crashed.
//
// A process handles inputs (timer expiries and network deliveries) only while running. While
// paused, its inputs wait in arrival order and are handled, in that order, at the instant it
// resumes, as a kernel keeps accepting TCP data for a stopped process and a JVM's threads find
// their expired deadlines on wake-up. A crash drops everything volatile: pending inputs, timers,
// connections (the network resets them); the model keeps only what it persists (on_crash).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "sim/engine.h"
#include "sim/time.h"

namespace sim {

class Sim;
using ProcId = uint32_t;
using HostId = uint32_t;

class Process {
 public:
  enum class State { Running, Paused, Crashed };
  using Fn = Callback;

  Process(Sim& sim, std::string name, HostId host);
  virtual ~Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& name() const { return name_; }
  ProcId id() const { return id_; }
  HostId host() const { return host_; }
  State state() const { return state_; }
  bool running() const { return state_ == State::Running; }
  bool alive() const { return state_ != State::Crashed; }
  // Bumped by every crash: inputs addressed to an earlier incarnation are dropped.
  uint64_t incarnation() const { return incarnation_; }
  // When the current incarnation started: 0 for the first, the restart's time after a crash (a
  // JVM's uptime in its GC log counts from here).
  Time started_at() const { return started_at_; }
  Sim& sim() { return sim_; }
  Time now() const;

  // Hands an input to the process: handled now if running, queued if paused, dropped if crashed.
  // A template so that the common case (running) calls the closure without wrapping it.
  template <class F>
  void deliver(F&& fn) {
    if (state_ == State::Running) {
      fn();
    } else if (state_ == State::Paused) {
      deferred_.emplace_back(std::forward<F>(fn));
    }
  }

  // Fault control. Pauses nest (a GC pause inside a SIGSTOP): the process runs again only when
  // every pause has ended.
  void pause();
  void resume();
  void crash();
  void restart();
  Time paused_since() const { return paused_since_; }

 protected:
  // Model hooks.
  virtual void on_start() {}
  virtual void on_crash() {}  // drop volatile state; keep what is on disk
  virtual void on_restart() { on_start(); }
  virtual void on_pause() {}   // observation only: a paused process does nothing
  virtual void on_resume() {}  // observation only, called before queued inputs are handled

 private:
  friend class Sim;
  Sim& sim_;
  std::string name_;
  ProcId id_ = 0;
  HostId host_;
  State state_ = State::Running;
  int pause_depth_ = 0;
  uint64_t incarnation_ = 0;
  Time started_at_;
  Time paused_since_;
  std::deque<Fn> deferred_;
};

// A re-armable one-shot timer owned by a process. Arming again replaces the previous deadline.
// Expiry is an input like any other: deferred while the process is paused, dropped if it crashed.
class Timer {
 public:
  explicit Timer(Process& p) : p_(p), st_(std::make_shared<State>()) {}
  // Invalidates any expiry still queued (in the engine or in a paused process's inputs): the
  // queued closures hold the shared state, never the Timer itself.
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm_at(Time t, Process::Fn fn);
  void arm(Duration d, Process::Fn fn);
  void cancel();
  // False after the expiry ran, after cancel(), and once the owning process has crashed.
  bool armed() const { return st_->armed && st_->inc == p_.incarnation(); }
  Time deadline() const { return deadline_; }

 private:
  struct State {
    uint64_t gen = 0;
    uint64_t inc = 0;
    bool armed = false;
    Process::Fn fn;
  };
  Process& p_;
  std::shared_ptr<State> st_;
  EventId ev_;
  Time deadline_;
};

}  // namespace sim
