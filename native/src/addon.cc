// native/src/addon.cc
// Module entry: the Sensor class, the record layout (for the drift test) and the two clocks.
#include <napi.h>
#include <time.h>

#include <cstddef>

#include "drop_caps.h"
#include "execscope_event.h"
#include "sensor.h"

namespace execscope {
namespace {

Napi::Value Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#define ES_SIZE(type) out.Set("sizeof " #type, Napi::Number::New(env, static_cast<double>(sizeof(struct type))))
#define ES_FIELD(type, field) out.Set(#type "." #field, Napi::Number::New(env, static_cast<double>(offsetof(struct type, field))))
  ES_SIZE(es_header);
  ES_FIELD(es_header, kind);
  ES_FIELD(es_header, version);
  ES_FIELD(es_header, cpu);
  ES_FIELD(es_header, size);
  ES_FIELD(es_header, ktime);
  ES_FIELD(es_header, seq);
  ES_SIZE(es_exec);
  ES_FIELD(es_exec, tgid);
  ES_FIELD(es_exec, tid);
  ES_FIELD(es_exec, ppid);
  ES_FIELD(es_exec, uid);
  ES_FIELD(es_exec, euid);
  ES_FIELD(es_exec, auid);
  ES_FIELD(es_exec, nspid);
  ES_FIELD(es_exec, pidns_level);
  ES_FIELD(es_exec, flags);
  ES_FIELD(es_exec, args_total);
  ES_FIELD(es_exec, start_boottime);
  ES_FIELD(es_exec, cgroup_id);
  ES_FIELD(es_exec, filename_len);
  ES_FIELD(es_exec, args_len);
  ES_FIELD(es_exec, cwd_len);
  ES_FIELD(es_exec, cgroup_v2_len);
  ES_FIELD(es_exec, cgroup_v1_len);
  ES_FIELD(es_exec, env_len);
  ES_SIZE(es_fork);
  ES_FIELD(es_fork, tgid);
  ES_FIELD(es_fork, ppid);
  ES_FIELD(es_fork, nspid);
  ES_FIELD(es_fork, pidns_level);
  ES_FIELD(es_fork, start_boottime);
  ES_SIZE(es_exit);
  ES_FIELD(es_exit, tgid);
  ES_FIELD(es_exit, tid);
  ES_FIELD(es_exit, exit_code);
  ES_FIELD(es_exit, start_boottime);
#undef ES_SIZE
#undef ES_FIELD
  Napi::Object constants = Napi::Object::New(env);
#define ES_CONST(name) constants.Set(#name, Napi::Number::New(env, static_cast<double>(name)))
  ES_CONST(ES_RECORD_VERSION);
  ES_CONST(ES_KIND_EXEC);
  ES_CONST(ES_KIND_FORK);
  ES_CONST(ES_KIND_EXIT);
  ES_CONST(ES_EXEC_TRUNC_FILENAME);
  ES_CONST(ES_EXEC_TRUNC_ARGS);
  ES_CONST(ES_EXEC_ERROR_ARGS);
  ES_CONST(ES_EXEC_ERROR_CWD);
  ES_CONST(ES_EXEC_TRUNC_CWD);
  ES_CONST(ES_EXEC_ERROR_FILENAME);
  ES_CONST(ES_EXEC_ERROR_CGROUP);
  ES_CONST(ES_EXEC_TRUNC_ENV);
  ES_CONST(ES_EXEC_ERROR_ENV);
  ES_CONST(ES_EXEC_CWD_DELETED);
  ES_CONST(ES_EXEC_NO_MM);
  ES_CONST(ES_ENV_NONE);
  ES_CONST(ES_ENV_TRACE_CONTEXT);
  ES_CONST(ES_ENV_ALL);
  ES_CONST(ES_STAT_EXEC_SEEN);
  ES_CONST(ES_STAT_EXEC_DROPPED);
  ES_CONST(ES_STAT_FORK_SEEN);
  ES_CONST(ES_STAT_FORK_DROPPED);
  ES_CONST(ES_STAT_EXIT_SEEN);
  ES_CONST(ES_STAT_EXIT_DROPPED);
  ES_CONST(ES_STAT_SEQ);
  ES_CONST(ES_STAT_SCRATCH_MISS);
  ES_CONST(ES_STAT_COUNT);
  ES_CONST(ES_ARGS_MAX);
  ES_CONST(ES_FILENAME_MAX);
#undef ES_CONST
  out.Set("constants", constants);
  return out;
}

Napi::BigInt ClockNs(Napi::Env env, clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return Napi::BigInt::New(env, static_cast<uint64_t>(static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec)));
}

// Both clocks read back to back, so user space can turn boot-clock times into wall-clock times.
Napi::Value Clocks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("boottimeNs", ClockNs(env, CLOCK_BOOTTIME));
  out.Set("realtimeNs", ClockNs(env, CLOCK_REALTIME));
  return out;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Sensor", Sensor::Init(env));
  exports.Set("layout", Napi::Function::New(env, Layout));
  exports.Set("clocks", Napi::Function::New(env, Clocks));
  exports.Set("dropCapabilities", Napi::Function::New(env, DropCapabilities));
  return exports;
}

}  // namespace execscope

// The macro pastes its argument into an identifier, so it needs an unqualified name.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return execscope::Init(env, exports);
}
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
