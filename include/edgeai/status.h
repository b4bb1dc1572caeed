// Status and Result<T>: how errors cross every component boundary in edgeai.
//
// An OK Status holds no allocation (a null pointer), so returning success is free. An error carries a code and
// a message that names the model, node or tensor at fault. No function on the inference path throws; it returns
// one of these instead. Thread safety: values, copyable and movable; no shared state.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace edgeai {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kUnimplemented,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kInternal,
};

// The lower-case name of a code, e.g. "invalid_argument".
std::string_view StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message alone, without the code; empty when ok().
  const std::string& message() const;
  // "invalid_argument: <message>", or "ok".
  std::string ToString() const;

  // A copy of this error with `context` prepended to the message ("context: message"). OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status Unimplemented(std::string message);
Status ResourceExhausted(std::string message);
Status Unavailable(std::string message);
Status DeadlineExceeded(std::string message);
Status Internal(std::string message);

// Either a value of T or an error Status. Accessing value() of an error is a programming error (asserted).
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(data_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace edgeai

#define EDGEAI_CONCAT_INNER_(a, b) a##b
#define EDGEAI_CONCAT_(a, b) EDGEAI_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (a Status) is an error.
#define EDGEAI_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::edgeai::Status edgeai_status_ = (expr);   \
    if (!edgeai_status_.ok()) return edgeai_status_; \
  } while (0)

// `lhs` = value of `rexpr` (a Result<T>), or returns its error from the enclosing function.
#define EDGEAI_ASSIGN_OR_RETURN(lhs, rexpr) \
  EDGEAI_ASSIGN_OR_RETURN_IMPL_(EDGEAI_CONCAT_(edgeai_result_, __LINE__), lhs, rexpr)
#define EDGEAI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
