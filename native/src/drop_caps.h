// native/src/drop_caps.h
// Drops every capability from every thread of the process once the BPF programs are attached.
#pragma once

#include <napi.h>

namespace execscope {

// JavaScript thread. Returns {threads, dropped, remaining: [tid, …]} after checking /proc/self/task.
Napi::Value DropCapabilities(const Napi::CallbackInfo& info);

}  // namespace execscope
