// Converts a SentencePiece `.model` to a Hugging Face tokenizer.json that encodes every input
// with the ids the engine gives the `.model` itself (LoadSentencePieceModel), in the layout
// transformers' LlamaConverter writes for Llama-2 / Mistral-7B (legacy) and that
// scripts/data/sp_to_hf.py mirrors (for its models the output is the same document):
//   added_tokens   UNKNOWN and CONTROL pieces (special), USER_DEFINED pieces (not special), all
//                  normalized=false, in id order (transformers' SpmConverter adds the latter);
//   normalizer     Sequence of
//                    Precompiled(precompiled_charsmap)          when the model has a charsmap,
//                    Replace(/\A +/, ""), Replace(/ {2,}/, " "),
//                    Replace(/[ ▁]+\z/, "")                     when remove_extra_whitespaces,
//                    Prepend("▁")                               when add_dummy_prefix,
//                    Replace(" ", "▁")                          when escape_whitespaces;
//                  which is SentencePiece's normalizer (no Metaspace pre-tokenizer: it would not
//                  prepend "▁" to a line that begins with a space);
//   pre_tokenizer  null;
//   model          BPE: vocab {piece: id}, merges = every split of a NORMAL/USER_DEFINED piece
//                  into two such pieces, ranked by the piece's score (higher first), ties by
//                  piece id then by the (left id, right id) of the split (transformers'
//                  SentencePieceExtractor), unk_token, fuse_unk, byte_fallback;
//                  Unigram: vocab [[piece, score]], unk_id, byte_fallback;
//   post_processor BPE: TemplateProcessing "<bos> $A" (as LlamaConverter), Unigram: null;
//   decoder        Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1 if add_dummy_prefix, 0).
// Refused (InvalidArgument / Unimplemented): a corrupt model, WORD/CHAR models,
// treat_whitespace_as_suffix (tokenizers has no Append normalizer), a BPE with duplicate pieces.
//
// Known differences, on text no conformance line contains (the file behaves as transformers'
// LlamaTokenizerFast does; the engine's own .model loading follows libsentencepiece there):
// text that spells out the UNKNOWN piece ("<unk>") encodes as that token (the .model: as
// characters; CONTROL pieces such as "<s>" are special added tokens in both); in a Unigram
// model, text that spells a BYTE/UNUSED piece ("<0x41>") may match that piece (tokenizers'
// Unigram has no unmatchable pieces). With a precompiled charsmap (nmt_nfkc), tokenizers'
// Precompiled normalizer applies it per grapheme cluster where SentencePiece takes longest
// matches: 1 of the 2,521 conformance lines (Bengali) differs.
#ifndef ZETT_CORE_TOKENIZER_SENTENCEPIECE_TO_JSON_H_
#define ZETT_CORE_TOKENIZER_SENTENCEPIECE_TO_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/tokenizer/sentencepiece_model.h"

namespace zett::tokenizer {

// The tokenizer.json text (2-space indent, UTF-8, trailing newline) of a parsed model.
absl::StatusOr<std::string> SentencePieceToTokenizerJson(const SentencePieceModelProto& proto);

// Parses the serialized ModelProto (ParseSentencePieceModel) and converts it.
absl::StatusOr<std::string> ConvertSentencePieceModel(std::string_view model_bytes);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_SENTENCEPIECE_TO_JSON_H_
