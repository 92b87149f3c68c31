// libFuzzer target: arbitrary text through fixed tokenizers built in code (byte-level BPE with
// the GPT-2 regex, SentencePiece-style BPE with byte fallback, Unigram, BERT WordPiece).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/tokenizer_json.h"

namespace {

std::vector<std::unique_ptr<zett::tokenizer::Tokenizer>> MakeTokenizers() {
  const char* const kJsons[] = {
      R"({"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true},
          "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":["a b"]}})",
      R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},
            {"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
          "model":{"type":"BPE","unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
            "vocab":{"<unk>":0,"▁":1,"a":2,"▁a":3,"<0x41>":4,"<0xC3>":5},"merges":[["▁","a"]]},
          "added_tokens":[{"id":6,"content":"<s>","special":true,"lstrip":true,"rstrip":true}]})",
      R"({"normalizer":{"type":"NFKC"},
          "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},
            {"type":"Metaspace","replacement":"▁","prepend_scheme":"first"}]},
          "model":{"type":"Unigram","unk_id":0,"byte_fallback":true,
            "vocab":[["<unk>",0],["▁",-2],["a",-1],["▁a",-1.5],["<0x62>",-8]]}})",
      R"({"normalizer":{"type":"BertNormalizer","lowercase":true},
          "pre_tokenizer":{"type":"BertPreTokenizer"},
          "model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"a":1,"##a":2,"b":3}}})",
  };
  std::vector<std::unique_ptr<zett::tokenizer::Tokenizer>> out;
  for (const char* json : kJsons) {
    auto t = zett::tokenizer::LoadTokenizerJson(json);
    if (!t.ok()) __builtin_trap();  // the fixtures themselves must load
    out.push_back(std::move(t).value());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* tokenizers = new auto(MakeTokenizers());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& t : *tokenizers) (void)t->Encode(text, true);
  return 0;
}
