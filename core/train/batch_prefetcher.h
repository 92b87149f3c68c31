// Builds training batches ahead of the device on a pool of CPU threads and hands them over in
// step order. Worker w builds the steps s with s % W == w (W workers), so a producer whose state
// is per worker (a tokenizer sampler) stays a pure function of (seed, step, W), also across a
// resume; at most `capacity` steps are built ahead of the consumer.
#ifndef ZETT_CORE_TRAIN_BATCH_PREFETCHER_H_
#define ZETT_CORE_TRAIN_BATCH_PREFETCHER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/train/zett_batch.h"

namespace zett {

class BatchPrefetcher {
 public:
  // produce(step, worker): called on worker `worker`'s thread, for its steps in order.
  using Producer = std::function<absl::StatusOr<ZettBatch>(int64_t step, int worker)>;
  BatchPrefetcher(Producer produce, int64_t first, int64_t end, size_t capacity, int workers = 1);
  // Stops and joins the workers, also while they wait on a full queue.
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next step's batch; OUT_OF_RANGE after `end`, or the producer's first error.
  absl::StatusOr<ZettBatch> Next();
  // Seconds Next() spent waiting for a batch (the device starved by the CPU), summed.
  double wait_seconds() const { return wait_seconds_; }
  int workers() const { return workers_; }

 private:
  void Run(int worker);
  Producer produce_;
  int64_t next_, end_;
  size_t capacity_;
  const int64_t first_;
  const int workers_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int64_t, absl::StatusOr<ZettBatch>> ready_;  // step -> batch
  bool stop_ = false;
  double wait_seconds_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_BATCH_PREFETCHER_H_
