#include "client/cli/tokenizer_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/sentencepiece_to_json.h"
#include "core/tokenizer/tokenizer_file.h"

namespace zett::cli {
namespace {

// Minimal --flag VALUE / --switch parser; unknown flags are errors.
struct Flags {
  std::map<std::string, std::string> values;
  std::string error;
};

Flags ParseFlags(const std::vector<std::string>& args, const std::vector<std::string>& with_value,
                 const std::vector<std::string>& switches) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (std::find(switches.begin(), switches.end(), a) != switches.end()) {
      flags.values[a] = "1";
    } else if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
      if (i + 1 >= args.size()) {
        flags.error = a + " needs a value";
        return flags;
      }
      flags.values[a] = args[++i];
    } else {
      flags.error = "unknown flag '" + a + "'";
      return flags;
    }
  }
  return flags;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "zett: %s\n", message.c_str());
  return 1;
}

}  // namespace

int RunTokenize(const std::vector<std::string>& args) {
  Flags flags =
      ParseFlags(args, {"--tokenizer", "--input", "--output"}, {"--add-special-tokens", "--stats"});
  if (!flags.error.empty()) return Fail("tokenize: " + flags.error);
  if (!flags.values.count("--tokenizer") || !flags.values.count("--input")) {
    return Fail("tokenize: --tokenizer PATH and --input FILE are required");
  }
  const auto load_start = std::chrono::steady_clock::now();
  auto tokenizer = tokenizer::LoadTokenizerFile(flags.values["--tokenizer"]);
  if (!tokenizer.ok()) return Fail(std::string(tokenizer.status().ToString()));
  const auto encode_start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  std::ifstream input(flags.values["--input"], std::ios::binary);
  if (!input) return Fail("tokenize: cannot read " + flags.values["--input"]);
  std::ofstream file_out;
  std::ostream* out = &std::cout;
  if (flags.values.count("--output")) {
    file_out.open(flags.values["--output"], std::ios::binary);
    if (!file_out) return Fail("tokenize: cannot write " + flags.values["--output"]);
    out = &file_out;
  }
  const bool special = flags.values.count("--add-special-tokens") > 0;
  std::string line;
  std::string buffer;
  size_t line_number = 0;
  while (std::getline(input, line)) {
    ++line_number;
    bytes += line.size() + 1;
    auto ids = (*tokenizer)->Encode(line, special);
    if (!ids.ok()) {
      return Fail("tokenize: line " + std::to_string(line_number) + ": " +
                  std::string(ids.status().message()));
    }
    buffer.clear();
    buffer.push_back('[');
    for (size_t i = 0; i < ids->size(); ++i) {
      if (i > 0) buffer.push_back(',');
      buffer += std::to_string((*ids)[i]);
    }
    buffer += "]\n";
    *out << buffer;
  }
  if (flags.values.count("--stats")) {
    const auto end = std::chrono::steady_clock::now();
    const double load_s = std::chrono::duration<double>(encode_start - load_start).count();
    const double encode_s = std::chrono::duration<double>(end - encode_start).count();
    std::fprintf(stderr, "tokenize: load %.3f s, %zu lines, %zu bytes in %.3f s = %.2f MB/s\n",
                 load_s, line_number, bytes, encode_s, bytes / 1e6 / encode_s);
  }
  return 0;
}

int RunConvert(const std::vector<std::string>& args) {
  Flags flags = ParseFlags(args, {"--tokenizer", "--output"}, {});
  if (!flags.error.empty()) return Fail("convert: " + flags.error);
  if (!flags.values.count("--tokenizer") || !flags.values.count("--output")) {
    return Fail("convert: --tokenizer MODEL.model and --output FILE are required");
  }
  const std::string& path = flags.values["--tokenizer"];
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("convert: cannot read " + path);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto json = tokenizer::ConvertSentencePieceModel(bytes.str());
  if (!json.ok()) return Fail("convert: " + path + ": " + std::string(json.status().message()));
  std::ofstream out(flags.values["--output"], std::ios::binary);
  out << *json;
  out.close();
  if (!out) return Fail("convert: cannot write " + flags.values["--output"]);
  return 0;
}

int RunDecompose(const std::vector<std::string>& args) {
  Flags flags =
      ParseFlags(args, {"--original", "--target", "--max-len", "--pad-id", "--output"}, {});
  if (!flags.error.empty()) return Fail("decompose: " + flags.error);
  if (!flags.values.count("--original") || !flags.values.count("--target")) {
    return Fail("decompose: --original PATH and --target PATH are required");
  }
  auto original = tokenizer::LoadTokenizerFile(flags.values["--original"]);
  if (!original.ok()) return Fail(std::string(original.status().ToString()));
  auto target = tokenizer::LoadTokenizerFile(flags.values["--target"]);
  if (!target.ok()) return Fail(std::string(target.status().ToString()));
  tokenizer::DecomposeOptions options;
  try {
    if (flags.values.count("--max-len")) options.max_len = std::stoi(flags.values["--max-len"]);
    if (flags.values.count("--pad-id")) options.pad_id = std::stoi(flags.values["--pad-id"]);
  } catch (const std::exception&) {
    return Fail("decompose: --max-len and --pad-id take integers");
  }
  // Timed separately: the server prepares the original once per model, then decomposes
  // each request's target.
  const auto prepare_start = std::chrono::steady_clock::now();
  auto decomposer = tokenizer::Decomposer::Create(**original);
  if (!decomposer.ok()) return Fail(std::string(decomposer.status().ToString()));
  const auto decompose_start = std::chrono::steady_clock::now();
  auto decomposition = (*decomposer)->Decompose(**target, options);
  if (!decomposition.ok()) return Fail(std::string(decomposition.status().ToString()));
  const auto decompose_end = std::chrono::steady_clock::now();
  std::fprintf(stderr, "decompose: original prepared in %.3f s; target (%zu tokens) in %.3f s\n",
               std::chrono::duration<double>(decompose_start - prepare_start).count(),
               decomposition->surface_forms.size(),
               std::chrono::duration<double>(decompose_end - decompose_start).count());
  const tokenizer::Decomposition& d = *decomposition;
  nlohmann::json out;
  out["max_len"] = d.max_len;
  out["pad_id"] = d.pad_id;
  out["original_vocab_size"] = d.original_vocab_size;
  out["vocab_size"] = d.surface_forms.size();
  out["surface_forms"] = d.surface_forms;
  // The original's conversion additions: what a hypernetwork's fallback_embeddings rows are.
  const auto& converted = (*decomposer)->original_vocabulary();
  out["original_added_tokens"] = std::vector<std::string>(
      converted.surface_forms.begin() + converted.original_size, converted.surface_forms.end());
  nlohmann::json matrix = nlohmann::json::array();
  for (size_t i = 0; i < d.surface_forms.size(); ++i) {
    matrix.push_back(
        std::vector<int32_t>(d.ids.begin() + i * d.max_len, d.ids.begin() + (i + 1) * d.max_len));
  }
  out["ids"] = std::move(matrix);
  nlohmann::json flags_json = nlohmann::json::array();
  for (uint8_t f : d.flags) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& [bit, name] : tokenizer::DecompositionFlagNames()) {
      if (f & bit) names.push_back(name);
    }
    flags_json.push_back(std::move(names));
  }
  out["flags"] = std::move(flags_json);
  out["n_truncated"] = d.n_truncated;
  const std::string text = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (flags.values.count("--output")) {
    std::ofstream file(flags.values["--output"], std::ios::binary);
    if (!file) return Fail("decompose: cannot write " + flags.values["--output"]);
    file << text << "\n";
  } else {
    std::cout << text << "\n";
  }
  return 0;
}

}  // namespace zett::cli
