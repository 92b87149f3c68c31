#include "core/tokenizer/surface_form.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/unicode_text.h"
#include "core/tokenizer/unigram_model.h"
#include "core/tokenizer/wordpiece_model.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {
namespace {

constexpr std::string_view kMetaspace = "\u2581";
constexpr double kNegativeInfFillValue = -100000.0;  // zett's NEGATIVE_INF_FILL_VALUE

// `<0xNN>` -> NN, else -1.
int ParseByteFallback(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return -1;
  int value = 0;
  for (char c : token.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= c - '0';
    } else if (c >= 'A' && c <= 'F') {
      value |= c - 'A' + 10;
    } else {
      return -1;
    }
  }
  return value;
}

// zett's get_byte_fn: token string -> surface form for one tokenizer.
struct ByteFn {
  bool identity = false;
  std::optional<std::string> meta_char;
  std::optional<std::string> prefix;

  std::string operator()(std::string_view token) const {
    if (identity) return std::string(token);
    std::string text(token);
    if (meta_char) {
      std::string replaced;
      for (size_t pos = 0; pos < text.size();) {
        if (text.compare(pos, meta_char->size(), *meta_char) == 0) {
          replaced.push_back(' ');
          pos += meta_char->size();
        } else {
          replaced.push_back(text[pos++]);
        }
      }
      text = std::move(replaced);
    }
    if (prefix) {
      if (text.compare(0, prefix->size(), *prefix) == 0) {
        text.erase(0, prefix->size());
      } else {
        text.insert(0, " ");
      }
    }
    return BytesToByteChars(text);
  }
};

absl::StatusOr<ByteFn> MakeByteFn(const Tokenizer& tokenizer) {
  ByteFn fn;
  if (tokenizer.byte_level()) {
    fn.identity = true;
    return fn;
  }
  // The meta char is what the pipeline turns the leading space of " test" into.
  ASSIGN_OR_RETURN(std::vector<std::string> pieces, tokenizer.PreTokenize(" test"));
  const std::string first = pieces.empty() ? std::string() : pieces[0];
  if (!first.empty() && first[0] != ' ' && first != "test") {
    fn.meta_char = first.substr(0, Utf8Length(static_cast<unsigned char>(first[0])));
  }
  fn.prefix = tokenizer.continuing_subword_prefix();
  return fn;
}

int CountWhitespaceChars(std::string_view s) {
  int n = 0;
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp;
    pos += DecodeUtf8(s, pos, &cp);
    n += cp == 0x120 || cp == 0x10A || cp == 0x109;  // Ġ Ċ ĉ
  }
  return n;
}

// Python's str.strip() == "" (empty or all Unicode whitespace).
bool IsBlank(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp;
    pos += DecodeUtf8(s, pos, &cp);
    if (!IsWhitespace(cp)) return false;
  }
  return true;
}

bool ModelByteFallback(const Model& model) {
  if (model.type() == ModelType::kBpe)
    return static_cast<const BpeModel&>(model).options().byte_fallback;
  if (model.type() == ModelType::kUnigram)
    return static_cast<const UnigramModel&>(model).byte_fallback();
  return false;
}

std::vector<std::string> SplitChars(std::string_view s) {
  std::vector<std::string> chars;
  for (size_t pos = 0; pos < s.size();) {
    const int len = Utf8Length(static_cast<unsigned char>(s[pos]));
    chars.emplace_back(s.substr(pos, len));
    pos += len;
  }
  return chars;
}

// zett's get_merges: merges that build `token` from its chars, pair by pair.
void HelperMerges(std::string_view token, const absl::flat_hash_set<std::string>& known,
                  std::vector<std::pair<std::string, std::string>>* merges,
                  absl::flat_hash_set<std::string>* vocab) {
  std::vector<std::string> atoms = SplitChars(token);
  while (atoms.size() > 1) {
    const std::vector<std::string> frozen = atoms;
    for (size_t k = 0; k + 1 < frozen.size(); ++k) {
      const std::string& c1 = frozen[k];
      const std::string& c2 = frozen[k + 1];
      bool applied = false;
      for (size_t i = 0; i + 1 < atoms.size(); ++i) {
        if (atoms[i] == c1 && atoms[i + 1] == c2) {
          atoms[i] = c1 + c2;
          atoms.erase(atoms.begin() + i + 1);
          applied = true;
        }
      }
      if (applied) {
        merges->emplace_back(c1, c2);
        if (!known.contains(c1 + c2)) vocab->insert(c1 + c2);
      }
    }
  }
}

}  // namespace

std::string TokenToByteLevel(std::string_view token, TokenKind kind) {
  switch (kind) {
    case TokenKind::kByteLevel:
      return std::string(token);
    case TokenKind::kSentencePiece: {
      const int byte = ParseByteFallback(token);
      if (byte >= 0) return ByteToChar(static_cast<uint8_t>(byte));
      ByteFn fn;
      fn.meta_char = std::string(kMetaspace);
      return fn(token);
    }
    case TokenKind::kWordPiece: {
      ByteFn fn;
      fn.prefix = "##";
      return fn(token);
    }
    case TokenKind::kPlainText:
      return BytesToByteChars(token);
  }
  return std::string(token);
}

absl::StatusOr<ByteLevelVocabulary> ConvertToByteLevel(const Tokenizer& tokenizer,
                                                       const ConversionOptions& options) {
  ASSIGN_OR_RETURN(const ByteFn fn, MakeByteFn(tokenizer));
  const int32_t n = tokenizer.vocab_size();
  absl::flat_hash_set<std::string> specials;
  ByteLevelVocabulary own;
  for (int32_t id : tokenizer.SpecialTokenIds()) {
    specials.insert(std::string(tokenizer.IdToToken(id)));
    own.special_tokens.emplace_back(id, std::string(tokenizer.IdToToken(id)));
  }
  std::vector<std::string>& sf = own.surface_forms;
  std::vector<uint8_t>& flags = own.flags;
  sf.reserve(n + 300);
  for (int32_t i = 0; i < n; ++i) {
    const std::string_view raw = tokenizer.IdToToken(i);
    const bool special = specials.contains(AsAbsl(raw));
    sf.push_back(special ? std::string(raw) : fn(raw));
    flags.push_back(special ? kSpecial : 0);
  }
  own.original_size = n;
  if (ModelByteFallback(tokenizer.model())) {
    absl::flat_hash_set<std::string> present;
    for (const std::string& s : sf) {
      if (s.size() <= 2) present.insert(s);  // byte chars are 1-2 bytes of UTF-8
    }
    for (size_t i = 0; i < sf.size(); ++i) {
      const int byte = ParseByteFallback(sf[i]);
      // zett maps bytes 0x00..0xFE only (range(255)).
      if (byte < 0 || byte >= 255) continue;
      const std::string& ch = ByteToChar(static_cast<uint8_t>(byte));
      if (!present.contains(ch)) {
        sf[i] = ch;
        flags[i] |= kByteFallbackMapped;
      }
    }
  }
  {
    absl::flat_hash_set<std::string> present;
    for (const std::string& s : sf) {
      if (s.size() <= 2) present.insert(s);
    }
    for (int b = 0; b < 256; ++b) {
      const std::string& ch = ByteToChar(static_cast<uint8_t>(b));
      if (!present.contains(ch)) {
        sf.push_back(ch);
        flags.push_back(kAddedByConversion);
      }
    }
  }
  if (options.make_whitespace_consistent) {
    const std::string ws[3] = {ByteToChar(' '), ByteToChar('\n'), ByteToChar('\t')};
    std::vector<std::string> allowed;  // zett's order: c1, run length, c2
    for (const std::string& c1 : ws) {
      for (int i = 1; i < 16; ++i) {
        for (const std::string& c2 : ws) {
          std::string run = c2;
          for (int k = 0; k < i; ++k) run += c1;
          allowed.push_back(std::move(run));
        }
      }
    }
    for (size_t i = 0; i < sf.size(); ++i) {
      const int whitespace = CountWhitespaceChars(sf[i]);
      if (whitespace == 0 && !sf[i].empty() && !IsBlank(sf[i])) continue;  // the common case
      auto it = std::find(allowed.begin(), allowed.end(), sf[i]);
      if (it != allowed.end()) {
        allowed.erase(it);
      } else if (whitespace > 1 || IsBlank(sf[i])) {
        sf[i] = Cat("<unused_whitespace__", i, ">");
        flags[i] |= kRenamedWhitespace;
      }
    }
    for (std::string& run : allowed) {
      sf.push_back(std::move(run));
      flags.push_back(kAddedByConversion);
    }
  }
  if (options.match_special_tokens_to != nullptr) {
    absl::flat_hash_set<std::string> drop = specials;
    for (const auto& [id, content] : options.match_special_tokens_to->special_tokens) {
      drop.insert(content);
    }
    ByteLevelVocabulary matched;
    for (size_t i = 0; i < sf.size(); ++i) {
      if (drop.contains(sf[i])) continue;
      matched.surface_forms.push_back(std::move(sf[i]));
      matched.flags.push_back(flags[i] & ~kSpecial);
    }
    for (const auto& [id, content] : options.match_special_tokens_to->special_tokens) {
      const size_t at = std::min<size_t>(id, matched.surface_forms.size());
      matched.surface_forms.insert(matched.surface_forms.begin() + at, content);
      matched.flags.insert(matched.flags.begin() + at, kSpecial);
    }
    matched.special_tokens = options.match_special_tokens_to->special_tokens;
    matched.original_size = own.original_size;
    return matched;
  }
  return own;
}

absl::StatusOr<std::unique_ptr<Model>> BuildByteLevelModel(const Tokenizer& tokenizer,
                                                           ByteLevelVocabulary* converted) {
  ASSIGN_OR_RETURN(const ByteFn fn, MakeByteFn(tokenizer));
  std::vector<std::string>& sf = converted->surface_forms;
  const Model& model = tokenizer.model();
  auto vocab_entries = [&] {
    std::vector<std::pair<std::string, int32_t>> entries;
    entries.reserve(sf.size());
    for (size_t i = 0; i < sf.size(); ++i) entries.emplace_back(sf[i], static_cast<int32_t>(i));
    return entries;
  };
  if (model.type() == ModelType::kBpe) {
    const auto& bpe = static_cast<const BpeModel&>(model);
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(bpe.merges().size());
    absl::flat_hash_map<std::string, std::vector<std::pair<std::string, std::string>>> inv_merges;
    for (const auto& [a, b] : bpe.merges()) {
      std::string x = fn(model.vocab().Token(a));
      std::string y = fn(model.vocab().Token(b));
      if (!tokenizer.byte_level()) inv_merges[x + y].emplace_back(x, y);
      merges.emplace_back(std::move(x), std::move(y));
    }
    // Multi-byte atoms of the original merges (e.g. "é" = two byte chars) need helper merges.
    std::vector<std::string> problematic;
    if (!tokenizer.byte_level()) {
      absl::flat_hash_set<std::string> visited;
      std::vector<std::string> stack;
      for (size_t i = 0; i < sf.size(); ++i) {
        if ((converted->flags[i] & kSpecial) || ParseByteFallback(sf[i]) >= 0 ||
            sf[i].rfind("<unused_whitespace__", 0) == 0) {
          continue;
        }
        stack.push_back(sf[i]);
        while (!stack.empty()) {
          std::string d = std::move(stack.back());
          stack.pop_back();
          if (!visited.insert(d).second) continue;
          auto it = inv_merges.find(d);
          if (it == inv_merges.end()) {
            if (SplitChars(d).size() > 1) problematic.push_back(d);
            continue;
          }
          for (const auto& [x, y] : it->second) {
            stack.push_back(x);
            stack.push_back(y);
          }
        }
      }
      std::sort(problematic.begin(), problematic.end());  // zett iterates a set; we fix an order
    }
    const absl::flat_hash_set<std::string> known(sf.begin(), sf.end());
    std::vector<std::pair<std::string, std::string>> helper_merges;
    absl::flat_hash_set<std::string> helper_vocab;
    absl::flat_hash_set<std::string> seen_merges;
    for (const std::string& token : problematic) {
      std::vector<std::pair<std::string, std::string>> extra;
      HelperMerges(token, known, &extra, &helper_vocab);
      for (auto& m : extra) {
        if (seen_merges.insert(m.first + " " + m.second).second)
          helper_merges.push_back(std::move(m));
      }
    }
    std::vector<std::string> added(helper_vocab.begin(), helper_vocab.end());
    std::sort(added.begin(), added.end());
    for (std::string& token : added) {
      sf.push_back(std::move(token));
      converted->flags.push_back(kAddedByConversion);
    }
    helper_merges.insert(helper_merges.end(), merges.begin(), merges.end());
    ASSIGN_OR_RETURN(Vocab vocab, Vocab::Create(vocab_entries(), "byte-level vocab", true));
    BpeOptions options = bpe.options();
    options.continuing_subword_prefix.clear();
    auto result = BpeModel::Create(std::move(vocab), helper_merges, options,
                                   /*skip_invalid_merges=*/true);
    if (!result.ok()) return result.status();
    return std::unique_ptr<Model>(std::move(result).value());
  }
  if (model.type() == ModelType::kUnigram) {
    const auto& unigram = static_cast<const UnigramModel&>(model);
    absl::flat_hash_map<std::string, double> score;
    for (int32_t i = 0; i < unigram.vocab().size(); ++i) {
      score[fn(unigram.vocab().Token(i))] = unigram.scores()[i];
    }
    for (int b = 0; b < 256; ++b)
      score.try_emplace(ByteToChar(static_cast<uint8_t>(b)), kNegativeInfFillValue);
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(sf.size());
    for (const std::string& s : sf) {
      auto it = score.find(s);
      pieces.emplace_back(s, it == score.end() ? 0.0 : it->second);
    }
    for (auto& p : pieces) {
      if (p.first.empty()) p.first = "<empty>";  // holes in the id space
    }
    auto result =
        UnigramModel::Create(std::move(pieces), unigram.unk_id(), unigram.byte_fallback());
    if (!result.ok()) return result.status();
    return std::unique_ptr<Model>(std::move(result).value());
  }
  if (model.type() == ModelType::kWordPiece) {
    const auto& wp = static_cast<const WordPieceModel&>(model);
    ASSIGN_OR_RETURN(Vocab vocab, Vocab::Create(vocab_entries(), "byte-level vocab", true));
    const int32_t unk = wp.unk_id();
    std::string unk_token = unk < static_cast<int32_t>(sf.size()) ? sf[unk] : std::string();
    auto result =
        WordPieceModel::Create(std::move(vocab), unk_token, "", wp.max_input_chars_per_word());
    if (!result.ok()) return result.status();
    return std::unique_ptr<Model>(std::move(result).value());
  }
  return absl::UnimplementedError(
      "byte-level conversion supports BPE, Unigram and WordPiece models");
}

}  // namespace zett::tokenizer
