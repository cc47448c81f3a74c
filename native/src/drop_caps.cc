// native/src/drop_caps.cc
// Linux capabilities are per thread, and Node runs several threads (V8 platform, libuv pool). Like glibc's
// setxid broadcast, we signal every other thread to drop its own capabilities in a handler, then drop ours,
// then read /proc/self/task/*/status to verify instead of trusting it.
#include "drop_caps.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace execscope {
namespace {

std::atomic<int> gDropped{0};

// Async-signal-safe: raw syscalls only.
void DropOwnCapabilities() {
  // The bounding set first (that needs CAP_SETPCAP, which the capset below removes), so no exec can regain them.
  for (int cap = 0; cap <= 63; cap++) syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
  syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  std::memset(data, 0, sizeof(data));
  syscall(SYS_capset, &header, data);
}

void OnDropSignal(int) {
  int saved = errno;
  DropOwnCapabilities();
  gDropped.fetch_add(1);
  errno = saved;
}

std::vector<pid_t> Threads() {
  std::vector<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') tids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  }
  closedir(dir);
  return tids;
}

// True when the thread holds no effective, permitted or bounding capability.
bool ThreadIsBare(pid_t tid) {
  std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  int checked = 0;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0 || line.rfind("CapPrm:", 0) == 0 || line.rfind("CapBnd:", 0) == 0) {
      if (std::stoull(line.substr(7), nullptr, 16) != 0) return false;
      checked++;
    }
  }
  return checked == 3;
}

}  // namespace

Napi::Value DropCapabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int sig = SIGRTMIN + 7;
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = OnDropSignal;
  action.sa_flags = SA_RESTART;  // interrupted syscalls in those threads carry on
  sigemptyset(&action.sa_mask);
  struct sigaction previous;
  sigaction(sig, &action, &previous);

  pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  pid_t pid = getpid();
  gDropped.store(0);
  int signalled = 0;
  for (pid_t tid : Threads()) {
    if (tid == self) continue;
    if (syscall(SYS_tgkill, pid, tid, sig) == 0) signalled++;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (gDropped.load() < signalled && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  DropOwnCapabilities();
  sigaction(sig, &previous, nullptr);

  std::vector<pid_t> threads = Threads();
  Napi::Array remaining = Napi::Array::New(env);
  uint32_t n = 0;
  for (pid_t tid : threads) {
    if (!ThreadIsBare(tid)) remaining.Set(n++, Napi::Number::New(env, tid));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("threads", Napi::Number::New(env, static_cast<double>(threads.size())));
  out.Set("signalled", Napi::Number::New(env, signalled));
  out.Set("remaining", remaining);
  return out;
}

}  // namespace execscope
