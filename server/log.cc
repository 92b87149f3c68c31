#include "server/log.h"

#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace zett::server {
namespace {

void AppendValue(absl::string_view value, std::string* out) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\n\t\\") == absl::string_view::npos;
  if (plain) {
    out->append(value.data(), value.size());
    return;
  }
  out->push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out->push_back('\\');
    if (c == '\n') {
      out->append("\\n");
      continue;
    }
    out->push_back(c);
  }
  out->push_back('"');
}

void Emit(absl::string_view level, absl::string_view event,
          std::initializer_list<LogField> fields) {
  static std::mutex mutex;
  const std::string line = absl::StrCat(
      "ts=", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
      FormatLogLine(level, event, fields), "\n");
  std::lock_guard<std::mutex> lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string FormatLogLine(absl::string_view level, absl::string_view event,
                          std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat("level=", level, " event=", event);
  for (const LogField& field : fields) {
    absl::StrAppend(&line, " ", field.first, "=");
    AppendValue(field.second, &line);
  }
  return line;
}

void LogInfo(absl::string_view event, std::initializer_list<LogField> fields) {
  Emit("info", event, fields);
}
void LogWarning(absl::string_view event, std::initializer_list<LogField> fields) {
  Emit("warning", event, fields);
}
void LogError(absl::string_view event, std::initializer_list<LogField> fields) {
  Emit("error", event, fields);
}

}  // namespace zett::server
