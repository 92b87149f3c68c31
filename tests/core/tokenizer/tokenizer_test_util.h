// Helpers for tokenizer tests: tiny tokenizer.json documents built in code.
#ifndef ZETT_TESTS_CORE_TOKENIZER_TOKENIZER_TEST_UTIL_H_
#define ZETT_TESTS_CORE_TOKENIZER_TOKENIZER_TEST_UTIL_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/tokenizer_json.h"
#include "gtest/gtest.h"

namespace zett::tokenizer::testing {

inline std::unique_ptr<Tokenizer> LoadOrDie(const nlohmann::json& json) {
  auto tokenizer = LoadTokenizerJson(json.dump());
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? std::move(tokenizer).value() : nullptr;
}

// A BPE model JSON whose vocabulary is `alphabet` plus every merge result, ids in order.
inline nlohmann::json BpeModelJson(const std::vector<std::string>& alphabet,
                                   const std::vector<std::pair<std::string, std::string>>& merges) {
  nlohmann::json vocab = nlohmann::json::object();
  int id = 0;
  for (const auto& a : alphabet) vocab[a] = id++;
  nlohmann::json merge_list = nlohmann::json::array();
  for (const auto& [a, b] : merges) {
    if (!vocab.contains(a + b)) vocab[a + b] = id++;
    merge_list.push_back({a, b});
  }
  return {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}};
}

}  // namespace zett::tokenizer::testing

#endif  // ZETT_TESTS_CORE_TOKENIZER_TOKENIZER_TEST_UTIL_H_
