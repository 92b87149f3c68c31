// TensorBoard event files (`tensorboard --logdir DIR`) with scalar summaries, written without
// TensorFlow or protobuf: each record is TFRecord-framed (uint64 length, masked CRC-32C of the
// length, the bytes, masked CRC-32C of the bytes; little-endian) and holds a tensorflow.Event
// proto encoded by hand: wall_time (1, double), step (2, int64), file_version (3, string) or
// summary (5) { value (1) { tag (1, string), simple_value (2, float) } }.
#ifndef ZETT_CORE_TRAIN_TENSORBOARD_WRITER_H_
#define ZETT_CORE_TRAIN_TENSORBOARD_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zett {

class TensorBoardWriter {
 public:
  // Creates `dir` if needed and a new events.out.tfevents.<unix seconds>.<hostname> in it (with
  // a numeric suffix if that name is taken), starting with the "brain.Event:2" version event.
  static absl::StatusOr<TensorBoardWriter> Open(const std::string& dir);

  // One scalar at `step`, stamped with the current wall time. TensorBoard groups tags by their
  // prefix up to '/', e.g. "train/loss". Buffered until Flush() or destruction.
  absl::Status AddScalar(absl::string_view tag, int64_t step, double value);
  absl::Status Flush();

  const std::string& path() const { return path_; }

 private:
  TensorBoardWriter(std::string path, std::unique_ptr<std::ofstream> file)
      : path_(std::move(path)), file_(std::move(file)) {}
  absl::Status Write(const std::string& event);

  std::string path_;
  std::unique_ptr<std::ofstream> file_;
};

// The pieces, exposed for tests.
uint32_t Crc32c(const char* data, size_t size);
uint32_t MaskedCrc32c(const char* data, size_t size);  // TFRecord's rotate-and-add mask
std::string TfRecord(absl::string_view data);
std::string FileVersionEvent(double wall_time);
std::string ScalarEvent(double wall_time, int64_t step, absl::string_view tag, float value);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_TENSORBOARD_WRITER_H_
