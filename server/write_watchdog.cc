#include "server/write_watchdog.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace zett::server {

WriteWatchdog::WriteWatchdog(absl::Duration timeout) : timeout_(timeout) {
  if (timeout_ > absl::ZeroDuration()) thread_ = std::thread([this] { Run(); });
}

WriteWatchdog::~WriteWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t WriteWatchdog::Add(grpc::ServerContext* context) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t id = next_id_++;
  writes_[id] = Entry{context, absl::Now() + timeout_};
  return id;
}

void WriteWatchdog::Remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  writes_.erase(id);
}

bool WriteWatchdog::TimedOut(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = writes_.find(id);
  return it != writes_.end() && it->second.timed_out;
}

uint64_t WriteWatchdog::streams_cut() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return streams_cut_;
}

void WriteWatchdog::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    const absl::Time now = absl::Now();
    for (auto& [id, entry] : writes_) {
      if (!entry.timed_out && now >= entry.deadline) {
        entry.timed_out = true;
        ++streams_cut_;
        entry.context->TryCancel();
      }
    }
    // Late by at most a tenth of the timeout (and 100 ms), never busy.
    const absl::Duration tick = std::min(timeout_ / 10, absl::Milliseconds(100));
    wake_.wait_for(lock, absl::ToChronoMilliseconds(std::max(tick, absl::Milliseconds(1))));
  }
}

WriteWatchdog::Watch::Watch(WriteWatchdog* watchdog, grpc::ServerContext* context)
    : watchdog_(watchdog != nullptr && watchdog->timeout_ > absl::ZeroDuration() ? watchdog
                                                                                 : nullptr) {
  if (watchdog_ != nullptr) id_ = watchdog_->Add(context);
}

WriteWatchdog::Watch::~Watch() {
  if (watchdog_ != nullptr) watchdog_->Remove(id_);
}

bool WriteWatchdog::Watch::timed_out() const {
  return watchdog_ != nullptr && watchdog_->TimedOut(id_);
}

}  // namespace zett::server
