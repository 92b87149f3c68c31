// `zett transfer`, `zett apply`, `zett models`, `zett health`: the zett-server from the command
// line.
#ifndef ZETT_CLIENT_REMOTE_SERVER_COMMANDS_H_
#define ZETT_CLIENT_REMOTE_SERVER_COMMANDS_H_

#include <string>
#include <vector>

namespace zett::cli {

// zett transfer --server ADDR --model NAME --tokenizer PATH --out DIR [--version N]
//   [--dtype fp32|bf16|fp16] [--token-kind byte_level|sentencepiece|wordpiece|text]
//   [--special-tokens copy|predict] [--language L] [--bearer-token-file F] [--tls-ca F]
//   [--timeout SECONDS]
// Writes DIR/embeddings.safetensors and DIR/vocabulary.json; prints a one-line summary.
int RunTransfer(const std::vector<std::string>& args);

// zett apply --base DIR --tokenizer PATH --out DIR [--force] [--tokenizer-config PATH]
//   then either --server ADDR --model NAME [transfer flags as above; --dtype defaults to the
//   base's torch_dtype] or --embeddings DIR (a finished `zett transfer` output).
// Writes a complete Hugging Face model folder (client/apply/transferred_model.h).
int RunApply(const std::vector<std::string>& args);

// zett models --server ADDR [--model NAME] [...auth flags]: versions, states and metadata.
int RunModels(const std::vector<std::string>& args);

// zett health --server ADDR [--service NAME] [--timeout SECONDS]: exit 0 only when SERVING.
int RunHealth(const std::vector<std::string>& args);

}  // namespace zett::cli

#endif  // ZETT_CLIENT_REMOTE_SERVER_COMMANDS_H_
