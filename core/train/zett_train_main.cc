// zett-train: the training job. `zett-train <subcommand> --flag=value …`.
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/train/commands.h"

namespace {

struct Subcommand {
  const char* name;
  const char* help;
  std::function<int(const std::vector<std::string>&)> run;
};

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> kSubcommands = {
      {"pretrain", "pretrain a small Llama-architecture base LM from text files",
       zett::PretrainCommand},
      {"train", "train a ZeTT hypernetwork for a base LM (sampled tokenizers per step)",
       zett::HypernetTrainCommand},
      {"logits", "run a Hugging Face checkpoint on ids and write its logits (parity checks)",
       zett::LogitsCommand},
      {"eval", "bits/byte of the base LM with its own and with transferred tokenizers",
       zett::EvalCommand},
      {"continue", "train one target tokenizer's embeddings, backbone frozen (n-shot, oracle)",
       zett::ContinueTrainCommand},
      {"plot", "redraw a run's loss curve from its trainer_state.json", zett::PlotCommand},
  };
  return kSubcommands;
}

int Usage(std::ostream& out, int code) {
  out << "usage: zett-train <subcommand> [--flag=value ...]\n\nsubcommands:\n";
  for (const auto& s : Subcommands()) out << "  " << s.name << "\t" << s.help << "\n";
  out << "\nzett-train <subcommand> --help lists its flags with their defaults.\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage(std::cerr, 2);
  const std::string name = argv[1];
  if (name == "help" || name == "--help" || name == "-h") return Usage(std::cout, 0);
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& s : Subcommands()) {
    if (name == s.name) return s.run(args);
  }
  std::cerr << "zett-train: unknown subcommand '" << name << "'\n";
  return Usage(std::cerr, 2);
}
