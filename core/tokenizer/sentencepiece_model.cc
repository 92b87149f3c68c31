#include "core/tokenizer/sentencepiece_model.h"

#include <algorithm>
#include <cstring>

#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/precompiled_charsmap.h"
#include "core/tokenizer/unicode_text.h"
#include "core/tokenizer/unigram_model.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {
namespace {

enum PieceType {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

// Protobuf wire format reader over one message.
class WireReader {
 public:
  WireReader(std::string_view data, size_t base) : data_(data), base_(base) {}
  bool done() const { return pos_ >= data_.size(); }
  size_t offset() const { return base_ + pos_; }

  absl::Status Next(uint32_t* field, uint32_t* wire_type) {
    uint64_t key;
    RETURN_IF_ERROR(Varint(&key));
    *field = static_cast<uint32_t>(key >> 3);
    *wire_type = static_cast<uint32_t>(key & 7);
    return absl::OkStatus();
  }
  absl::Status Varint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Error("truncated varint");
      const auto b = static_cast<uint8_t>(data_[pos_++]);
      *value |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return absl::OkStatus();
    }
    return Error("varint longer than 10 bytes");
  }
  absl::Status Bytes(std::string_view* out, size_t* start) {
    uint64_t len;
    RETURN_IF_ERROR(Varint(&len));
    if (len > data_.size() - pos_) return Error("length-delimited field past the end");
    *start = base_ + pos_;
    *out = data_.substr(pos_, len);
    pos_ += len;
    return absl::OkStatus();
  }
  absl::Status Fixed32(uint32_t* value) {
    if (data_.size() - pos_ < 4) return Error("truncated fixed32");
    std::memcpy(value, data_.data() + pos_, 4);
    pos_ += 4;
    return absl::OkStatus();
  }
  absl::Status Skip(uint32_t wire_type) {
    uint64_t v;
    std::string_view s;
    size_t start;
    uint32_t f;
    switch (wire_type) {
      case 0:
        return Varint(&v);
      case 1:
        if (data_.size() - pos_ < 8) return Error("truncated fixed64");
        pos_ += 8;
        return absl::OkStatus();
      case 2:
        return Bytes(&s, &start);
      case 5:
        return Fixed32(&f);
      default:
        return Error(Cat("unsupported wire type ", wire_type));
    }
  }
  absl::Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(
        Cat("sentencepiece model: ", message, " at byte ", base_ + pos_));
  }

 private:
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

absl::Status ParsePiece(std::string_view data, size_t base, SentencePieceModelProto::Piece* piece) {
  WireReader r(data, base);
  while (!r.done()) {
    uint32_t field, wire;
    RETURN_IF_ERROR(r.Next(&field, &wire));
    if (field == 1 && wire == 2) {
      std::string_view s;
      size_t start;
      RETURN_IF_ERROR(r.Bytes(&s, &start));
      piece->piece = std::string(s);
    } else if (field == 2 && wire == 5) {
      uint32_t bits;
      RETURN_IF_ERROR(r.Fixed32(&bits));
      std::memcpy(&piece->score, &bits, 4);
    } else if (field == 3 && wire == 0) {
      uint64_t v;
      RETURN_IF_ERROR(r.Varint(&v));
      piece->type = static_cast<int>(v);
    } else {
      RETURN_IF_ERROR(r.Skip(wire));
    }
  }
  return absl::OkStatus();
}

// SentencePiece's normalizer: charsmap rules (longest match), whitespace collapsing, dummy
// prefix and escaping of ' ' as '▁'.
class SentencePieceNormalizer : public Normalizer {
 public:
  SentencePieceNormalizer(PrecompiledCharsmap charsmap, const SentencePieceModelProto& proto)
      : charsmap_(std::move(charsmap)),
        add_dummy_prefix_(proto.add_dummy_prefix),
        remove_extra_whitespaces_(proto.remove_extra_whitespaces),
        escape_whitespaces_(proto.escape_whitespaces),
        suffix_(proto.treat_whitespace_as_suffix) {}

  absl::Status Normalize(std::string* text) const override {
    const std::string_view space = escape_whitespaces_ ? "\u2581" : " ";
    std::string normalized;
    normalized.reserve(text->size() + 3);
    bool previous_space = remove_extra_whitespaces_;  // drops leading spaces
    size_t pos = 0;
    const std::string_view input = *text;
    while (pos < input.size()) {
      size_t consumed = 0;
      std::string_view replacement;
      std::string own;
      if (!charsmap_.LongestPrefix(input.substr(pos), &consumed, &replacement)) {
        char32_t cp;
        consumed = DecodeUtf8(input, pos, &cp);
        if (cp == 0xFFFD && consumed == 1) {
          own = "\uFFFD";
        } else {
          own = std::string(input.substr(pos, consumed));
        }
        replacement = own;
      }
      pos += consumed;
      for (char c : replacement) {
        if (c == ' ') {
          if (remove_extra_whitespaces_ && previous_space) continue;
          normalized += space;
          previous_space = true;
        } else {
          normalized.push_back(c);
          previous_space = false;
        }
      }
    }
    if (remove_extra_whitespaces_) {
      while (normalized.size() >= space.size() &&
             normalized.compare(normalized.size() - space.size(), space.size(), space) == 0) {
        normalized.resize(normalized.size() - space.size());
      }
    }
    if (add_dummy_prefix_ && !normalized.empty()) {
      if (suffix_) {
        normalized += space;
      } else {
        normalized.insert(0, space);
      }
    }
    *text = std::move(normalized);
    return absl::OkStatus();
  }

 private:
  PrecompiledCharsmap charsmap_;
  bool add_dummy_prefix_, remove_extra_whitespaces_, escape_whitespaces_, suffix_;
};

}  // namespace

absl::StatusOr<SentencePieceModelProto> ParseSentencePieceModel(std::string_view bytes) {
  SentencePieceModelProto proto;
  WireReader r(bytes, 0);
  while (!r.done()) {
    uint32_t field, wire;
    RETURN_IF_ERROR(r.Next(&field, &wire));
    if (wire != 2 || field < 1 || field > 3) {
      RETURN_IF_ERROR(r.Skip(wire));
      continue;
    }
    std::string_view sub;
    size_t base;
    RETURN_IF_ERROR(r.Bytes(&sub, &base));
    if (field == 1) {
      proto.pieces.emplace_back();
      RETURN_IF_ERROR(ParsePiece(sub, base, &proto.pieces.back()));
      continue;
    }
    WireReader s(sub, base);
    while (!s.done()) {
      uint32_t f, w;
      RETURN_IF_ERROR(s.Next(&f, &w));
      uint64_t v = 0;
      if (w == 0) {
        RETURN_IF_ERROR(s.Varint(&v));
      } else if (w == 2 && field == 3 && (f == 1 || f == 2)) {
        std::string_view value;
        size_t start;
        RETURN_IF_ERROR(s.Bytes(&value, &start));
        (f == 1 ? proto.normalizer_name : proto.precompiled_charsmap) = std::string(value);
        continue;
      } else {
        RETURN_IF_ERROR(s.Skip(w));
        continue;
      }
      if (field == 2) {  // TrainerSpec
        if (f == 3) proto.model_type = static_cast<int>(v);
        if (f == 24) proto.treat_whitespace_as_suffix = v != 0;
        if (f == 35) proto.byte_fallback = v != 0;
        if (f == 40) proto.unk_id = static_cast<int>(static_cast<int32_t>(v));
        if (f == 41) proto.bos_id = static_cast<int>(static_cast<int32_t>(v));
        if (f == 42) proto.eos_id = static_cast<int>(static_cast<int32_t>(v));
        if (f == 43) proto.pad_id = static_cast<int>(static_cast<int32_t>(v));
      } else {  // NormalizerSpec
        if (f == 3) proto.add_dummy_prefix = v != 0;
        if (f == 4) proto.remove_extra_whitespaces = v != 0;
        if (f == 5) proto.escape_whitespaces = v != 0;
      }
    }
  }
  if (proto.pieces.empty()) {
    return absl::InvalidArgumentError("sentencepiece model: no pieces (not a .model file?)");
  }
  return proto;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceModel(std::string_view bytes) {
  ASSIGN_OR_RETURN(SentencePieceModelProto proto, ParseSentencePieceModel(bytes));
  Tokenizer::Components c;
  ASSIGN_OR_RETURN(PrecompiledCharsmap charsmap,
                   PrecompiledCharsmap::Parse(proto.precompiled_charsmap));
  c.normalizer = std::make_unique<SentencePieceNormalizer>(std::move(charsmap), proto);
  const int32_t n = static_cast<int32_t>(proto.pieces.size());
  if (proto.unk_id < 0 || proto.unk_id >= n) {
    return absl::InvalidArgumentError(
        Cat("sentencepiece model: unk_id ", proto.unk_id, " out of range for ", n, " pieces"));
  }
  for (int32_t i = 0; i < n; ++i) {
    const auto& p = proto.pieces[i];
    if (p.piece.empty()) {
      return absl::InvalidArgumentError(Cat("sentencepiece model: piece ", i, " is empty"));
    }
    RETURN_IF_ERROR(ValidateUtf8(p.piece, Cat("sentencepiece model: piece ", i)));
    if (p.type == kControl || p.type == kUserDefined) {
      AddedToken t;
      t.id = i;
      t.content = p.piece;
      t.special = p.type == kControl;
      t.normalized = false;
      c.added_tokens.push_back(std::move(t));
    }
  }
  if (proto.model_type == 1) {
    std::vector<std::pair<std::string, double>> pieces;
    std::vector<bool> unmatchable;
    pieces.reserve(n);
    for (const auto& p : proto.pieces) {
      // Only NORMAL/USER_DEFINED pieces take part in SentencePiece's lattice.
      pieces.emplace_back(p.piece, p.score);
      unmatchable.push_back(p.type != kNormal && p.type != kUserDefined);
    }
    ASSIGN_OR_RETURN(c.model, UnigramModel::Create(std::move(pieces), proto.unk_id,
                                                   proto.byte_fallback, unmatchable));
  } else if (proto.model_type == 2) {
    // SentencePiece BPE merges the adjacent pair whose concatenation is the best-scored piece;
    // as ranked merges: every split of a piece into two pieces, ranked by the piece's score.
    std::vector<std::pair<std::string, int32_t>> entries;
    for (int32_t i = 0; i < n; ++i) entries.emplace_back(proto.pieces[i].piece, i);
    ASSIGN_OR_RETURN(Vocab vocab, Vocab::Create(std::move(entries), "sentencepiece model", true));
    std::vector<int32_t> order(n);
    for (int32_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return proto.pieces[a].score > proto.pieces[b].score;
    });
    std::vector<std::pair<std::string, std::string>> merges;
    for (int32_t id : order) {
      const auto& p = proto.pieces[id];
      if (p.type != kNormal) continue;
      for (size_t split = Utf8Length(static_cast<unsigned char>(p.piece[0]));
           split < p.piece.size();
           split += Utf8Length(static_cast<unsigned char>(p.piece[split]))) {
        const std::string left = p.piece.substr(0, split), right = p.piece.substr(split);
        if (vocab.Find(left) && vocab.Find(right)) merges.emplace_back(left, right);
      }
    }
    BpeOptions options;
    options.unk_token = proto.pieces[proto.unk_id].piece;
    options.byte_fallback = proto.byte_fallback;
    options.fuse_unk = true;
    ASSIGN_OR_RETURN(auto bpe,
                     BpeModel::Create(std::move(vocab), merges, std::move(options), true));
    c.model = std::move(bpe);
  } else {
    return absl::UnimplementedError(
        Cat("sentencepiece model: model_type ", proto.model_type, " (WORD/CHAR) is not supported"));
  }
  return Tokenizer::Create(std::move(c));
}

}  // namespace zett::tokenizer
