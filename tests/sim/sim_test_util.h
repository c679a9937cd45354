// Shared helpers for the engine tests: a scriptable process and time shorthands.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/sim.h"

namespace sim::testutil {

inline Time ms(int64_t v) {
  return Time::zero() + Duration::ms(v);
}
inline Time us(int64_t v) {
  return Time::zero() + Duration::us(v);
}

// A process that logs its lifecycle hooks as "<hook>@<ns>".
class TestProc : public Process {
 public:
  TestProc(Sim& s, std::string name, HostId host) : Process(s, std::move(name), host) {}
  std::vector<std::string> hooks;
  int starts = 0;
  int restarts = 0;

 protected:
  void on_start() override {
    ++starts;
    log("start");
  }
  void on_crash() override { log("crash"); }
  void on_restart() override {
    ++restarts;
    log("restart");
  }
  void on_pause() override { log("pause"); }
  void on_resume() override { log("resume"); }

 private:
  void log(const char* what) {
    hooks.push_back(std::string(what) + "@" + std::to_string(now().ns()));
  }
};

// Runs `fn` at time `t` on the engine (a fault injector's or a test's action, not a process's).
inline void at(Sim& s, Time t, std::function<void()> fn) {
  s.engine.at(t, std::move(fn));
}

}  // namespace sim::testutil
