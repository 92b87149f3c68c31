// The `zett` command-line tool: dispatches `zett <command> [flags]` to a command handler.
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "client/cli/tokenizer_commands.h"
#include "client/remote/bench_command.h"
#include "client/remote/server_commands.h"

namespace {

struct Command {
  std::function<int(const std::vector<std::string>&)> run;
  const char* summary;
  bool remote = false;  // talks to a server: takes the connection flags too
};

// Flags every command that talks to a server accepts (server_commands.cc).
constexpr char kConnectionFlags[] = "[--bearer-token-file PATH] [--tls-ca PEM] [--timeout SECONDS]";

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"tokenize",
       {zett::cli::RunTokenize,
        "--tokenizer PATH --input FILE [--output FILE] [--add-special-tokens] [--stats]"}},
      {"decompose",
       {zett::cli::RunDecompose,
        "--original PATH --target PATH [--max-len 7] [--pad-id N] [--output FILE]"}},
      {"convert",
       {zett::cli::RunConvert,
        "--tokenizer MODEL.model --output FILE (a SentencePiece model as tokenizer.json)"}},
      {"transfer",
       {zett::cli::RunTransfer,
        "--server ADDR --model NAME --tokenizer PATH --out DIR [--version N] "
        "[--dtype fp32|bf16|fp16 (default: fp32)] [--compute-dtype fp32|bf16] "
        "[--token-kind byte_level|sentencepiece|wordpiece|text (default: byte_level)] "
        "[--special-tokens copy|predict] [--language L]",
        true}},
      {"apply",
       {zett::cli::RunApply,
        "--base DIR --tokenizer PATH --out DIR (--server ADDR --model NAME | --embeddings DIR) "
        "[--dtype fp32|bf16|fp16 (default: the base's)] [--tokenizer-config PATH] [--force] "
        "[--version N] [--compute-dtype fp32|bf16] [--token-kind KIND] "
        "[--special-tokens copy|predict] [--language L] "
        "[--finetuned DIR [--lambda 1]]",
        true}},
      {"models", {zett::cli::RunModels, "--server ADDR [--model NAME]", true}},
      {"health", {zett::cli::RunHealth, "--server ADDR [--service NAME]", true}},
      {"bench",
       {zett::cli::RunBench,
        "--server ADDR --model NAME --tokenizer PATH [--rpc transfer|predict_tokens] "
        "[--streams 4] [--seconds 10] [--dtype bf16] [--tokens 64]"}},
  };
  return *commands;
}

bool AsksForHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

// `zett <command> --help`: that command's flags (bracketed: optional, with their defaults).
int CommandUsage(const std::string& name, const Command& command) {
  std::printf("usage: zett %s %s\n", name.c_str(), command.summary);
  if (command.remote) std::printf("connection flags: %s\n", kConnectionFlags);
  return 0;
}

int Usage(FILE* out) {
  std::fprintf(out,
               "usage: zett <command> [flags]   (zett <command> --help: its flags)\ncommands:\n");
  for (const auto& [name, command] : Commands()) {
    std::fprintf(out, "  %-10s %s\n", name.c_str(), command.summary);
  }
  return out == stderr ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage(stderr);
  const std::string name = argv[1];
  if (name == "help" || name == "--help" || name == "-h") return Usage(stdout);
  auto it = Commands().find(name);
  if (it == Commands().end()) {
    std::fprintf(stderr, "zett: unknown command '%s'\n", name.c_str());
    return Usage(stderr);
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (AsksForHelp(args)) return CommandUsage(name, it->second);
  return it->second.run(args);
}
