#include "server/predict_queue.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace zett::server {

bool PendingRows::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return done_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [this] { return done_; });
}

PredictQueue::PredictQueue(PredictQueueOptions options)
    : options_(options), worker_([this] { Run(); }) {}

PredictQueue::~PredictQueue() { Shutdown(); }

std::shared_ptr<PendingRows> PredictQueue::Submit(std::shared_ptr<const LoadedModel> model,
                                                  std::shared_ptr<const PreparedTransfer> prepared,
                                                  uint64_t first_row, uint64_t num_rows,
                                                  v1::DType dtype, std::vector<v1::Matrix> matrices,
                                                  std::shared_ptr<CancelFlag> cancel) {
  Item item;
  item.model = std::move(model);
  item.prepared = std::move(prepared);
  item.first_row = first_row;
  item.num_rows = num_rows;
  item.dtype = dtype;
  item.matrices = std::move(matrices);
  item.cancel = std::move(cancel);
  item.pending = std::make_shared<PendingRows>();
  item.enqueued = absl::Now();
  std::shared_ptr<PendingRows> pending = item.pending;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      Complete(item, absl::UnavailableError("the predict queue is shutting down"), 0);
      return pending;
    }
    queue_.push_back(std::move(item));
  }
  work_cv_.notify_one();
  return pending;
}

void PredictQueue::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (Item& item : queue_) {
    Complete(item, absl::UnavailableError("the predict queue is shutting down"), 0);
  }
  queue_.clear();
}

void PredictQueue::Complete(Item& item, absl::StatusOr<RowBatchOutput> result,
                            double predict_seconds) {
  PendingRows& pending = *item.pending;
  {
    std::lock_guard<std::mutex> lock(pending.mutex_);
    pending.result_ = std::move(result);
    pending.queue_seconds_ = absl::ToDoubleSeconds(absl::Now() - item.enqueued) - predict_seconds;
    pending.predict_seconds_ = predict_seconds;
    pending.done_ = true;
  }
  pending.done_cv_.notify_all();
}

void PredictQueue::Run() {
  while (true) {
    std::vector<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      // Take the head, then every queued item that can share its forward pass, up to the
      // row budget. Items of other models/dtypes keep their place in the queue.
      uint64_t rows = 0;
      for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->cancel != nullptr && it->cancel->load()) {
          rows_dropped_ += it->num_rows;
          Complete(*it, absl::CancelledError("the request was cancelled before its rows ran"), 0);
          it = queue_.erase(it);
          continue;
        }
        const bool compatible =
            batch.empty() ||
            (it->model == batch.front().model && it->dtype == batch.front().dtype &&
             it->matrices == batch.front().matrices &&
             it->prepared->language_id == batch.front().prepared->language_id &&
             it->prepared->fp32_compute == batch.front().prepared->fp32_compute);
        if (compatible && (batch.empty() || rows + it->num_rows <= options_.max_batch_rows)) {
          rows += it->num_rows;
          batch.push_back(std::move(*it));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!batch.empty()) RunBatch(batch);
  }
}

void PredictQueue::RunBatch(std::vector<Item>& items) {
  const Item& head = items.front();
  RowBatch batch;
  batch.surface_maxlen = head.prepared->surface_maxlen;
  batch.language_id = head.prepared->language_id;
  batch.fp32_compute = head.prepared->fp32_compute;
  batch.dtype = head.dtype;
  batch.matrices = head.matrices;
  const uint64_t width = batch.surface_maxlen;
  for (const Item& item : items) {
    const PreparedTransfer& p = *item.prepared;
    batch.decomposition.insert(batch.decomposition.end(),
                               p.decomposition.begin() + item.first_row * width,
                               p.decomposition.begin() + (item.first_row + item.num_rows) * width);
    batch.copy_source_id.insert(batch.copy_source_id.end(),
                                p.copy_source_id.begin() + item.first_row,
                                p.copy_source_id.begin() + item.first_row + item.num_rows);
    batch.num_rows += item.num_rows;
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<RowBatchOutput> output = head.model->Predict(batch);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  ++batches_run_;
  rows_predicted_ += batch.num_rows;
  if (output.ok() && output->data.size() != batch.matrices.size()) {
    output =
        absl::InternalError(absl::StrCat("Predict returned ", output->data.size(), " matrices for ",
                                         batch.matrices.size(), " requested"));
  }
  if (!output.ok()) {
    for (Item& item : items) Complete(item, output.status(), seconds);
    return;
  }
  // Split each matrix's [num_rows, cols] bytes back to the submissions, in order.
  std::vector<size_t> row_bytes(batch.matrices.size());
  for (size_t m = 0; m < batch.matrices.size(); ++m) {
    if (output->data[m].size() % batch.num_rows != 0) {
      for (Item& item : items) {
        Complete(item, absl::InternalError("Predict returned a ragged matrix"), seconds);
      }
      return;
    }
    row_bytes[m] = output->data[m].size() / batch.num_rows;
  }
  if (items.size() == 1) {  // the common large-transfer case: no split, no copy
    Complete(items.front(), std::move(output), seconds);
    return;
  }
  uint64_t offset = 0;
  for (Item& item : items) {
    RowBatchOutput part;
    for (size_t m = 0; m < batch.matrices.size(); ++m) {
      part.data.push_back(
          output->data[m].substr(offset * row_bytes[m], item.num_rows * row_bytes[m]));
    }
    offset += item.num_rows;
    Complete(item, std::move(part), seconds);
  }
}

}  // namespace zett::server
