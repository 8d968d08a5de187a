// A non-owning reference to a callable: what ParallelFor and the kernels'
// loops take instead of std::function, which may allocate for a lambda that
// captures more than two pointers (and would, on every run of every kernel).
// The referenced callable must outlive the call.
#pragma once
#include <type_traits>
#include <utility>

namespace maas {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))), call_(&Call<std::remove_reference_t<F>>) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  template <typename F>
  static R Call(void* object, Args... args) {
    return (*static_cast<F*>(object))(std::forward<Args>(args)...);
  }
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace maas
