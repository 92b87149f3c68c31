#include "core/tokenizer/pre_tokenizer.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_fields.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {

using json_fields::Json;

void SplitPiece(const Piece& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                SplitBehavior behavior, bool invert, std::vector<Piece>* out) {
  // Cover the text with (begin, end, is_delimiter) spans, as HF's find_matches does.
  struct Span {
    size_t begin, end;
    bool delimiter;
  };
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (b != prev) spans.push_back({prev, b, invert});
    spans.push_back({b, e, !invert});
    prev = e;
  }
  if (prev != piece.text.size()) spans.push_back({prev, piece.text.size(), invert});

  std::vector<Span> kept;  // `delimiter` now means "drop"
  kept.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::kRemoved:
      kept = spans;
      break;
    case SplitBehavior::kIsolated:
      for (const Span& s : spans) kept.push_back({s.begin, s.end, false});
      break;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (const Span& s : spans) {
        if (s.delimiter == previous && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back({s.begin, s.end, false});
        }
        previous = s.delimiter;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (const Span& s : spans) {
        if (s.delimiter && !previous && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back({s.begin, s.end, false});
        }
        previous = s.delimiter;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->delimiter && !previous && !kept.empty()) {
          kept.back().begin = it->begin;
        } else {
          kept.push_back({it->begin, it->end, false});
        }
        previous = it->delimiter;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
  }
  for (const Span& s : kept) {
    if (s.delimiter || s.begin == s.end) continue;
    out->push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_origin && s.begin == 0});
  }
}

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space) {
  if (use_regex) regex_ = std::move(OnigRegex::Compile(kGpt2SplitRegex).value());
}

void ByteLevelPreTokenizer::PreTokenize(std::vector<Piece>* pieces) const {
  std::vector<Piece> split;
  split.reserve(pieces->size());
  for (Piece& piece : *pieces) {
    if (add_prefix_space_ && (piece.text.empty() || piece.text[0] != ' ')) {
      piece.text.insert(0, " ");
    }
    if (regex_ != nullptr) {
      SplitPiece(piece, regex_->FindAll(piece.text), SplitBehavior::kIsolated, false, &split);
    } else {
      split.push_back(std::move(piece));
    }
  }
  for (Piece& piece : split) piece.text = BytesToByteChars(piece.text);
  *pieces = std::move(split);
}

absl::StatusOr<std::unique_ptr<SplitPreTokenizer>> SplitPreTokenizer::Create(
    std::string_view pattern, bool is_regex, SplitBehavior behavior, bool invert) {
  auto split = std::unique_ptr<SplitPreTokenizer>(new SplitPreTokenizer());
  ASSIGN_OR_RETURN(split->regex_, OnigRegex::Compile(is_regex ? std::string(pattern)
                                                              : OnigRegex::Escape(pattern)));
  split->behavior_ = behavior;
  split->invert_ = invert;
  return split;
}

void SplitPreTokenizer::PreTokenize(std::vector<Piece>* pieces) const {
  std::vector<Piece> split;
  split.reserve(pieces->size() * 4);
  for (const Piece& piece : *pieces) {
    SplitPiece(piece, regex_->FindAll(piece.text), behavior_, invert_, &split);
  }
  *pieces = std::move(split);
}

void MetaspacePreTokenizer::PreTokenize(std::vector<Piece>* pieces) const {
  std::vector<Piece> split;
  for (Piece& piece : *pieces) {
    piece.text = absl::StrReplaceAll(piece.text, {{" ", replacement_}});
    const bool starts_with = piece.text.compare(0, replacement_.size(), replacement_) == 0;
    if (!starts_with && (scheme_ == PrependScheme::kAlways ||
                         (scheme_ == PrependScheme::kFirst && piece.at_origin))) {
      piece.text.insert(0, replacement_);
    }
    if (!split_ || replacement_.empty()) {
      if (!piece.text.empty()) split.push_back(std::move(piece));
      continue;
    }
    std::vector<std::pair<size_t, size_t>> matches;
    for (size_t pos = piece.text.find(replacement_); pos != std::string::npos;
         pos = piece.text.find(replacement_, pos + replacement_.size())) {
      matches.emplace_back(pos, pos + replacement_.size());
    }
    SplitPiece(piece, matches, SplitBehavior::kMergedWithNext, false, &split);
  }
  *pieces = std::move(split);
}

void CharSplitPreTokenizer::PreTokenize(std::vector<Piece>* pieces) const {
  std::vector<Piece> split;
  std::vector<std::pair<size_t, size_t>> matches;
  for (const Piece& piece : *pieces) {
    matches.clear();
    size_t pos = 0;
    while (pos < piece.text.size()) {
      char32_t cp;
      const int len = DecodeUtf8(piece.text, pos, &cp);
      if (predicate_(cp)) matches.emplace_back(pos, pos + len);
      pos += len;
    }
    SplitPiece(piece, matches, behavior_, false, &split);
  }
  *pieces = std::move(split);
}

void SequencePreTokenizer::PreTokenize(std::vector<Piece>* pieces) const {
  for (const auto& p : pre_tokenizers_) p->PreTokenize(pieces);
}

namespace {

absl::StatusOr<SplitBehavior> ParseBehavior(const Json& json, std::string_view path,
                                            std::string_view fallback) {
  ASSIGN_OR_RETURN(std::string name,
                   json_fields::String(json, "behavior", path, std::string(fallback)));
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return json_fields::Error(json_fields::Join(path, "behavior"),
                            Cat("unknown split behavior '", name, "'"));
}

// HF's Whitespace pre-tokenizer: keeps runs of \w and runs of other non-space chars.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  WhitespacePreTokenizer() : regex_(std::move(OnigRegex::Compile(R"(\w+|[^\w\s]+)").value())) {}
  void PreTokenize(std::vector<Piece>* pieces) const override {
    std::vector<Piece> split;
    for (const Piece& piece : *pieces) {
      SplitPiece(piece, regex_->FindAll(piece.text), SplitBehavior::kRemoved, true, &split);
    }
    *pieces = std::move(split);
  }

 private:
  std::unique_ptr<OnigRegex> regex_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const Json& json,
                                                                   std::string_view path,
                                                                   int depth) {
  if (json.is_null()) return std::unique_ptr<PreTokenizer>();
  RETURN_IF_ERROR(json_fields::CheckDepth(depth, path));
  ASSIGN_OR_RETURN(const std::string type, json_fields::String(json, "type", path));
  if (type == "ByteLevel") {
    ASSIGN_OR_RETURN(bool add_prefix_space,
                     json_fields::Bool(json, "add_prefix_space", path, true));
    ASSIGN_OR_RETURN(bool use_regex, json_fields::Bool(json, "use_regex", path, true));
    return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
  }
  if (type == "Split") {
    std::string pattern;
    bool is_regex = false;
    RETURN_IF_ERROR(json_fields::Pattern(json, path, &pattern, &is_regex));
    ASSIGN_OR_RETURN(SplitBehavior behavior, ParseBehavior(json, path, "Removed"));
    ASSIGN_OR_RETURN(bool invert, json_fields::Bool(json, "invert", path, false));
    auto split = SplitPreTokenizer::Create(pattern, is_regex, behavior, invert);
    if (!split.ok()) {
      return json_fields::Error(json_fields::Join(path, "pattern"),
                                FromAbsl(split.status().message()));
    }
    return std::unique_ptr<PreTokenizer>(std::move(split).value());
  }
  if (type == "Metaspace") {
    ASSIGN_OR_RETURN(std::string replacement,
                     json_fields::String(json, "replacement", path, std::string("\u2581")));
    // Older files carry add_prefix_space instead of prepend_scheme.
    ASSIGN_OR_RETURN(bool add_prefix_space,
                     json_fields::Bool(json, "add_prefix_space", path, true));
    ASSIGN_OR_RETURN(std::string scheme_name,
                     json_fields::String(json, "prepend_scheme", path,
                                         std::string(add_prefix_space ? "always" : "never")));
    PrependScheme scheme;
    if (scheme_name == "always") {
      scheme = PrependScheme::kAlways;
    } else if (scheme_name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (scheme_name == "never") {
      scheme = PrependScheme::kNever;
    } else {
      return json_fields::Error(json_fields::Join(path, "prepend_scheme"),
                                Cat("unknown prepend_scheme '", scheme_name, "'"));
    }
    ASSIGN_OR_RETURN(bool split, json_fields::Bool(json, "split", path, true));
    return std::make_unique<MetaspacePreTokenizer>(std::move(replacement), scheme, split);
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharSplitPreTokenizer>(IsWhitespace, SplitBehavior::kRemoved);
  }
  if (type == "Punctuation") {
    ASSIGN_OR_RETURN(SplitBehavior behavior, ParseBehavior(json, path, "Isolated"));
    return std::make_unique<CharSplitPreTokenizer>(IsPunctuation, behavior);
  }
  if (type == "Digits") {
    ASSIGN_OR_RETURN(bool individual, json_fields::Bool(json, "individual_digits", path, false));
    return std::make_unique<CharSplitPreTokenizer>(
        IsNumeric, individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "CharDelimiterSplit") {
    ASSIGN_OR_RETURN(std::string delimiter, json_fields::String(json, "delimiter", path));
    char32_t d = 0;
    if (delimiter.empty() || DecodeUtf8(delimiter, 0, &d) != static_cast<int>(delimiter.size())) {
      return json_fields::Error(json_fields::Join(path, "delimiter"), "expected one character");
    }
    return std::make_unique<CharSplitPreTokenizer>([d](char32_t c) { return c == d; },
                                                   SplitBehavior::kRemoved);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    steps.push_back(std::make_unique<CharSplitPreTokenizer>(IsWhitespace, SplitBehavior::kRemoved));
    steps.push_back(
        std::make_unique<CharSplitPreTokenizer>(IsPunctuation, SplitBehavior::kIsolated));
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Sequence") {
    const Json* list = json_fields::Find(json, "pretokenizers");
    if (list == nullptr || !list->is_array()) {
      return json_fields::Error(json_fields::Join(path, "pretokenizers"), "expected an array");
    }
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list->size(); ++i) {
      ASSIGN_OR_RETURN(auto p, PreTokenizerFromJson(
                                   (*list)[i], Cat(path, ".pretokenizers[", i, "]"), depth + 1));
      if (p) steps.push_back(std::move(p));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  return json_fields::Error(json_fields::Join(path, "type"),
                            Cat("unknown pre-tokenizer type '", type, "'"));
}

}  // namespace zett::tokenizer
