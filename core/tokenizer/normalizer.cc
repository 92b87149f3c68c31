#include "core/tokenizer/normalizer.h"

#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_fields.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {

using json_fields::Json;

absl::Status UnicodeNormalizer::Normalize(std::string* text) const {
  ASSIGN_OR_RETURN(*text, NormalizeUnicode(*text, form_));
  return absl::OkStatus();
}

absl::Status LowercaseNormalizer::Normalize(std::string* text) const {
  *text = Lowercase(*text);
  return absl::OkStatus();
}

absl::Status StripNormalizer::Normalize(std::string* text) const {
  size_t begin = 0;
  size_t end = text->size();
  if (left_) {
    while (begin < end) {
      char32_t cp;
      const int len = DecodeUtf8(*text, begin, &cp);
      if (!IsWhitespace(cp)) break;
      begin += len;
    }
  }
  if (right_) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>((*text)[start]) & 0xC0) == 0x80) --start;
      char32_t cp;
      DecodeUtf8(*text, start, &cp);
      if (!IsWhitespace(cp)) break;
      end = start;
    }
  }
  *text = text->substr(begin, end - begin);
  return absl::OkStatus();
}

absl::Status StripAccentsNormalizer::Normalize(std::string* text) const {
  std::string out;
  out.reserve(text->size());
  size_t pos = 0;
  while (pos < text->size()) {
    char32_t cp;
    const int len = DecodeUtf8(*text, pos, &cp);
    if (!IsNonspacingMark(cp)) out.append(*text, pos, len);
    pos += len;
  }
  *text = std::move(out);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ReplaceNormalizer>> ReplaceNormalizer::Create(
    std::string_view pattern, bool is_regex, std::string content) {
  auto normalizer = std::unique_ptr<ReplaceNormalizer>(new ReplaceNormalizer());
  if (is_regex) {
    ASSIGN_OR_RETURN(normalizer->regex_, OnigRegex::Compile(pattern));
  } else {
    normalizer->literal_ = std::string(pattern);
  }
  normalizer->content_ = std::move(content);
  return normalizer;
}

absl::Status ReplaceNormalizer::Normalize(std::string* text) const {
  if (regex_ == nullptr) {
    if (!literal_.empty()) *text = absl::StrReplaceAll(*text, {{literal_, content_}});
    return absl::OkStatus();
  }
  std::string out;
  size_t prev = 0;
  for (const auto& [begin, end] : regex_->FindAll(*text)) {
    out.append(*text, prev, begin - prev);
    out += content_;
    prev = end;
  }
  out.append(*text, prev, std::string::npos);
  *text = std::move(out);
  return absl::OkStatus();
}

absl::Status PrependNormalizer::Normalize(std::string* text) const {
  if (!text->empty()) text->insert(0, prepend_);
  return absl::OkStatus();
}

absl::Status BertNormalizer::Normalize(std::string* text) const {
  std::string out;
  out.reserve(text->size());
  size_t pos = 0;
  while (pos < text->size()) {
    char32_t cp;
    const int len = DecodeUtf8(*text, pos, &cp);
    pos += len;
    if (options_.clean_text) {
      if (cp == 0 || cp == 0xFFFD) continue;
      // BERT treats \t \n \r as whitespace, other control chars are dropped.
      const bool ws = cp == '\t' || cp == '\n' || cp == '\r' || IsWhitespace(cp);
      if (!ws && IsControl(cp)) continue;
      if (ws) {
        out.push_back(' ');
        continue;
      }
    }
    if (options_.handle_chinese_chars && IsChineseChar(cp)) {
      out.push_back(' ');
      AppendUtf8(cp, &out);
      out.push_back(' ');
      continue;
    }
    AppendUtf8(cp, &out);
  }
  if (options_.strip_accents) {
    ASSIGN_OR_RETURN(out, NormalizeUnicode(out, NormalForm::kNfd));
    RETURN_IF_ERROR(StripAccentsNormalizer().Normalize(&out));
  }
  if (options_.lowercase) out = Lowercase(out);
  *text = std::move(out);
  return absl::OkStatus();
}

absl::Status PrecompiledNormalizer::Normalize(std::string* text) const {
  if (!charsmap_.empty()) *text = charsmap_.NormalizeLikeHuggingFace(*text);
  return absl::OkStatus();
}

absl::Status ByteLevelNormalizer::Normalize(std::string* text) const {
  *text = BytesToByteChars(*text);
  return absl::OkStatus();
}

absl::Status SequenceNormalizer::Normalize(std::string* text) const {
  for (const auto& n : normalizers_) RETURN_IF_ERROR(n->Normalize(text));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const Json& json,
                                                               std::string_view path, int depth) {
  if (json.is_null()) return std::unique_ptr<Normalizer>();
  RETURN_IF_ERROR(json_fields::CheckDepth(depth, path));
  ASSIGN_OR_RETURN(const std::string type, json_fields::String(json, "type", path));
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Strip") {
    ASSIGN_OR_RETURN(bool left, json_fields::Bool(json, "strip_left", path, true));
    ASSIGN_OR_RETURN(bool right, json_fields::Bool(json, "strip_right", path, true));
    return std::make_unique<StripNormalizer>(left, right);
  }
  if (type == "Prepend") {
    ASSIGN_OR_RETURN(std::string prepend, json_fields::String(json, "prepend", path));
    return std::make_unique<PrependNormalizer>(std::move(prepend));
  }
  if (type == "Replace") {
    std::string pattern;
    bool is_regex = false;
    RETURN_IF_ERROR(json_fields::Pattern(json, path, &pattern, &is_regex));
    ASSIGN_OR_RETURN(std::string content, json_fields::String(json, "content", path));
    auto replace = ReplaceNormalizer::Create(pattern, is_regex, std::move(content));
    if (!replace.ok()) {
      return json_fields::Error(json_fields::Join(path, "pattern"),
                                FromAbsl(replace.status().message()));
    }
    return std::unique_ptr<Normalizer>(std::move(replace).value());
  }
  if (type == "BertNormalizer") {
    BertNormalizerOptions options;
    ASSIGN_OR_RETURN(options.clean_text, json_fields::Bool(json, "clean_text", path, true));
    ASSIGN_OR_RETURN(options.handle_chinese_chars,
                     json_fields::Bool(json, "handle_chinese_chars", path, true));
    ASSIGN_OR_RETURN(options.lowercase, json_fields::Bool(json, "lowercase", path, true));
    ASSIGN_OR_RETURN(options.strip_accents,
                     json_fields::Bool(json, "strip_accents", path, options.lowercase));
    return std::make_unique<BertNormalizer>(options);
  }
  if (type == "Precompiled") {
    ASSIGN_OR_RETURN(std::string encoded,
                     json_fields::String(json, "precompiled_charsmap", path, std::string()));
    std::string blob;
    if (!absl::Base64Unescape(encoded, &blob)) {
      return json_fields::Error(json_fields::Join(path, "precompiled_charsmap"), "invalid base64");
    }
    auto charsmap = PrecompiledCharsmap::Parse(blob);
    if (!charsmap.ok()) {
      return json_fields::Error(json_fields::Join(path, "precompiled_charsmap"),
                                FromAbsl(charsmap.status().message()));
    }
    return std::make_unique<PrecompiledNormalizer>(std::move(charsmap).value());
  }
  if (type == "Sequence") {
    const Json* list = json_fields::Find(json, "normalizers");
    if (list == nullptr || !list->is_array()) {
      return json_fields::Error(json_fields::Join(path, "normalizers"), "expected an array");
    }
    std::vector<std::unique_ptr<Normalizer>> normalizers;
    for (size_t i = 0; i < list->size(); ++i) {
      ASSIGN_OR_RETURN(
          auto n, NormalizerFromJson((*list)[i], Cat(path, ".normalizers[", i, "]"), depth + 1));
      if (n) normalizers.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(normalizers));
  }
  return json_fields::Error(json_fields::Join(path, "type"),
                            Cat("unknown normalizer type '", type, "'"));
}

}  // namespace zett::tokenizer
