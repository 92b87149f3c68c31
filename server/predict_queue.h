// The one predict queue: a single worker thread owns the device and serves row ranges submitted
// by all concurrent requests, in arrival order, concatenating adjacent compatible submissions
// (same model, dtype, matrices and language) into one batch of up to max_batch_rows rows, so that
// small requests share a forward pass instead of each paying for one.
#ifndef ZETT_SERVER_PREDICT_QUEUE_H_
#define ZETT_SERVER_PREDICT_QUEUE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/transfer_engine.h"

namespace zett::server {

// Shared by a request and its queued work: set it to drop work not yet started.
using CancelFlag = std::atomic<bool>;

// The result of one submission; Wait*() from the submitting thread only.
class PendingRows {
 public:
  // True once the result is ready.
  bool WaitFor(absl::Duration timeout);
  // Valid after WaitFor() returned true: one string per requested matrix, [num_rows, cols].
  const absl::StatusOr<RowBatchOutput>& result() const { return result_; }
  // Moves the result out (rows can be hundreds of MB; avoids a copy).
  absl::StatusOr<RowBatchOutput> TakeResult() { return std::move(result_); }
  double queue_seconds() const { return queue_seconds_; }
  double predict_seconds() const { return predict_seconds_; }

 private:
  friend class PredictQueue;
  std::mutex mutex_;
  std::condition_variable done_cv_;
  bool done_ = false;
  absl::StatusOr<RowBatchOutput> result_;
  double queue_seconds_ = 0;
  double predict_seconds_ = 0;
};

struct PredictQueueOptions {
  uint64_t max_batch_rows = 4096;
};

class PredictQueue {
 public:
  explicit PredictQueue(PredictQueueOptions options);
  ~PredictQueue();  // Shutdown()

  // Queues rows [first_row, first_row + num_rows) of `prepared`. The model and the prepared
  // transfer stay alive until the work is done or dropped.
  std::shared_ptr<PendingRows> Submit(std::shared_ptr<const LoadedModel> model,
                                      std::shared_ptr<const PreparedTransfer> prepared,
                                      uint64_t first_row, uint64_t num_rows, v1::DType dtype,
                                      std::vector<v1::Matrix> matrices,
                                      std::shared_ptr<CancelFlag> cancel);

  // Fails queued work with UNAVAILABLE and stops the worker.
  void Shutdown();

  // Rows of the largest batch it runs; a submission larger than this runs alone.
  uint64_t max_batch_rows() const { return options_.max_batch_rows; }

  // Counters for metrics and tests.
  uint64_t batches_run() const { return batches_run_; }
  uint64_t rows_predicted() const { return rows_predicted_; }
  uint64_t rows_dropped() const { return rows_dropped_; }

 private:
  struct Item {
    std::shared_ptr<const LoadedModel> model;
    std::shared_ptr<const PreparedTransfer> prepared;
    uint64_t first_row = 0;
    uint64_t num_rows = 0;
    v1::DType dtype = v1::DTYPE_FP32;
    std::vector<v1::Matrix> matrices;
    std::shared_ptr<CancelFlag> cancel;
    std::shared_ptr<PendingRows> pending;
    absl::Time enqueued;
  };

  void Run();
  void RunBatch(std::vector<Item>& items);
  static void Complete(Item& item, absl::StatusOr<RowBatchOutput> result, double predict_seconds);

  const PredictQueueOptions options_;
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::atomic<uint64_t> batches_run_{0};
  std::atomic<uint64_t> rows_predicted_{0};
  std::atomic<uint64_t> rows_dropped_{0};
  std::thread worker_;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_PREDICT_QUEUE_H_
