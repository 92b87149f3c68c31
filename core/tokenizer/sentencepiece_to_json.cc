#include "core/tokenizer/sentencepiece_to_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4;
constexpr char kSpace[] = "\u2581";

Json Token(const std::string& content, int32_t id, bool special) {
  return Json{{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
              {"rstrip", false}, {"normalized", false}, {"special", special}};
}

Json Replace(Json pattern, std::string content) {
  return Json{
      {"type", "Replace"}, {"pattern", std::move(pattern)}, {"content", std::move(content)}};
}

// SentencePiece's normalizer as a tokenizers normalizer sequence (see the header).
Json NormalizerOf(const SentencePieceModelProto& proto) {
  const std::string space = proto.escape_whitespaces ? kSpace : " ";
  Json list = Json::array();
  if (!proto.precompiled_charsmap.empty()) {
    list.push_back({{"type", "Precompiled"},
                    {"precompiled_charsmap", absl::Base64Escape(proto.precompiled_charsmap)}});
  }
  if (proto.remove_extra_whitespaces) {
    // Leading spaces go, runs of spaces become one, and trailing spaces go; SentencePiece drops
    // trailing "▁" after escaping, so a literal "▁" at the end of the text goes too.
    list.push_back(Replace({{"Regex", R"(\A +)"}}, ""));
    list.push_back(Replace({{"Regex", " {2,}"}}, " "));
    list.push_back(Replace(
        {{"Regex", proto.escape_whitespaces ? std::string("[ ") + kSpace + "]+\\z" : " +\\z"}},
        ""));
  }
  if (proto.add_dummy_prefix) list.push_back({{"type", "Prepend"}, {"prepend", space}});
  if (proto.escape_whitespaces) list.push_back(Replace({{"String", " "}}, kSpace));
  return Json{{"type", "Sequence"}, {"normalizers", std::move(list)}};
}

Json DecoderOf(const SentencePieceModelProto& proto) {
  Json list = Json::array();
  if (proto.escape_whitespaces) list.push_back(Replace({{"String", kSpace}}, " "));
  list.push_back({{"type", "ByteFallback"}});
  list.push_back({{"type", "Fuse"}});
  list.push_back({{"type", "Strip"},
                  {"content", " "},
                  {"start", proto.add_dummy_prefix ? 1 : 0},
                  {"stop", 0}});
  return Json{{"type", "Sequence"}, {"decoders", std::move(list)}};
}

bool Mergeable(int type) { return type == kNormal || type == kUserDefined; }

// transformers' SentencePieceExtractor order (scripts/data/sp_to_hf.py bpe_merges).
std::vector<std::string> BpeMerges(const SentencePieceModelProto& proto) {
  absl::flat_hash_map<std::string, int32_t> mergeable;
  for (int32_t i = 0; i < static_cast<int32_t>(proto.pieces.size()); ++i) {
    if (Mergeable(proto.pieces[i].type)) mergeable[proto.pieces[i].piece] = i;
  }
  struct Ranked {
    float score;
    std::string merge;
  };
  std::vector<Ranked> ranked;
  for (const auto& p : proto.pieces) {
    if (!Mergeable(p.type)) continue;
    std::vector<std::tuple<int32_t, int32_t, std::string>> local;
    for (size_t cut = Utf8Length(static_cast<unsigned char>(p.piece[0])); cut < p.piece.size();
         cut += Utf8Length(static_cast<unsigned char>(p.piece[cut]))) {
      const std::string left = p.piece.substr(0, cut), right = p.piece.substr(cut);
      auto l = mergeable.find(left), r = mergeable.find(right);
      if (l != mergeable.end() && r != mergeable.end()) {
        local.emplace_back(l->second, r->second, left + " " + right);
      }
    }
    std::sort(local.begin(), local.end());
    for (auto& [l, r, merge] : local) ranked.push_back({p.score, std::move(merge)});
  }
  // Pieces were visited in id order and each piece's splits in (left, right) order.
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
  std::vector<std::string> merges;
  merges.reserve(ranked.size());
  for (auto& r : ranked) merges.push_back(std::move(r.merge));
  return merges;
}

}  // namespace

absl::StatusOr<std::string> SentencePieceToTokenizerJson(const SentencePieceModelProto& proto) {
  const int32_t n = static_cast<int32_t>(proto.pieces.size());
  if (n == 0) return absl::InvalidArgumentError("sentencepiece model: no pieces");
  if (proto.unk_id < 0 || proto.unk_id >= n) {
    return absl::InvalidArgumentError(
        Cat("sentencepiece model: unk_id ", proto.unk_id, " out of range for ", n, " pieces"));
  }
  if (proto.model_type != 1 && proto.model_type != 2) {
    return absl::UnimplementedError(Cat("sentencepiece model: model_type ", proto.model_type,
                                        " (WORD/CHAR) has no tokenizer.json equivalent"));
  }
  if (proto.treat_whitespace_as_suffix && proto.add_dummy_prefix) {
    return absl::UnimplementedError(
        "sentencepiece model: treat_whitespace_as_suffix (a dummy suffix) has no tokenizer.json "
        "equivalent");
  }
  Json added = Json::array();
  for (int32_t i = 0; i < n; ++i) {
    const auto& p = proto.pieces[i];
    if (p.piece.empty()) {
      return absl::InvalidArgumentError(Cat("sentencepiece model: piece ", i, " is empty"));
    }
    RETURN_IF_ERROR(ValidateUtf8(p.piece, Cat("sentencepiece model: piece ", i)));
    if (p.type == kUnknown || p.type == kControl || p.type == kUserDefined) {
      added.push_back(Token(p.piece, i, p.type != kUserDefined));
    }
  }
  Json doc;
  doc["version"] = "1.0";
  doc["truncation"] = nullptr;
  doc["padding"] = nullptr;
  doc["added_tokens"] = std::move(added);
  doc["normalizer"] = NormalizerOf(proto);
  doc["pre_tokenizer"] = nullptr;
  doc["post_processor"] = nullptr;
  doc["decoder"] = DecoderOf(proto);
  if (proto.model_type == 2) {
    Json vocab = Json::object();
    for (int32_t i = 0; i < n; ++i) {
      const std::string& piece = proto.pieces[i].piece;
      if (vocab.contains(piece)) {
        return absl::InvalidArgumentError(Cat("sentencepiece model: piece ", i, " '", piece,
                                              "' repeats piece ", vocab[piece].get<int32_t>(),
                                              " (a BPE vocabulary needs distinct pieces)"));
      }
      vocab[piece] = i;
    }
    if (proto.bos_id >= 0 && proto.bos_id < n) {
      const std::string& bos = proto.pieces[proto.bos_id].piece;
      auto special = [&](int type_id) {
        return Json{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}};
      };
      auto sequence = [](const char* id, int type_id) {
        return Json{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
      };
      doc["post_processor"] = {
          {"type", "TemplateProcessing"},
          {"single", {special(0), sequence("A", 0)}},
          {"pair", {special(0), sequence("A", 0), special(1), sequence("B", 1)}},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {proto.bos_id}}, {"tokens", {bos}}}}}}};
    }
    doc["model"] = {{"type", "BPE"},
                    {"dropout", nullptr},
                    {"unk_token", proto.pieces[proto.unk_id].piece},
                    {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr},
                    {"fuse_unk", true},
                    {"byte_fallback", proto.byte_fallback},
                    {"ignore_merges", false},
                    {"vocab", std::move(vocab)},
                    {"merges", BpeMerges(proto)}};
  } else {
    Json vocab = Json::array();
    for (const auto& p : proto.pieces) {
      vocab.push_back({p.piece, static_cast<double>(p.score)});
    }
    doc["model"] = {{"type", "Unigram"},
                    {"unk_id", proto.unk_id},
                    {"byte_fallback", proto.byte_fallback},
                    {"vocab", std::move(vocab)}};
  }
  return doc.dump(2) + "\n";
}

absl::StatusOr<std::string> ConvertSentencePieceModel(std::string_view model_bytes) {
  ASSIGN_OR_RETURN(SentencePieceModelProto proto, ParseSentencePieceModel(model_bytes));
  return SentencePieceToTokenizerJson(proto);
}

}  // namespace zett::tokenizer
