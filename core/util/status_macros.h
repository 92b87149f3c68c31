// Early-return helpers for absl::Status / absl::StatusOr, as Abseil keeps its own internal.
#ifndef ZETT_CORE_UTIL_STATUS_MACROS_H_
#define ZETT_CORE_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ZETT_STATUS_CONCAT_INNER_(a, b) a##b
#define ZETT_STATUS_CONCAT_(a, b) ZETT_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    const absl::Status zett_status_ = (expr);    \
    if (!zett_status_.ok()) return zett_status_; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, F()); declares/assigns x from a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ZETT_ASSIGN_OR_RETURN_IMPL_(ZETT_STATUS_CONCAT_(zett_statusor_, __LINE__), lhs, expr)

#define ZETT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // ZETT_CORE_UTIL_STATUS_MACROS_H_
