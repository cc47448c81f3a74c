// native/src/sensor.cc
// Threading: the poll thread owns mRing and mBatch while it runs; JavaScript owns them only after join().
#include "sensor.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "execscope_event.h"  // before the skeleton, which uses struct es_config
#include "exec.skel.h"
#include "libbpf_log.h"

namespace execscope {
namespace {

constexpr size_t kVerifierTailBytes = 4096;

[[noreturn]] void ThrowLoadError(Napi::Env env, const char* stage, int err) {
  int code = err < 0 ? -err : err;
  std::string message = std::string("BPF ") + stage + " failed: " + strerror(code);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_BPF_LOAD"));
  error.Set("errno", Napi::Number::New(env, code));
  error.Set("stage", Napi::String::New(env, stage));
  error.Set("verifierLog", Napi::String::New(env, LibbpfCaptureTail(kVerifierTailBytes)));
  throw error;
}

uint32_t U32Option(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

}  // namespace

// JavaScript thread: turns a batch into a Buffer without copying and calls the callback.
void DeliverBatch(Napi::Env env, Napi::Function callback, Sensor* sensor, Batch* batch) {
  size_t bytes = batch->size();
  if (env == nullptr) {  // the function is being torn down: just free
    delete batch;
    return;
  }
  sensor->BatchTaken(bytes);
  Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::NewOrCopy(
      env, batch->data(), batch->size(), [](Napi::Env, uint8_t*, Batch* owned) { delete owned; }, batch);
  callback.Call({buffer});
}

Napi::Function Sensor::Init(Napi::Env env) {
  return DefineClass(env, "Sensor",
                     {InstanceMethod<&Sensor::Stats>("stats"), InstanceMethod<&Sensor::Close>("close")});
}

Sensor::Sensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sensor>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "new Sensor(options, onBatch) expects an object and a function");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  mOptions.ringBytes = U32Option(o, "ringBytes", mOptions.ringBytes);
  mOptions.wakeupBytes = U32Option(o, "wakeupBytes", mOptions.wakeupBytes);
  mOptions.cgroupV1Ssid = o.Get("cgroupV1Ssid").IsNumber() ? o.Get("cgroupV1Ssid").As<Napi::Number>().Int32Value() : -1;
  mOptions.envMode = U32Option(o, "envMode", mOptions.envMode);
  mOptions.argsMax = U32Option(o, "argsMax", mOptions.argsMax);
  mOptions.pollMs = static_cast<int>(U32Option(o, "pollMs", static_cast<uint32_t>(mOptions.pollMs)));
  mOptions.batchBytes = U32Option(o, "batchBytes", mOptions.batchBytes);
  if (o.Get("maxInFlightBytes").IsNumber()) {
    mOptions.maxInFlightBytes = static_cast<uint64_t>(o.Get("maxInFlightBytes").As<Napi::Number>().Int64Value());
  }

  Load(env);
  // Unbounded queue: the byte budget (maxInFlightBytes) bounds memory instead, so the poll thread never blocks.
  mTsfn = BatchTsfn::New(env, info[1].As<Napi::Function>(), "execscope-ring", 0, 1, this);
  mBatch = new Batch();
  mBatch->reserve(mOptions.batchBytes + 128 * 1024);
  mThread = std::thread([this] { PollLoop(); });
}

void Sensor::Load(Napi::Env env) {
  BeginLibbpfCapture();
  mSkel = exec_bpf__open();
  if (!mSkel) ThrowLoadError(env, "open", errno ? errno : EINVAL);

  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) ncpus = 1;
  int err = bpf_map__set_max_entries(mSkel->maps.events, mOptions.ringBytes);
  if (!err) err = bpf_map__set_max_entries(mSkel->maps.scratch, static_cast<uint32_t>(ncpus));
  if (err) {
    Destroy();
    ThrowLoadError(env, "configure", err);
  }
  mSkel->rodata->cfg.wakeup_watermark = mOptions.wakeupBytes;
  mSkel->rodata->cfg.cgroup_v1_ssid = mOptions.cgroupV1Ssid;
  mSkel->rodata->cfg.env_mode = mOptions.envMode;
  mSkel->rodata->cfg.args_max = mOptions.argsMax;

  // The verifier gives up with EAGAIN when a signal is pending for the loading thread (profilers, SIGCHLD,
  // an early SIGTERM); block signals on this thread for the second or so that verification takes.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  err = exec_bpf__load(mSkel);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (err) {
    Destroy();
    ThrowLoadError(env, "load", err);
  }
  err = exec_bpf__attach(mSkel);
  if (err) {
    Destroy();
    ThrowLoadError(env, "attach", err);
  }
  mRing = ring_buffer__new(bpf_map__fd(mSkel->maps.events), OnRecord, this, nullptr);
  if (!mRing) {
    int e = errno;
    Destroy();
    ThrowLoadError(env, "ringbuf", e ? e : ENOMEM);
  }
}

int Sensor::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<Sensor*>(ctx);
  Batch* batch = self->mBatch;
  size_t at = batch->size();
  size_t padded = (size + 7) & ~static_cast<size_t>(7);  // keep every record 8-byte aligned for DataView reads
  batch->resize(at + padded);
  std::memcpy(batch->data() + at, data, size);
  if (padded != size) std::memset(batch->data() + at + size, 0, padded - size);
  self->mRecords.fetch_add(1, std::memory_order_relaxed);
  if (batch->size() >= self->mOptions.batchBytes) self->HandOver();
  return 0;
}

void Sensor::HandOver() {
  Batch* batch = mBatch;
  if (batch->empty()) return;
  size_t bytes = batch->size();
  mBatch = new Batch();
  mBatch->reserve(mOptions.batchBytes + 128 * 1024);
  uint64_t pending = mInFlightBytes.load();
  // A batch is always accepted when nothing is pending, so the budget bounds memory without starving.
  if (pending > 0 && pending + bytes > mOptions.maxInFlightBytes) {
    // JavaScript is this far behind: drop here (counted) rather than grow without bound.
    size_t records = 0;
    for (size_t off = 0; off + sizeof(es_header) <= bytes;) {
      auto* h = reinterpret_cast<const es_header*>(batch->data() + off);
      records++;
      off += (h->size + 7) & ~7u;
      if (h->size == 0) break;
    }
    mDroppedRecords.fetch_add(records);
    mDroppedBatches.fetch_add(1);
    delete batch;
    return;
  }
  uint64_t inFlight = mInFlightBytes.fetch_add(bytes) + bytes;
  if (inFlight > mPeakInFlightBytes.load(std::memory_order_relaxed)) mPeakInFlightBytes.store(inFlight, std::memory_order_relaxed);
  mBytes.fetch_add(bytes, std::memory_order_relaxed);
  mBatches.fetch_add(1, std::memory_order_relaxed);
  if (mTsfn.NonBlockingCall(batch) != napi_ok) {
    mInFlightBytes.fetch_sub(bytes);
    delete batch;
  }
}

void Sensor::PollLoop() {
  while (!mStop.load()) {
    // Records are written without waking us (watermark policy), so poll only bounds the wait
    // and consume picks up whatever is pending.
    ring_buffer__poll(mRing, mOptions.pollMs);
    ring_buffer__consume(mRing);
    HandOver();
  }
}

void Sensor::StopThread() {
  mStop.store(true);
  if (mThread.joinable()) mThread.join();
}

Napi::Value Sensor::Close(const Napi::CallbackInfo& info) {
  if (mClosed) return info.Env().Undefined();
  mClosed = true;
  StopThread();
  // Detach first so nothing new arrives, then hand over what is left in the ring.
  if (mSkel) exec_bpf__detach(mSkel);
  if (mRing) {
    ring_buffer__consume(mRing);
    HandOver();
  }
  mTsfn.Release();
  return info.Env().Undefined();
}

Napi::Value Sensor::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("records", Napi::Number::New(env, static_cast<double>(mRecords.load())));
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(mBytes.load())));
  out.Set("batches", Napi::Number::New(env, static_cast<double>(mBatches.load())));
  out.Set("userDroppedRecords", Napi::Number::New(env, static_cast<double>(mDroppedRecords.load())));
  out.Set("userDroppedBatches", Napi::Number::New(env, static_cast<double>(mDroppedBatches.load())));
  out.Set("inFlightBytes", Napi::Number::New(env, static_cast<double>(mInFlightBytes.load())));
  out.Set("peakInFlightBytes", Napi::Number::New(env, static_cast<double>(mPeakInFlightBytes.load())));

  Napi::Array kernel = Napi::Array::New(env, ES_STAT_COUNT);
  int ncpus = libbpf_num_possible_cpus();
  if (mSkel && ncpus > 0) {
    std::vector<uint64_t> values(static_cast<size_t>(ncpus));
    int fd = bpf_map__fd(mSkel->maps.stats);
    for (uint32_t slot = 0; slot < ES_STAT_COUNT; slot++) {
      uint64_t sum = 0;
      if (bpf_map_lookup_elem(fd, &slot, values.data()) == 0) {
        for (uint64_t v : values) sum += v;
      }
      kernel.Set(slot, Napi::Number::New(env, static_cast<double>(sum)));
    }
  }
  out.Set("kernel", kernel);
  return out;
}

void Sensor::Destroy() {
  if (mRing) {
    ring_buffer__free(mRing);
    mRing = nullptr;
  }
  if (mSkel) {
    exec_bpf__destroy(mSkel);
    mSkel = nullptr;
  }
}

Sensor::~Sensor() {
  StopThread();
  Destroy();
  delete mBatch;
}

}  // namespace execscope
