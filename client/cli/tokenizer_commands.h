// `zett tokenize`, `zett decompose` and `zett convert`: the tokenizer engine from the command line
// (for users, debugging and the conformance check in scripts/conformance/).
#ifndef ZETT_CLIENT_CLI_TOKENIZER_COMMANDS_H_
#define ZETT_CLIENT_CLI_TOKENIZER_COMMANDS_H_

#include <string>
#include <vector>

namespace zett::cli {

// zett tokenize --tokenizer PATH --input FILE [--add-special-tokens] [--output FILE] [--stats]
// Writes one JSON array of ids per input line. Returns the process exit code.
int RunTokenize(const std::vector<std::string>& args);

// zett decompose --original PATH --target PATH [--max-len 7] [--pad-id N] [--output FILE]
// Writes JSON: the final target vocabulary (byte-level surface forms), the [V, L] id matrix
// and per-token flags.
int RunDecompose(const std::vector<std::string>& args);

// zett convert --tokenizer MODEL.model --output tokenizer.json
// Writes the Hugging Face tokenizer.json equivalent of a SentencePiece .model
// (core/tokenizer/sentencepiece_to_json.h). Returns the process exit code.
int RunConvert(const std::vector<std::string>& args);

}  // namespace zett::cli

#endif  // ZETT_CLIENT_CLI_TOKENIZER_COMMANDS_H_
