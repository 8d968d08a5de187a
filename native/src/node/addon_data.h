// Per-environment state of the addon (one per Node worker thread).
#pragma once
#include <napi.h>

namespace maas {
namespace node {

struct AddonData {
  Napi::FunctionReference session_constructor;
};

}  // namespace node
}  // namespace maas
