// TEST DOUBLE, never the product: a LoadedModel whose rows are a fixed hash of each token's
// decomposition, so that tests know every byte the server must stream without a hypernetwork.
//
// Version directory layout it loads: test_model.json
//   {"hidden_size": 8, "tied": false, "predicts_bias": true, "surface_maxlen": 4,
//    "languages": [], "predict_delay_us_per_row": 0, "prepare_delay_us_per_token": 0,
//    "load_delay_ms": 0}
// plus any other files (they only matter to the manifest).
//
// Prepare: token lists as given (special_tokens marked special, and copied under COPY_ORIGINAL);
// tokenizer.json: the "model"."vocab" object {token: id}, ids 0..V-1 (errors name the field);
// SentencePiece: refused. Decomposition: the token's first L bytes, -1 padded. With a prepare
// delay, Prepare sleeps per token and polls options.interrupt every 64 tokens, as the real
// engine's decomposition does.
// Predict: row value j of matrix m = HashValue(decomposition row, m, j); copied rows use the
// "original" row HashValue({copy id}, m, j).
#ifndef ZETT_TESTS_SERVER_DETERMINISTIC_TEST_MODEL_H_
#define ZETT_TESTS_SERVER_DETERMINISTIC_TEST_MODEL_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "server/transfer_engine.h"

namespace zett::testing {

class DeterministicTestModel final : public server::LoadedModel {
 public:
  DeterministicTestModel(server::ModelMetadata metadata, int predict_delay_us_per_row,
                         int prepare_delay_us_per_token = 0);

  const server::ModelMetadata& metadata() const override { return metadata_; }
  absl::StatusOr<server::PreparedTransfer> Prepare(
      const server::TokenizerInput& input, const server::PrepareOptions& options) const override;
  absl::StatusOr<server::RowBatchOutput> Predict(const server::RowBatch& batch) const override;

  // The value the model gives to column `col` of `matrix` for a decomposition row.
  static float HashValue(const std::vector<int32_t>& ids, v1::Matrix matrix, uint64_t col);

  uint64_t rows_predicted() const { return rows_predicted_; }
  uint64_t predict_calls() const { return predict_calls_; }
  // Tokens Prepare went through, over all calls (finished or interrupted).
  uint64_t tokens_prepared() const { return tokens_prepared_; }

 private:
  server::ModelMetadata metadata_;
  int predict_delay_us_per_row_;
  int prepare_delay_us_per_token_;
  mutable std::atomic<uint64_t> tokens_prepared_{0};
  mutable std::atomic<uint64_t> rows_predicted_{0};
  mutable std::atomic<uint64_t> predict_calls_{0};
};

// Loads DeterministicTestModel from test_model.json. With a gate, Load() blocks until the gate
// is notified (to observe the LOADING state). Keeps every model it made, for inspection.
class DeterministicTestLoader final : public server::ModelLoader {
 public:
  explicit DeterministicTestLoader(absl::Notification* gate = nullptr) : gate_(gate) {}
  absl::StatusOr<std::shared_ptr<const server::LoadedModel>> Load(
      const std::string& model_name, int64_t version,
      const std::string& version_dir) const override;

  std::shared_ptr<const DeterministicTestModel> Loaded(const std::string& model_name,
                                                       int64_t version) const;

 private:
  absl::Notification* gate_;
  mutable std::mutex mutex_;
  mutable std::vector<
      std::tuple<std::string, int64_t, std::shared_ptr<const DeterministicTestModel>>>
      loaded_;
};

// Writes <root>/<model>/<version>/ with test_model.json (from `config`), a 4 KiB weights.bin of
// deterministic bytes and a matching manifest.json. Returns the version directory.
std::string WriteTestModelVersion(const std::string& root, const std::string& model,
                                  int64_t version, const std::string& config_json);

// A fresh empty directory under the test's temporary folder.
std::string MakeTempDir(const std::string& name);

}  // namespace zett::testing

#endif  // ZETT_TESTS_SERVER_DETERMINISTIC_TEST_MODEL_H_
