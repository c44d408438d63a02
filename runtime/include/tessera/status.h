/// @file
/// Status and Result<T>: the only error model of Tessera's public API.
/// Nothing throws across the API; every fallible call returns one of these.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "tessera/export.h"

/// Tessera's public C++ API.
namespace tessera {

/// What kind of failure a Status reports.
enum class StatusCode {
  kOk = 0,             ///< success
  kInvalidArgument,    ///< the caller passed something wrong (shape, token, option)
  kNotFound,           ///< a file, tensor or key is missing
  kIoError,            ///< the OS refused a read/write
  kCorruptFile,        ///< a file's bytes contradict its own format
  kUnsupported,        ///< valid input this build or device cannot run
  kUnavailable,        ///< a device/backend is not present (a normal outcome)
  kOutOfRange,         ///< a value outside its allowed range (e.g. context full)
  kInternal,           ///< a bug in Tessera
  kResourceExhausted,  ///< a request larger than the model, the backend or the machine can hold
};

/// A short lower-case name of `code` ("ok", "invalid argument", ...); never null.
TESSERA_API const char* status_code_name(StatusCode code);

/// The outcome of a fallible call: ok, or a StatusCode with a message naming what failed and why.
class [[nodiscard]] TESSERA_API Status {
 public:
  /// Success.
  Status() = default;
  /// A failure (or success, for StatusCode::kOk) with its message.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  /// Success, spelled out.
  static Status ok_status() { return Status(); }
  /// True on success.
  bool ok() const { return code_ == StatusCode::kOk; }
  /// The kind of failure (StatusCode::kOk on success).
  StatusCode code() const { return code_; }
  /// What failed and why (empty on success).
  const std::string& message() const { return message_; }
  /// "<code name>: <message>", or "ok".
  std::string to_string() const;

  /// The same error with `context` ("while reading X: ") before its message; ok stays ok.
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

/// @name Shorthands that make a failed Status of each code
/// @{

/// StatusCode::kInvalidArgument with message `m`.
inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
/// StatusCode::kNotFound with message `m`.
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
/// StatusCode::kIoError with message `m`.
inline Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
/// StatusCode::kCorruptFile with message `m`.
inline Status corrupt_file(std::string m) { return {StatusCode::kCorruptFile, std::move(m)}; }
/// StatusCode::kUnsupported with message `m`.
inline Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
/// StatusCode::kUnavailable with message `m`.
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
/// StatusCode::kOutOfRange with message `m`.
inline Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
/// StatusCode::kInternal with message `m`.
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
/// StatusCode::kResourceExhausted with message `m`.
inline Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
/// @}

/// A value of type `T`, or the Status of why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  /// A result holding `value`.
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  /// A failed result; `status` must not be ok.
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  /// True when a value is held.
  bool ok() const { return std::holds_alternative<T>(v_); }
  /// The failure, or an ok Status when a value is held.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  /// The value (only when ok()).
  T& value() & { return std::get<T>(v_); }
  /// The value (only when ok()).
  const T& value() const& { return std::get<T>(v_); }
  /// The value, moved out (only when ok()).
  T&& value() && { return std::get<T>(std::move(v_)); }
  /// The value's members (only when ok()).
  T* operator->() { return &value(); }
  /// The value's members (only when ok()).
  const T* operator->() const { return &value(); }
  /// The value (only when ok()).
  T& operator*() & { return value(); }
  /// The value (only when ok()).
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tessera

#define TESSERA_CONCAT_INNER(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function if `expr` is an error.
#define TESSERA_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::tessera::Status tessera_status_ = (expr);        \
    if (!tessera_status_.ok()) return tessera_status_; \
  } while (0)

/// `TESSERA_ASSIGN_OR_RETURN(auto x, make_x());`: declares `x` from a Result's value, or returns its Status.
#define TESSERA_ASSIGN_OR_RETURN(lhs, expr) \
  TESSERA_ASSIGN_OR_RETURN_IMPL(TESSERA_CONCAT(tessera_result_, __LINE__), lhs, expr)
#define TESSERA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
