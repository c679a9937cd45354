#include "sim/process.h"

#include "sim/check.h"
#include "sim/sim.h"

namespace sim {

Process::Process(Sim& sim, std::string name, HostId host)
    : sim_(sim), name_(std::move(name)), host_(host) {
  id_ = sim_.add_process(this);
}

Time Process::now() const {
  return sim_.now();
}

void Process::pause() {
  if (state_ == State::Crashed) return;
  if (pause_depth_++ == 0) {
    state_ = State::Paused;
    paused_since_ = now();
    on_pause();
  }
}

void Process::resume() {
  if (state_ == State::Crashed || pause_depth_ == 0) return;
  if (--pause_depth_ > 0) return;
  state_ = State::Running;
  on_resume();
  // Handle what arrived during the pause, in arrival order. A handler may pause or crash the
  // process again; then the rest waits (or is dropped) like any other input.
  while (!deferred_.empty() && state_ == State::Running) {
    Fn fn = std::move(deferred_.front());
    deferred_.pop_front();
    fn();
  }
}

void Process::crash() {
  if (state_ == State::Crashed) return;
  state_ = State::Crashed;
  pause_depth_ = 0;
  ++incarnation_;
  deferred_.clear();
  sim_.net.on_process_crash(*this);
  on_crash();
}

void Process::restart() {
  if (state_ != State::Crashed) return;
  state_ = State::Running;
  started_at_ = now();
  on_restart();
}

void Timer::arm_at(Time t, Process::Fn fn) {
  cancel();
  State& st = *st_;
  st.armed = true;
  st.inc = p_.incarnation();
  st.fn = std::move(fn);
  deadline_ = t;
  uint64_t gen = ++st.gen;
  Process* p = &p_;
  ev_ = p_.sim().engine.at(t, [p, state = st_, gen] {
    if (gen != state->gen || state->inc != p->incarnation()) return;
    p->deliver([p, state, gen] {
      // Re-check: the timer may have been cancelled, re-armed or destroyed while the process
      // was paused.
      if (gen != state->gen || state->inc != p->incarnation() || !state->armed) return;
      state->armed = false;
      Process::Fn f = std::move(state->fn);
      f();
    });
  });
}

void Timer::arm(Duration d, Process::Fn fn) {
  arm_at(p_.now() + d, std::move(fn));
}

void Timer::cancel() {
  State& st = *st_;
  ++st.gen;
  if (!st.armed) return;
  st.armed = false;
  p_.sim().engine.cancel(ev_);
  st.fn = nullptr;
}

}  // namespace sim
