#include "core/train/history_events.h"

#include "absl/strings/str_cat.h"
#include "core/train/run_state.h"
#include "core/util/status_macros.h"

namespace zett {
using json = nlohmann::json;

absl::StatusOr<HistoryEvents> HistoryEvents::Open(const std::string& dir, const json& history) {
  ASSIGN_OR_RETURN(TensorBoardWriter writer, TensorBoardWriter::Open(dir));
  return HistoryEvents(std::move(writer), HistoryEntries(history, "train").size(),
                       HistoryEntries(history, "valid").size());
}

absl::Status HistoryEvents::Update(const json& history) {
  const json& train = HistoryEntries(history, "train");
  const json& valid = HistoryEntries(history, "valid");
  if (train_ == train.size() && valid_ == valid.size()) return absl::OkStatus();
  for (; train_ < train.size(); ++train_) {
    const json& e = train[train_];
    for (const auto& [key, v] : e.items()) {
      if (key == "step" || !v.is_number()) continue;
      RETURN_IF_ERROR(writer_.AddScalar("train/" + key, e.value("step", 0), v.get<double>()));
    }
  }
  for (; valid_ < valid.size(); ++valid_) {
    const json& e = valid[valid_];
    const int64_t step = e.value("step", 0);
    for (const auto& [name, v] : e.items()) {
      if (name == "step") continue;
      if (v.is_number()) {
        RETURN_IF_ERROR(writer_.AddScalar("valid/" + name, step, v.get<double>()));
      }
      if (!v.is_object()) continue;
      for (const auto& [key, x] : v.items()) {
        if (!x.is_number()) continue;
        RETURN_IF_ERROR(
            writer_.AddScalar(absl::StrCat("valid/", name, "/", key), step, x.get<double>()));
      }
    }
  }
  return writer_.Flush();
}

}  // namespace zett
