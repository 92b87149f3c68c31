// Structured one-line logs on stderr: `ts=... level=info event=model_loaded model=m version=1`.
// Values with spaces, quotes or '=' are quoted, so that every line splits unambiguously.
#ifndef ZETT_SERVER_LOG_H_
#define ZETT_SERVER_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace zett::server {

using LogField = std::pair<absl::string_view, std::string>;

void LogInfo(absl::string_view event, std::initializer_list<LogField> fields = {});
void LogWarning(absl::string_view event, std::initializer_list<LogField> fields = {});
void LogError(absl::string_view event, std::initializer_list<LogField> fields = {});

// The line LogInfo & co. would write (without the timestamp), for tests.
std::string FormatLogLine(absl::string_view level, absl::string_view event,
                          std::initializer_list<LogField> fields);

}  // namespace zett::server

#endif  // ZETT_SERVER_LOG_H_
