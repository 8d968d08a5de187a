// Memory figures of a session for JS: memory() (synchronous: it only reads
// counters) and plan(dims) (a worker: building a plan may fold subgraphs).
#pragma once
#include <napi.h>

#include <memory>

#include "maas/engine.h"

namespace maas {
namespace node {

// {weightsBytes, arenaReservedBytes, plans: [{inputDims: number[][], arenaBytes, outputBytes}]}
Napi::Object SessionMemoryToJs(Napi::Env env, const SessionMemory& memory);

// plan(dims: number[][]) → Promise<{inputDims, arenaBytes, outputBytes}>, off the JS thread.
Napi::Value StartPlanWorker(const Napi::CallbackInfo& info, std::shared_ptr<const Session> session);

}  // namespace node
}  // namespace maas
