#include "core/train/batch_prefetcher.h"

#include <algorithm>
#include <chrono>

namespace zett {

BatchPrefetcher::BatchPrefetcher(Producer produce, int64_t first, int64_t end, size_t capacity,
                                 int workers)
    : produce_(std::move(produce)),
      next_(first),
      end_(end),
      capacity_(std::max<size_t>(1, capacity)),
      first_(first),
      workers_(std::max(1, workers)) {
  for (int w = 0; w < workers_; ++w) threads_.emplace_back([this, w] { Run(w); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void BatchPrefetcher::Run(int worker) {
  // Steps by their absolute number (step % W == w): a resumed run gives each step the worker
  // (and so the sampler) the uninterrupted run gave it.
  int64_t step = first_ + ((worker - first_ % workers_) % workers_ + workers_) % workers_;
  for (; step < end_; step += workers_) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Not more than `capacity` steps ahead of the consumer.
      changed_.wait(lock, [&] { return stop_ || step < next_ + static_cast<int64_t>(capacity_); });
      if (stop_) return;
    }
    absl::StatusOr<ZettBatch> batch = produce_(step, worker);
    if (batch.ok()) batch->step = step;
    const bool failed = !batch.ok();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(step, std::move(batch));
    }
    changed_.notify_all();
    if (failed) return;
  }
}

absl::StatusOr<ZettBatch> BatchPrefetcher::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_ >= end_) return absl::OutOfRangeError("prefetcher: no steps left");
  const auto start = std::chrono::steady_clock::now();
  changed_.wait(lock, [this] { return ready_.count(next_) > 0; });
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto it = ready_.find(next_);
  absl::StatusOr<ZettBatch> batch = std::move(it->second);
  ready_.erase(it);
  ++next_;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace zett
