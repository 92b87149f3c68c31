// Cuts streams whose client stopped reading. A synchronous gRPC Write blocks while the client's
// flow-control window is full; a client that reads the header and then nothing would hold its
// handler thread and admission slot forever. One thread watches every write in flight and
// cancels the call (ServerContext::TryCancel, safe from any thread) when one has blocked longer
// than the timeout; the blocked Write then returns false.
#ifndef ZETT_SERVER_WRITE_WATCHDOG_H_
#define ZETT_SERVER_WRITE_WATCHDOG_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include "absl/time/time.h"
#include "grpcpp/server_context.h"

namespace zett::server {

class WriteWatchdog {
 public:
  // timeout <= 0: writes are never cut.
  explicit WriteWatchdog(absl::Duration timeout);
  ~WriteWatchdog();
  WriteWatchdog(const WriteWatchdog&) = delete;
  WriteWatchdog& operator=(const WriteWatchdog&) = delete;

  // Watches one write for as long as it lives.
  class Watch {
   public:
    Watch(WriteWatchdog* watchdog, grpc::ServerContext* context);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    // True when the watchdog cancelled the call because this write took too long.
    bool timed_out() const;

   private:
    WriteWatchdog* watchdog_;
    uint64_t id_ = 0;
  };

  absl::Duration timeout() const { return timeout_; }
  uint64_t streams_cut() const;

 private:
  struct Entry {
    grpc::ServerContext* context;
    absl::Time deadline;
    bool timed_out = false;
  };
  uint64_t Add(grpc::ServerContext* context);
  void Remove(uint64_t id);
  bool TimedOut(uint64_t id) const;
  void Run();

  const absl::Duration timeout_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<uint64_t, Entry> writes_;
  uint64_t next_id_ = 1;
  uint64_t streams_cut_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_WRITE_WATCHDOG_H_
