#include "core/tokenizer/onig_regex.h"

#include <oniguruma.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {
namespace {

void InitOniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<OnigRegex>> OnigRegex::Compile(std::string_view pattern) {
  InitOniguruma();
  regex_t* regex = nullptr;
  OnigErrorInfo error_info;
  const auto* begin = reinterpret_cast<const UChar*>(pattern.data());
  const int rc = onig_new(&regex, begin, begin + pattern.size(), ONIG_OPTION_CAPTURE_GROUP,
                          ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &error_info);
  if (rc != ONIG_NORMAL) {
    UChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, rc, &error_info);
    return absl::InvalidArgumentError(
        Cat("invalid regex '", pattern, "': ", reinterpret_cast<char*>(message)));
  }
  return std::unique_ptr<OnigRegex>(new OnigRegex(regex, std::string(pattern)));
}

std::string OnigRegex::Escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/ #").find(c) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

OnigRegex::~OnigRegex() { onig_free(static_cast<regex_t*>(regex_)); }

std::vector<std::pair<size_t, size_t>> OnigRegex::FindAll(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  auto* regex = static_cast<regex_t*>(regex_);
  OnigRegion* region = onig_region_new();
  const auto* str = reinterpret_cast<const UChar*>(text.data());
  const UChar* end = str + text.size();
  size_t start = 0;
  while (start <= text.size()) {
    const int rc = onig_search(regex, str, end, str + start, end, region, ONIG_OPTION_NONE);
    if (rc < 0) break;  // ONIG_MISMATCH or an error: no more matches.
    const size_t b = static_cast<size_t>(region->beg[0]);
    const size_t e = static_cast<size_t>(region->end[0]);
    matches.emplace_back(b, e);
    if (e == b) {
      if (e >= text.size()) break;
      start = e + Utf8Length(static_cast<unsigned char>(text[e]));
    } else {
      start = e;
    }
  }
  onig_region_free(region, 1);
  return matches;
}

}  // namespace zett::tokenizer
