#include "tests/server/deterministic_test_model.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "proto/wire/dtype_codec.h"
#include "server/manifest.h"

namespace zett::testing {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::vector<std::string>> VocabFromTokenizerJson(const std::string& text) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer_json: not JSON, parse error at byte ", e.byte));
  }
  if (!json.is_object() || !json.contains("model") || !json["model"].is_object() ||
      !json["model"].contains("vocab") || !json["model"]["vocab"].is_object()) {
    return absl::InvalidArgumentError("tokenizer_json: model.vocab: missing or not an object");
  }
  const auto& vocab = json["model"]["vocab"];
  std::vector<std::string> tokens(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_unsigned() || id.get<uint64_t>() >= vocab.size() ||
        seen[id.get<uint64_t>()]) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer_json: model.vocab[\"", token,
                                                     "\"]: id ", id.dump(),
                                                     " is not a unique id below ", vocab.size()));
    }
    seen[id.get<uint64_t>()] = true;
    tokens[id.get<uint64_t>()] = token;
  }
  return tokens;
}

}  // namespace

DeterministicTestModel::DeterministicTestModel(server::ModelMetadata metadata,
                                               int predict_delay_us_per_row,
                                               int prepare_delay_us_per_token)
    : metadata_(std::move(metadata)),
      predict_delay_us_per_row_(predict_delay_us_per_row),
      prepare_delay_us_per_token_(prepare_delay_us_per_token) {}

float DeterministicTestModel::HashValue(const std::vector<int32_t>& ids, v1::Matrix matrix,
                                        uint64_t col) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (int32_t id : ids) mix(static_cast<uint32_t>(id));
  mix(static_cast<uint64_t>(matrix));
  mix(col);
  // 24 hash bits → a float in [-1, 1) with every mantissa bit in use (exercises rounding).
  return static_cast<float>(h >> 40) / 8388608.0f - 1.0f;
}

absl::StatusOr<server::PreparedTransfer> DeterministicTestModel::Prepare(
    const server::TokenizerInput& input, const server::PrepareOptions& options) const {
  std::vector<std::string> tokens;
  switch (input.format) {
    case server::TokenizerInput::Format::kTokenList:
      tokens = input.tokens;
      break;
    case server::TokenizerInput::Format::kTokenizerJson: {
      absl::StatusOr<std::vector<std::string>> parsed = VocabFromTokenizerJson(input.bytes);
      if (!parsed.ok()) return parsed.status();
      tokens = *std::move(parsed);
      break;
    }
    default:
      return absl::InvalidArgumentError(
          "sentencepiece_model: the deterministic test model reads token lists and tokenizer.json");
  }
  server::PreparedTransfer prepared;
  const uint32_t length = metadata_.surface_maxlen;
  prepared.surface_maxlen = length;
  for (size_t t = 0; t < tokens.size(); ++t) {
    const std::string& token = tokens[t];
    if (prepare_delay_us_per_token_ > 0) {
      if (options.interrupt && t % 64 == 0) {
        if (absl::Status status = options.interrupt(); !status.ok()) return status;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(prepare_delay_us_per_token_));
    }
    ++tokens_prepared_;
    server::TokenInfo info;
    info.token = token;
    for (const std::string& special : input.special_tokens) info.special |= special == token;
    info.truncated = token.size() > length;
    info.copied = info.special && options.special_tokens == v1::SPECIAL_TOKEN_POLICY_COPY_ORIGINAL;
    for (uint32_t i = 0; i < length; ++i) {
      prepared.decomposition.push_back(
          i < token.size() ? static_cast<int32_t>(static_cast<unsigned char>(token[i])) : -1);
    }
    // The "original id" of a copied special token: its first byte.
    prepared.copy_source_id.push_back(info.copied ? static_cast<unsigned char>(token[0]) : -1);
    prepared.vocabulary.push_back(std::move(info));
  }
  return prepared;
}

absl::StatusOr<server::RowBatchOutput> DeterministicTestModel::Predict(
    const server::RowBatch& batch) const {
  if (predict_delay_us_per_row_ > 0) {
    std::this_thread::sleep_for(
        std::chrono::microseconds(predict_delay_us_per_row_ * batch.num_rows));
  }
  server::RowBatchOutput output;
  for (v1::Matrix matrix : batch.matrices) {
    const uint64_t cols = server::MatrixCols(metadata_, matrix);
    std::vector<float> values;
    values.reserve(batch.num_rows * cols);
    for (uint64_t r = 0; r < batch.num_rows; ++r) {
      std::vector<int32_t> ids;
      if (batch.copy_source_id[r] >= 0) {
        ids = {batch.copy_source_id[r]};
      } else {
        ids.assign(batch.decomposition.begin() + r * batch.surface_maxlen,
                   batch.decomposition.begin() + (r + 1) * batch.surface_maxlen);
      }
      if (batch.language_id >= 0) ids.push_back(1000 + batch.language_id);
      for (uint64_t c = 0; c < cols; ++c) values.push_back(HashValue(ids, matrix, c));
    }
    std::string data;
    wire::AppendEncoded(values, batch.dtype, &data);
    output.data.push_back(std::move(data));
  }
  rows_predicted_ += batch.num_rows;
  ++predict_calls_;
  return output;
}

absl::StatusOr<std::shared_ptr<const server::LoadedModel>> DeterministicTestLoader::Load(
    const std::string& model_name, int64_t version, const std::string& version_dir) const {
  if (gate_ != nullptr) gate_->WaitForNotification();
  std::ifstream in(version_dir + "/test_model.json");
  if (!in) return absl::NotFoundError(absl::StrCat(version_dir, "/test_model.json: missing"));
  server::ModelMetadata metadata;
  int delay = 0, prepare_delay = 0, load_delay_ms = 0;
  try {
    nlohmann::json json;
    in >> json;
    metadata.architecture = "DeterministicTestModel";
    metadata.hidden_size = json.value("hidden_size", 8);
    metadata.original_vocab_size = 256;
    metadata.tied_embeddings = json.value("tied", false);
    metadata.predicts_bias = json.value("predicts_bias", false);
    metadata.surface_maxlen = json.value("surface_maxlen", 4);
    metadata.languages = json.value("languages", std::vector<std::string>{});
    delay = json.value("predict_delay_us_per_row", 0);
    prepare_delay = json.value("prepare_delay_us_per_token", 0);
    load_delay_ms = json.value("load_delay_ms", 0);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(version_dir, "/test_model.json: ", e.what()));
  }
  // A slow load (a large model onto a device), for readiness and shutdown while loading.
  std::this_thread::sleep_for(std::chrono::milliseconds(load_delay_ms));
  auto model = std::make_shared<const DeterministicTestModel>(metadata, delay, prepare_delay);
  std::lock_guard<std::mutex> lock(mutex_);
  loaded_.emplace_back(model_name, version, model);
  return model;
}

std::shared_ptr<const DeterministicTestModel> DeterministicTestLoader::Loaded(
    const std::string& model_name, int64_t version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, v, model] : loaded_) {
    if (name == model_name && v == version) return model;
  }
  return nullptr;
}

std::string WriteTestModelVersion(const std::string& root, const std::string& model,
                                  int64_t version, const std::string& config_json) {
  const std::string dir = absl::StrCat(root, "/", model, "/", version);
  fs::create_directories(dir);
  std::ofstream(dir + "/test_model.json") << config_json;
  std::string weights(4096, '\0');
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = static_cast<char>((i * 131 + version) & 0xff);
  std::ofstream(dir + "/weights.bin", std::ios::binary) << weights;
  absl::StatusOr<server::Manifest> manifest = server::BuildManifest(dir);
  if (!manifest.ok() || !server::WriteManifest(dir, *manifest).ok()) std::abort();
  return dir;
}

std::string MakeTempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(base != nullptr ? base : fs::temp_directory_path().string(), "/", name, "_",
                   std::chrono::steady_clock::now().time_since_epoch().count());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace zett::testing
