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
};

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"tokenize",
       {zett::cli::RunTokenize, "--tokenizer PATH --input FILE [--add-special-tokens] [--stats]"}},
      {"decompose",
       {zett::cli::RunDecompose, "--original PATH --target PATH [--max-len 7] [--pad-id N]"}},
      {"transfer",
       {zett::cli::RunTransfer,
        "--server ADDR --model NAME --tokenizer PATH --out DIR [--dtype fp32|bf16|fp16] "
        "[--compute-dtype fp32|bf16] [--special-tokens copy|predict] [--language L]"}},
      {"apply",
       {zett::cli::RunApply,
        "--base DIR --tokenizer PATH --out DIR (--server ADDR --model NAME | --embeddings DIR) "
        "[--dtype fp32|bf16|fp16] [--tokenizer-config PATH] [--force]"}},
      {"models", {zett::cli::RunModels, "--server ADDR [--model NAME]"}},
      {"health", {zett::cli::RunHealth, "--server ADDR [--service NAME]"}},
      {"bench",
       {zett::cli::RunBench,
        "--server ADDR --model NAME --tokenizer PATH [--rpc transfer|predict_tokens] "
        "[--streams 4] [--seconds 10]"}},
  };
  return *commands;
}

int Usage(FILE* out) {
  std::fprintf(out, "usage: zett <command> [flags]\ncommands:\n");
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
  return it->second.run(std::vector<std::string>(argv + 2, argv + argc));
}
