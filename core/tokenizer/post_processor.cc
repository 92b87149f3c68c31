#include "core/tokenizer/post_processor.h"

#include "absl/strings/str_cat.h"
#include "core/tokenizer/json_fields.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {

using json_fields::Json;

namespace {

absl::StatusOr<int32_t> PairId(const Json& json, std::string_view key, std::string_view path) {
  const Json* pair = json_fields::Find(json, key);
  if (pair == nullptr || !pair->is_array() || pair->size() != 2 ||
      !(*pair)[1].is_number_integer()) {
    return json_fields::Error(json_fields::Join(path, key), "expected [token, id]");
  }
  return (*pair)[1].get<int32_t>();
}

}  // namespace

absl::StatusOr<PostProcessor> PostProcessor::FromJson(const Json& json, std::string_view path,
                                                      int depth) {
  PostProcessor p;
  if (json.is_null()) return p;
  RETURN_IF_ERROR(json_fields::CheckDepth(depth, path));
  ASSIGN_OR_RETURN(const std::string type, json_fields::String(json, "type", path));
  if (type == "ByteLevel") return p;
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    ASSIGN_OR_RETURN(int32_t cls, PairId(json, "cls", path));
    ASSIGN_OR_RETURN(int32_t sep, PairId(json, "sep", path));
    p.prefix_ = {cls};
    p.suffix_ = {sep};
    return p;
  }
  if (type == "TemplateProcessing") {
    const Json* single = json_fields::Find(json, "single");
    const Json* specials = json_fields::Find(json, "special_tokens");
    if (single == nullptr || !single->is_array()) {
      return json_fields::Error(json_fields::Join(path, "single"), "expected an array");
    }
    bool seen_sequence = false;
    for (size_t i = 0; i < single->size(); ++i) {
      const Json& item = (*single)[i];
      const std::string where = Cat(path, ".single[", i, "]");
      if (json_fields::Find(item, "Sequence") != nullptr) {
        seen_sequence = true;
        continue;
      }
      const Json* special = json_fields::Find(item, "SpecialToken");
      if (special == nullptr) return json_fields::Error(where, "expected Sequence or SpecialToken");
      ASSIGN_OR_RETURN(std::string name, json_fields::String(*special, "id", where));
      const Json* entry = specials == nullptr ? nullptr : json_fields::Find(*specials, name);
      const Json* ids = entry == nullptr ? nullptr : json_fields::Find(*entry, "ids");
      if (ids == nullptr || !ids->is_array()) {
        return json_fields::Error(json_fields::Join(path, "special_tokens"),
                                  Cat("no ids for '", name, "'"));
      }
      for (const Json& id : *ids) {
        if (!id.is_number_integer())
          return json_fields::Error(where, "special token id not an integer");
        (seen_sequence ? p.suffix_ : p.prefix_).push_back(id.get<int32_t>());
      }
    }
    return p;
  }
  if (type == "Sequence") {
    const Json* list = json_fields::Find(json, "processors");
    if (list == nullptr || !list->is_array()) {
      return json_fields::Error(json_fields::Join(path, "processors"), "expected an array");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      ASSIGN_OR_RETURN(PostProcessor inner,
                       FromJson((*list)[i], Cat(path, ".processors[", i, "]"), depth + 1));
      p.prefix_.insert(p.prefix_.begin(), inner.prefix_.begin(), inner.prefix_.end());
      p.suffix_.insert(p.suffix_.end(), inner.suffix_.begin(), inner.suffix_.end());
    }
    return p;
  }
  return json_fields::Error(json_fields::Join(path, "type"),
                            Cat("unknown post-processor type '", type, "'"));
}

std::vector<int32_t> PostProcessor::Process(std::vector<int32_t> ids) const {
  if (prefix_.empty() && suffix_.empty()) return ids;
  std::vector<int32_t> out;
  out.reserve(ids.size() + prefix_.size() + suffix_.size());
  out.insert(out.end(), prefix_.begin(), prefix_.end());
  out.insert(out.end(), ids.begin(), ids.end());
  out.insert(out.end(), suffix_.begin(), suffix_.end());
  return out;
}

}  // namespace zett::tokenizer
