// native/src/sensor.h
// The kernel sensor as a JavaScript object: loads and attaches the BPF programs, drains the ring buffer on
// its own thread, and hands batches of raw records to a JavaScript callback.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

struct exec_bpf;
struct ring_buffer;

namespace execscope {

using Batch = std::vector<uint8_t>;
class Sensor;
void DeliverBatch(Napi::Env env, Napi::Function callback, Sensor* sensor, Batch* batch);
using BatchTsfn = Napi::TypedThreadSafeFunction<Sensor, Batch, DeliverBatch>;

struct SensorOptions {
  uint32_t ringBytes = 8u << 20;
  uint32_t wakeupBytes = 256u << 10;
  int32_t cgroupV1Ssid = -1;
  uint32_t envMode = 1;
  uint32_t argsMax = 65535;
  int pollMs = 10;
  uint32_t batchBytes = 1u << 20;       // hand a batch over early once it is this big
  uint64_t maxInFlightBytes = 256u << 20;  // batches handed over but not yet taken by JavaScript
};

class Sensor : public Napi::ObjectWrap<Sensor> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Sensor(const Napi::CallbackInfo& info);
  ~Sensor() override;

  // Called on the JavaScript thread once JavaScript has taken a batch.
  void BatchTaken(size_t bytes) { mInFlightBytes.fetch_sub(bytes); }

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void Load(Napi::Env env);
  void PollLoop();                                           // poll thread
  static int OnRecord(void* ctx, void* data, size_t size);  // poll thread (or JS thread after join)
  void HandOver();                                           // poll thread (or JS thread after join)
  void StopThread();
  void Destroy();

  SensorOptions mOptions;
  exec_bpf* mSkel = nullptr;
  ring_buffer* mRing = nullptr;
  std::thread mThread;
  std::atomic<bool> mStop{false};
  bool mClosed = false;
  BatchTsfn mTsfn;
  Batch* mBatch = nullptr;

  std::atomic<uint64_t> mRecords{0};
  std::atomic<uint64_t> mBytes{0};
  std::atomic<uint64_t> mBatches{0};
  std::atomic<uint64_t> mDroppedRecords{0};
  std::atomic<uint64_t> mDroppedBatches{0};
  std::atomic<uint64_t> mInFlightBytes{0};
  std::atomic<uint64_t> mPeakInFlightBytes{0};
};

}  // namespace execscope
