#include "core/tokenizer/surface_form.h"

#include <algorithm>
#include <optional>
#include <random>
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

// zett's byte_fallback_to_byte keys: `<0x00>`..`<0xFE>` (range(255)) when the model has byte
// fallback. `<0xFF>` is not among them: it stays an ordinary token (and gets helper merges).
bool IsMappableByteFallback(std::string_view token, bool byte_fallback) {
  const int byte = ParseByteFallback(token);
  return byte_fallback && byte >= 0 && byte < 255;
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

bool IsWhitespaceRunCandidate(std::string_view s) { return CountWhitespaceChars(s) > 1; }

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

// Step 1: one surface form per id; special tokens keep their text.
ByteLevelVocabulary RawSurfaceForms(const Tokenizer& tokenizer, const ByteFn& fn) {
  ByteLevelVocabulary v;
  v.special_tokens = tokenizer.AllSpecialTokens();
  std::sort(v.special_tokens.begin(), v.special_tokens.end());
  absl::flat_hash_set<std::string> specials;
  for (const auto& [id, content] : v.special_tokens) specials.insert(content);
  const int32_t n = tokenizer.vocab_size();
  v.original_size = n;
  v.surface_forms.reserve(n + 300);
  v.flags.reserve(n + 300);
  for (int32_t i = 0; i < n; ++i) {
    const std::string_view raw = tokenizer.IdToToken(i);
    const bool special = specials.contains(AsAbsl(raw));
    v.surface_forms.push_back(special ? std::string(raw) : fn(raw));
    v.flags.push_back(special ? kSpecial : 0);
  }
  return v;
}

absl::flat_hash_set<std::string> ShortSurfaceForms(const std::vector<std::string>& sf) {
  absl::flat_hash_set<std::string> present;
  for (const std::string& s : sf) {
    if (s.size() <= 2) present.insert(s);  // byte chars are 1-2 bytes of UTF-8
  }
  return present;
}

// Step 2: `<0xNN>` -> its byte char, unless some token already is that char.
void MapByteFallbackPieces(ByteLevelVocabulary* v) {
  const absl::flat_hash_set<std::string> present = ShortSurfaceForms(v->surface_forms);
  for (size_t i = 0; i < v->surface_forms.size(); ++i) {
    if (!IsMappableByteFallback(v->surface_forms[i], true)) continue;
    const std::string& ch =
        ByteToChar(static_cast<uint8_t>(ParseByteFallback(v->surface_forms[i])));
    if (!present.contains(ch)) {
      v->surface_forms[i] = ch;
      v->flags[i] |= kByteFallbackMapped;
    }
  }
}

// Step 3: byte chars no token has, in byte order.
void AppendFillBytes(ByteLevelVocabulary* v) {
  const absl::flat_hash_set<std::string> present = ShortSurfaceForms(v->surface_forms);
  for (int b = 0; b < 256; ++b) {
    const std::string& ch = ByteToChar(static_cast<uint8_t>(b));
    if (!present.contains(ch)) {
      v->surface_forms.push_back(ch);
      v->flags.push_back(kAddedByConversion);
    }
  }
}

// Step 4 (zett's make_whitespace_consistent): tokens of several whitespace chars, or blank ones,
// are renamed `<unused_whitespace__i>`; the canonical runs c2 + c1 * i (i < 16) are kept or added.
void MakeWhitespaceConsistent(ByteLevelVocabulary* v) {
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
  std::vector<std::string>& sf = v->surface_forms;
  for (size_t i = 0; i < sf.size(); ++i) {
    const int whitespace = CountWhitespaceChars(sf[i]);
    if (whitespace == 0 && !sf[i].empty() && !IsBlank(sf[i])) continue;  // the common case
    auto it = std::find(allowed.begin(), allowed.end(), sf[i]);
    if (it != allowed.end()) {
      allowed.erase(it);
    } else if (whitespace > 1 || IsBlank(sf[i])) {
      sf[i] = Cat("<unused_whitespace__", i, ">");
      v->flags[i] |= kRenamedWhitespace;
    }
  }
  for (std::string& run : allowed) {
    sf.push_back(std::move(run));
    v->flags.push_back(kAddedByConversion);
  }
}

// Step 5 (zett's match_special_tokens_to): drop the tokenizer's and the original's special
// tokens, then insert the original's at their ids, in ascending id order.
void MatchSpecialTokens(const ByteLevelVocabulary& original, ByteLevelVocabulary* v) {
  absl::flat_hash_set<std::string> drop;
  for (const auto& [id, content] : v->special_tokens) drop.insert(content);
  for (const auto& [id, content] : original.special_tokens) drop.insert(content);
  std::vector<std::string> sf;
  std::vector<uint8_t> flags;
  sf.reserve(v->surface_forms.size() + original.special_tokens.size());
  flags.reserve(sf.capacity());
  for (size_t i = 0; i < v->surface_forms.size(); ++i) {
    if (drop.contains(v->surface_forms[i])) continue;
    sf.push_back(std::move(v->surface_forms[i]));
    flags.push_back(v->flags[i] & ~kSpecial);
  }
  for (const auto& [id, content] : original.special_tokens) {
    const size_t at = std::min<size_t>(id, sf.size());
    sf.insert(sf.begin() + at, content);
    flags.insert(flags.begin() + at, kSpecial);
  }
  v->surface_forms = std::move(sf);
  v->flags = std::move(flags);
  v->special_tokens = original.special_tokens;
}

// Multi-char pieces no merge builds, reached from every token to check through the merges
// (zett's `decompose`), as a sorted list.
std::vector<std::string> UnreachableAtoms(
    const std::vector<std::string>& tokens_to_check,
    const absl::flat_hash_map<std::string, std::vector<std::pair<std::string, std::string>>>&
        inv_merges) {
  absl::flat_hash_set<std::string> visited;
  absl::flat_hash_set<std::string> atoms;
  std::vector<std::string> stack;
  for (const std::string& token : tokens_to_check) {
    stack.push_back(token);
    while (!stack.empty()) {
      std::string d = std::move(stack.back());
      stack.pop_back();
      if (!visited.insert(d).second) continue;
      auto it = inv_merges.find(d);
      if (it == inv_merges.end()) {
        if (SplitChars(d).size() > 1) atoms.insert(d);
        continue;
      }
      for (const auto& [x, y] : it->second) {
        stack.push_back(x);
        stack.push_back(y);
      }
    }
  }
  std::vector<std::string> sorted(atoms.begin(), atoms.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// Step 6 for BPE: the converted merges, plus helper merges and tokens that build every
// multi-byte atom no original merge builds (zett's get_merges). Helper tokens are appended in
// sorted order; helper merges rank before the original ones, except those of whitespace runs
// when whitespace is made consistent (zett's "post" merges).
void AddBpeHelpers(const Tokenizer& tokenizer, const ByteFn& fn, bool byte_fallback,
                   const ConversionOptions& options, ByteLevelVocabulary* v) {
  const auto& bpe = static_cast<const BpeModel&>(tokenizer.model());
  const bool mwc = options.make_whitespace_consistent;
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(bpe.merges().size());
  absl::flat_hash_map<std::string, std::vector<std::pair<std::string, std::string>>> inv_merges;
  for (const auto& [a, b] : bpe.merges()) {
    std::string x = fn(tokenizer.model().vocab().Token(a));
    std::string y = fn(tokenizer.model().vocab().Token(b));
    if (mwc && IsWhitespaceRunCandidate(x + y)) continue;
    inv_merges[x + y].emplace_back(x, y);
    merges.emplace_back(std::move(x), std::move(y));
  }
  absl::flat_hash_set<std::string> specials;
  for (const auto& [id, content] : v->special_tokens) specials.insert(content);
  // A byte-level tokenizer's own tokens are reachable already: only what conversion added.
  const size_t first =
      tokenizer.byte_level() ? std::min<size_t>(v->original_size, v->surface_forms.size()) : 0;
  std::vector<std::string> to_check;
  for (size_t i = first; i < v->surface_forms.size(); ++i) {
    const std::string& s = v->surface_forms[i];
    if (specials.contains(s) || IsMappableByteFallback(s, byte_fallback) ||
        s.rfind("<unused_whitespace__", 0) == 0) {
      continue;
    }
    to_check.push_back(s);
  }
  std::vector<std::string> atoms = UnreachableAtoms(to_check, inv_merges);
  if (options.helper_order_seed != 0) {
    std::mt19937_64 rng(options.helper_order_seed);
    std::shuffle(atoms.begin(), atoms.end(), rng);
  }
  const absl::flat_hash_set<std::string> known(v->surface_forms.begin(), v->surface_forms.end());
  std::vector<std::pair<std::string, std::string>> pre, post;
  absl::flat_hash_set<std::string> helper_vocab, seen_merges;
  for (const std::string& atom : atoms) {
    std::vector<std::pair<std::string, std::string>> extra;
    HelperMerges(atom, known, &extra, &helper_vocab);
    const bool whitespace_run = mwc && IsWhitespaceRunCandidate(atom);
    for (auto& m : extra) {
      if (!seen_merges.insert(m.first + " " + m.second).second) continue;
      (whitespace_run ? post : pre).push_back(std::move(m));
    }
  }
  std::vector<std::string> added(helper_vocab.begin(), helper_vocab.end());
  std::sort(added.begin(), added.end());
  for (std::string& token : added) {
    v->surface_forms.push_back(std::move(token));
    v->flags.push_back(kAddedByConversion);
  }
  v->bpe_merges = std::move(pre);
  v->bpe_merges.insert(v->bpe_merges.end(), std::make_move_iterator(merges.begin()),
                       std::make_move_iterator(merges.end()));
  v->bpe_merges.insert(v->bpe_merges.end(), std::make_move_iterator(post.begin()),
                       std::make_move_iterator(post.end()));
}

// Step 6 for Unigram: each surface form's score from the original piece it came from; byte
// chars the vocabulary lacked get zett's NEGATIVE_INF_FILL_VALUE, anything else 0.
void AddUnigramScores(const Tokenizer& tokenizer, const ByteFn& fn,
                      const ConversionOptions& options, ByteLevelVocabulary* v) {
  const auto& unigram = static_cast<const UnigramModel&>(tokenizer.model());
  absl::flat_hash_map<std::string, double> score;
  for (int32_t i = 0; i < unigram.vocab().size(); ++i) {
    score[fn(unigram.vocab().Token(i))] = unigram.scores()[i];
  }
  for (int b = 0; b < 256; ++b)
    score.try_emplace(ByteToChar(static_cast<uint8_t>(b)), kNegativeInfFillValue);
  if (options.make_whitespace_consistent) {
    absl::erase_if(score, [](const auto& kv) { return IsWhitespaceRunCandidate(kv.first); });
  }
  v->unigram_scores.reserve(v->surface_forms.size());
  for (const std::string& s : v->surface_forms) {
    auto it = score.find(s);
    v->unigram_scores.push_back(it == score.end() ? 0.0 : it->second);
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
  const bool byte_fallback = ModelByteFallback(tokenizer.model());
  ByteLevelVocabulary v = RawSurfaceForms(tokenizer, fn);
  if (byte_fallback) MapByteFallbackPieces(&v);
  AppendFillBytes(&v);
  if (options.make_whitespace_consistent) MakeWhitespaceConsistent(&v);
  if (options.match_special_tokens_to != nullptr) {
    MatchSpecialTokens(*options.match_special_tokens_to, &v);
  }
  switch (tokenizer.model().type()) {
    case ModelType::kBpe:
      AddBpeHelpers(tokenizer, fn, byte_fallback, options, &v);
      break;
    case ModelType::kUnigram:
      AddUnigramScores(tokenizer, fn, options, &v);
      break;
    case ModelType::kWordPiece:
      break;
    default:
      return absl::UnimplementedError(
          "byte-level conversion supports BPE, Unigram and WordPiece models");
  }
  return v;
}

absl::StatusOr<std::unique_ptr<Model>> BuildByteLevelModel(const Tokenizer& tokenizer,
                                                           const ByteLevelVocabulary& converted) {
  const std::vector<std::string>& sf = converted.surface_forms;
  const Model& model = tokenizer.model();
  auto vocab_entries = [&] {
    std::vector<std::pair<std::string, int32_t>> entries;
    entries.reserve(sf.size());
    for (size_t i = 0; i < sf.size(); ++i) entries.emplace_back(sf[i], static_cast<int32_t>(i));
    return entries;
  };
  if (model.type() == ModelType::kBpe) {
    const auto& bpe = static_cast<const BpeModel&>(model);
    ASSIGN_OR_RETURN(Vocab vocab, Vocab::Create(vocab_entries(), "byte-level vocab", true));
    BpeOptions options = bpe.options();
    options.continuing_subword_prefix.clear();
    auto result = BpeModel::Create(std::move(vocab), converted.bpe_merges, options,
                                   /*skip_invalid_merges=*/true);
    if (!result.ok()) return result.status();
    return std::unique_ptr<Model>(std::move(result).value());
  }
  if (model.type() == ModelType::kUnigram) {
    const auto& unigram = static_cast<const UnigramModel&>(model);
    if (converted.unigram_scores.size() != sf.size()) {
      return absl::InvalidArgumentError("byte-level vocab: one Unigram score per surface form");
    }
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(sf.size());
    for (size_t i = 0; i < sf.size(); ++i) {
      pieces.emplace_back(sf[i].empty() ? "<empty>" : sf[i], converted.unigram_scores[i]);
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
