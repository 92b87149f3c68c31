#include "core/tokenizer/tokenizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {
namespace {

// Added ids follow the model's (some files leave small gaps); one far beyond would size the
// vocabulary, and every table built from it, from a few bytes of input. The slack mirrors
// Vocab::Create's bound on model ids.
absl::Status CheckAddedId(const AddedToken& token, size_t index, int32_t model_size,
                          size_t added_count) {
  const int64_t limit = 2 * (static_cast<int64_t>(model_size) + added_count) + 1024;
  if (token.id < limit) return absl::OkStatus();
  return absl::InvalidArgumentError(
      Cat("added_tokens[", index, "] '", token.content, "': id ", token.id, " is out of range for ",
          model_size, " model tokens and ", added_count, " added tokens (limit ", limit, ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(Components components) {
  if (components.model == nullptr) return absl::InvalidArgumentError("tokenizer: no model");
  auto tokenizer = std::unique_ptr<Tokenizer>(new Tokenizer(std::move(components)));
  Tokenizer& t = *tokenizer;
  const Vocab& vocab = t.components_.model->vocab();
  t.vocab_size_ = vocab.size();
  for (size_t i = 0; i < t.components_.added_tokens.size(); ++i) {
    const AddedToken& token = t.components_.added_tokens[i];
    if (token.id < 0) {
      return absl::InvalidArgumentError(Cat("added_tokens[", i, "]: negative id ", token.id));
    }
    RETURN_IF_ERROR(CheckAddedId(token, i, vocab.size(), t.components_.added_tokens.size()));
    const std::string_view model_token = vocab.Token(token.id);
    if (!model_token.empty() && model_token != token.content) {
      return absl::InvalidArgumentError(Cat("added_tokens[", i, "]: id ", token.id, " is '",
                                            model_token, "' in the model, not '", token.content,
                                            "'"));
    }
    if (!t.added_by_id_.emplace(token.id, i).second) {
      return absl::InvalidArgumentError(Cat("added_tokens[", i, "]: duplicate id ", token.id));
    }
    t.added_by_content_.emplace(token.content, token.id);
    t.vocab_size_ = std::max(t.vocab_size_, token.id + 1);
    if (token.normalized) {
      std::string pattern = token.content;
      if (t.components_.normalizer) {
        RETURN_IF_ERROR(t.components_.normalizer->Normalize(&pattern));
      }
      t.normalized_matcher_.Add(std::move(pattern), token);
    } else {
      t.raw_matcher_.Add(token.content, token);
    }
  }
  return tokenizer;
}

absl::Status Tokenizer::EncodeSegment(std::string_view segment, bool at_origin,
                                      std::vector<int32_t>* ids) const {
  std::string normalized(segment);
  if (components_.normalizer) RETURN_IF_ERROR(components_.normalizer->Normalize(&normalized));
  std::vector<TextSpan> spans;
  if (normalized_matcher_.empty()) {
    spans.push_back({0, normalized.size(), -1});
  } else {
    spans = normalized_matcher_.Split(normalized);
  }
  std::vector<Piece> pieces;
  for (const TextSpan& span : spans) {
    if (span.added_id >= 0) {
      ids->push_back(span.added_id);
      continue;
    }
    pieces.clear();
    pieces.push_back(
        {normalized.substr(span.begin, span.end - span.begin), at_origin && span.begin == 0});
    if (components_.pre_tokenizer) components_.pre_tokenizer->PreTokenize(&pieces);
    for (const Piece& piece : pieces) {
      RETURN_IF_ERROR(components_.model->Tokenize(piece.text, ids));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text,
                                                       bool add_special_tokens) const {
  RETURN_IF_ERROR(ValidateUtf8(text, "input text"));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (raw_matcher_.empty()) {
    RETURN_IF_ERROR(EncodeSegment(text, /*at_origin=*/true, &ids));
  } else {
    for (const TextSpan& span : raw_matcher_.Split(text)) {
      if (span.added_id >= 0) {
        ids.push_back(span.added_id);
      } else {
        RETURN_IF_ERROR(
            EncodeSegment(text.substr(span.begin, span.end - span.begin), span.begin == 0, &ids));
      }
    }
  }
  if (add_special_tokens) ids = components_.post_processor.Process(std::move(ids));
  return ids;
}

absl::StatusOr<std::vector<std::string>> Tokenizer::PreTokenize(std::string_view text) const {
  RETURN_IF_ERROR(ValidateUtf8(text, "input text"));
  std::string normalized(text);
  if (components_.normalizer) RETURN_IF_ERROR(components_.normalizer->Normalize(&normalized));
  std::vector<Piece> pieces = {{normalized, true}};
  if (components_.pre_tokenizer) components_.pre_tokenizer->PreTokenize(&pieces);
  std::vector<std::string> out;
  out.reserve(pieces.size());
  for (Piece& p : pieces) out.push_back(std::move(p.text));
  return out;
}

std::string_view Tokenizer::IdToToken(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
    return components_.added_tokens[it->second].content;
  }
  return components_.model->vocab().Token(id);
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (auto it = added_by_content_.find(AsAbsl(token)); it != added_by_content_.end())
    return it->second;
  return components_.model->vocab().Find(token);
}

std::vector<int32_t> Tokenizer::SpecialTokenIds() const {
  std::vector<int32_t> ids;
  for (const AddedToken& t : components_.added_tokens) {
    if (t.special) ids.push_back(t.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::pair<int32_t, std::string>> Tokenizer::AllSpecialTokens() const {
  std::vector<std::pair<int32_t, std::string>> all;
  if (!special_tokens_map_) {
    for (int32_t id : SpecialTokenIds()) all.emplace_back(id, std::string(IdToToken(id)));
    return all;
  }
  for (std::string& token : special_tokens_map_->AllSpecialTokens()) {
    if (auto id = TokenToId(token)) all.emplace_back(*id, std::move(token));
  }
  return all;
}

std::optional<int32_t> Tokenizer::NamedSpecialTokenId(std::string_view attribute) const {
  if (!special_tokens_map_) return std::nullopt;
  std::optional<std::string> token = special_tokens_map_->Named(attribute);
  if (!token) return std::nullopt;
  return TokenToId(*token);
}

bool Tokenizer::IsSpecial(int32_t id) const {
  auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && components_.added_tokens[it->second].special;
}

}  // namespace zett::tokenizer
