// Status codes returned by every kernel entry point. Kernels never throw across the C++/JS boundary
// and never know about JavaScript: the binding turns a non-OK Status into a JS error naming the op.
#pragma once
#include <string>
#include <utility>

namespace sana {

enum class Code {
  kOk = 0,
  kInvalidArgument,  // wrong shape, dtype, size; a bad option
  kOutOfMemory,      // host or device allocation failed
  kUnavailable,      // backend not compiled in, or no device/driver
  kInternal,         // a CUDA error or an invariant broken
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
inline Status OutOfMemory(std::string m) { return Status(Code::kOutOfMemory, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

}  // namespace sana

#define SANA_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::sana::Status _sana_status = (expr);   \
    if (!_sana_status.ok()) return _sana_status; \
  } while (0)
