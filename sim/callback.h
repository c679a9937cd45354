// A move-only `void()` callable with inline storage: the engine's event payload.
//
// std::function allocates for any capture larger than two pointers, and nearly every event's
// closure is (a connection, a side and a message payload; a timer's state and generation). With
// 112 bytes inline (the object is 128 bytes), events and deferred inputs run without touching the
// heap; larger callables still work and are boxed. Calling an empty Callback aborts.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace sim {

class Callback {
 public:
  static constexpr std::size_t kInline = 112;

  Callback() noexcept = default;
  Callback(std::nullptr_t) noexcept {}  // NOLINT: implicit, like std::function

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, Callback> && std::is_invocable_v<D&>>>
  Callback(F&& f) {  // NOLINT: implicit, like std::function
    // A closure small enough to live inline but not nothrow-movable would be boxed (a heap
    // allocation per event). The usual cause is a by-copy capture of a `const T&` parameter: the
    // member is `const T`, which can only be copied. Capture it as `x = x` (a non-const copy).
    static_assert(sizeof(D) > kInline || alignof(D) > alignof(std::max_align_t) ||
                      std::is_nothrow_move_constructible_v<D>,
                  "closure fits inline but cannot be moved without throwing: capture const "
                  "reference parameters as `x = x`");
    if constexpr (std::is_same_v<D, std::function<void()>> || std::is_pointer_v<D>) {
      if (!f) return;  // an empty std::function or null pointer makes an empty Callback
    }
    if constexpr (fits<D>()) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      ::new (static_cast<void*>(buf_)) D*(new D(std::forward<F>(f)));
      ops_ = &kBoxedOps<D>;
    }
  }

  Callback(Callback&& o) noexcept : ops_(o.ops_) {
    if (ops_) ops_->relocate(buf_, o.buf_);
    o.ops_ = nullptr;
  }
  Callback& operator=(Callback&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      if (ops_) ops_->relocate(buf_, o.buf_);
      o.ops_ = nullptr;
    }
    return *this;
  }
  Callback& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  // Const like std::function's: the callable itself may mutate its captures.
  void operator()() const {
    if (!ops_) std::abort();
    ops_->call(const_cast<unsigned char*>(buf_));
  }
  void reset() noexcept {
    if (ops_) ops_->destroy(buf_);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    void (*call)(void*);
    void (*relocate)(void* dst, void* src);  // move-construct dst from src, then destroy src
    void (*destroy)(void*);
  };

  template <class D>
  static constexpr bool fits() {
    return sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<D>;
  }

  template <class D>
  static constexpr Ops kInlineOps{
      [](void* p) { (*static_cast<D*>(p))(); },
      [](void* dst, void* src) {
        D* s = static_cast<D*>(src);
        ::new (dst) D(std::move(*s));
        s->~D();
      },
      [](void* p) { static_cast<D*>(p)->~D(); },
  };

  template <class D>
  static constexpr Ops kBoxedOps{
      [](void* p) { (**static_cast<D**>(p))(); },
      [](void* dst, void* src) { ::new (dst) D*(*static_cast<D**>(src)); },
      [](void* p) { delete *static_cast<D**>(p); },
  };

  alignas(std::max_align_t) unsigned char buf_[kInline];
  const Ops* ops_ = nullptr;
};

}  // namespace sim
