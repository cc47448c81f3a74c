// native/src/libbpf_log.cc
// libbpf prints through one process-wide callback; we keep the tail of it for error reports.
#include "libbpf_log.h"

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace execscope {
namespace {

constexpr size_t kCaptureLimit = 64 * 1024;
std::mutex gMutex;
std::string gCaptured;

int PrintToCapture(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n <= 0) return 0;
  std::lock_guard<std::mutex> lock(gMutex);
  gCaptured.append(line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1));
  if (gCaptured.size() > kCaptureLimit) gCaptured.erase(0, gCaptured.size() - kCaptureLimit);
  return 0;
}

}  // namespace

void BeginLibbpfCapture() {
  std::lock_guard<std::mutex> lock(gMutex);
  gCaptured.clear();
  libbpf_set_print(PrintToCapture);
}

std::string LibbpfCaptureTail(size_t maxBytes) {
  std::lock_guard<std::mutex> lock(gMutex);
  if (gCaptured.size() <= maxBytes) return gCaptured;
  return gCaptured.substr(gCaptured.size() - maxBytes);
}

}  // namespace execscope
