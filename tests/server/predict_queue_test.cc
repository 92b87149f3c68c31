// The predict queue: submissions that wait while the device is busy run as one batch, results
// are split back to each submission exactly, incompatible work is not mixed, and cancelled
// submissions are dropped before they run.
#include "server/predict_queue.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace zett::server {
namespace {

// Returns row i of a batch as the 4 bytes of its first decomposition id; the first call blocks
// until released, so that later submissions pile up behind it.
class RecordingModel final : public LoadedModel {
 public:
  RecordingModel() { metadata_.hidden_size = 1; }
  const ModelMetadata& metadata() const override { return metadata_; }
  absl::StatusOr<PreparedTransfer> Prepare(const TokenizerInput&,
                                           const PrepareOptions&) const override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<RowBatchOutput> Predict(const RowBatch& batch) const override {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      batch_sizes_.push_back(batch.num_rows);
      started_cv_.notify_all();
      release_cv_.wait(lock, [this] { return released_; });
    }
    RowBatchOutput output;
    std::string data;
    for (uint64_t r = 0; r < batch.num_rows; ++r) {
      const int32_t id = batch.decomposition[r * batch.surface_maxlen];
      data.append(reinterpret_cast<const char*>(&id), sizeof(id));
    }
    output.data.push_back(data);
    return output;
  }
  void WaitForFirstBatch() {
    std::unique_lock<std::mutex> lock(mutex_);
    started_cv_.wait(lock, [this] { return !batch_sizes_.empty(); });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    release_cv_.notify_all();
  }
  std::vector<uint64_t> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return batch_sizes_;
  }

 private:
  ModelMetadata metadata_;
  mutable std::mutex mutex_;
  mutable std::condition_variable started_cv_, release_cv_;
  mutable bool released_ = false;
  mutable std::vector<uint64_t> batch_sizes_;
};

std::shared_ptr<const PreparedTransfer> Prepared(int first_id, int rows) {
  auto prepared = std::make_shared<PreparedTransfer>();
  prepared->surface_maxlen = 2;
  for (int i = 0; i < rows; ++i) {
    prepared->vocabulary.push_back({absl::StrCat(first_id + i)});
    prepared->decomposition.push_back(first_id + i);
    prepared->decomposition.push_back(-1);
    prepared->copy_source_id.push_back(-1);
  }
  return prepared;
}

std::vector<int32_t> Ids(const PendingRows& pending) {
  const std::string& data = pending.result()->data[0];
  std::vector<int32_t> ids(data.size() / 4);
  std::memcpy(ids.data(), data.data(), data.size());
  return ids;
}

TEST(PredictQueueTest, WaitingSubmissionsShareOneBatchAndSplitBack) {
  auto model = std::make_shared<RecordingModel>();
  PredictQueue queue({/*max_batch_rows=*/100});
  const std::vector<v1::Matrix> input = {v1::MATRIX_INPUT_EMBEDDINGS};
  auto blocker = queue.Submit(model, Prepared(0, 1), 0, 1, v1::DTYPE_FP32, input, nullptr);
  model->WaitForFirstBatch();
  auto a = queue.Submit(model, Prepared(100, 10), 2, 5, v1::DTYPE_FP32, input, nullptr);
  auto b = queue.Submit(model, Prepared(200, 30), 0, 30, v1::DTYPE_FP32, input, nullptr);
  // Another dtype cannot share the forward pass.
  auto c = queue.Submit(model, Prepared(300, 3), 0, 3, v1::DTYPE_BF16, input, nullptr);
  model->Release();
  for (auto* p : {&blocker, &a, &b, &c}) ASSERT_TRUE((*p)->WaitFor(absl::Seconds(10)));
  EXPECT_EQ(model->batch_sizes(), (std::vector<uint64_t>{1, 35, 3}));
  EXPECT_EQ(Ids(*a), (std::vector<int32_t>{102, 103, 104, 105, 106}));
  std::vector<int32_t> expected_b;
  for (int i = 0; i < 30; ++i) expected_b.push_back(200 + i);
  EXPECT_EQ(Ids(*b), expected_b);
  EXPECT_EQ(Ids(*c), (std::vector<int32_t>{300, 301, 302}));
}

TEST(PredictQueueTest, RowBudgetSplitsBatches) {
  auto model = std::make_shared<RecordingModel>();
  PredictQueue queue({/*max_batch_rows=*/20});
  const std::vector<v1::Matrix> input = {v1::MATRIX_INPUT_EMBEDDINGS};
  auto blocker = queue.Submit(model, Prepared(0, 1), 0, 1, v1::DTYPE_FP32, input, nullptr);
  model->WaitForFirstBatch();
  std::vector<std::shared_ptr<PendingRows>> pending;
  for (int i = 0; i < 5; ++i) {
    pending.push_back(
        queue.Submit(model, Prepared(10 * i, 8), 0, 8, v1::DTYPE_FP32, input, nullptr));
  }
  model->Release();
  for (auto& p : pending) ASSERT_TRUE(p->WaitFor(absl::Seconds(10)));
  EXPECT_EQ(model->batch_sizes(), (std::vector<uint64_t>{1, 16, 16, 8}));
}

TEST(PredictQueueTest, CancelledSubmissionsAreDroppedUnrun) {
  auto model = std::make_shared<RecordingModel>();
  PredictQueue queue({100});
  const std::vector<v1::Matrix> input = {v1::MATRIX_INPUT_EMBEDDINGS};
  auto blocker = queue.Submit(model, Prepared(0, 1), 0, 1, v1::DTYPE_FP32, input, nullptr);
  model->WaitForFirstBatch();
  auto cancel = std::make_shared<CancelFlag>(false);
  auto dropped = queue.Submit(model, Prepared(0, 50), 0, 50, v1::DTYPE_FP32, input, cancel);
  auto kept = queue.Submit(model, Prepared(0, 7), 0, 7, v1::DTYPE_FP32, input, nullptr);
  *cancel = true;
  model->Release();
  ASSERT_TRUE(dropped->WaitFor(absl::Seconds(10)));
  ASSERT_TRUE(kept->WaitFor(absl::Seconds(10)));
  EXPECT_EQ(dropped->result().status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(kept->result().ok());
  EXPECT_EQ(model->batch_sizes(), (std::vector<uint64_t>{1, 7}));
  EXPECT_EQ(queue.rows_dropped(), 50u);
}

TEST(PredictQueueTest, ShutdownFailsQueuedWork) {
  auto model = std::make_shared<RecordingModel>();
  auto queue = std::make_unique<PredictQueue>(PredictQueueOptions{100});
  const std::vector<v1::Matrix> input = {v1::MATRIX_INPUT_EMBEDDINGS};
  queue->Shutdown();
  auto late = queue->Submit(model, Prepared(0, 1), 0, 1, v1::DTYPE_FP32, input, nullptr);
  ASSERT_TRUE(late->WaitFor(absl::Seconds(1)));
  EXPECT_EQ(late->result().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace zett::server
