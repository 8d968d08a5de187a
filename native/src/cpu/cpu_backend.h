// The CPU backend: host memory, an inline stream, the CPU kernel table and a
// per-session cap on the shared thread pool.
#pragma once
#include <memory>

#include "maas/backend.h"

namespace maas {

// options.device must be the host. Never fails otherwise.
Status CreateCpuBackend(const BackendOptions& options, std::unique_ptr<Backend>* out);

}  // namespace maas
