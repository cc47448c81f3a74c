// native/src/libbpf_log.h
// Captures libbpf's log output (including the verifier log) so load errors can carry its tail to JavaScript.
#pragma once
#include <string>

namespace execscope {

// Starts capturing libbpf output into a bounded buffer (replacing what was captured before).
void BeginLibbpfCapture();
// Returns the last `maxBytes` of what libbpf printed since BeginLibbpfCapture.
std::string LibbpfCaptureTail(size_t maxBytes);

}  // namespace execscope
