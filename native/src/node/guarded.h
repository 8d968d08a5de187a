// Engine work off the JS thread (loads on libuv's pool, runs on the run
// threads) goes through Guarded: nothing may escape those threads, so any
// exception becomes a Status.
#pragma once
#include <exception>
#include <new>

#include "maas/status.h"

namespace maas {
namespace node {

template <typename Fn>
Status Guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    return Internal(e.what());
  } catch (...) {
    return Internal("unknown failure");
  }
}

}  // namespace node
}  // namespace maas
