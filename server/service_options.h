// Limits and policies of the zett.v1 service. Every limit, when exceeded, is answered with
// RESOURCE_EXHAUSTED and a message naming the limit and the offending value.
#ifndef ZETT_SERVER_SERVICE_OPTIONS_H_
#define ZETT_SERVER_SERVICE_OPTIONS_H_

#include <cstdint>
#include <string>

namespace zett::server {

struct ServiceLimits {
  uint64_t max_request_bytes = 64ull << 20;  // also gRPC's max receive message size
  // Tokens in the final vocabulary: room for Gemma 3 (262,228 after byte-level conversion).
  uint64_t max_vocab = 1ull << 19;
  // Bytes of all surface forms together. One token has no limit of its own: real tokenizers have
  // 2 KiB runs of spaces or dashes, and its decomposition is truncated to hn_surface_maxlen pieces.
  uint64_t max_surface_bytes = 64ull << 20;
  int max_concurrent_requests = 8;          // Transfer + PredictTokens in flight
  uint64_t max_predict_tokens = 4096;       // tokens of one PredictTokens call
  uint64_t max_message_bytes = 4ull << 20;  // every response message (gRPC's default receive)
};

struct ServiceOptions {
  ServiceLimits limits;
  // When non-empty, every zett.v1 call must send "authorization: Bearer <token>" (health and
  // reflection stay open so that probes work).
  std::string bearer_token;
  // Device batches of one Transfer (each up to the predict queue's max_batch_rows, then cut into
  // messages) queued ahead of the one being written: overlaps prediction with streaming while
  // bounding the host memory one request holds.
  int batches_ahead = 2;
  // A Transfer stream whose client has not taken one message for this long is cut and its
  // admission slot freed (0: never).
  double write_timeout_seconds = 30;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_SERVICE_OPTIONS_H_
