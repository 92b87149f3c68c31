// Checks of zett.v1 requests against the model and the service limits, before any work is done.
// INVALID_ARGUMENT / RESOURCE_EXHAUSTED messages name the field ("options.matrices[1]",
// "token_list.tokens[17]") and the offending value.
#ifndef ZETT_SERVER_REQUEST_VALIDATION_H_
#define ZETT_SERVER_REQUEST_VALIDATION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "proto/zett/v1/zett.pb.h"
#include "server/service_options.h"
#include "server/transfer_engine.h"

namespace zett::server {

// Options with every default filled in: dtype, matrices (in wire order), special-token policy,
// rows_per_chunk (bounded so that a RowBlock message stays under limits.max_message_bytes).
struct ResolvedOptions {
  v1::TransferOptions proto;  // the resolved values, also the cache-key input
  std::vector<v1::Matrix> matrices;
  PrepareOptions prepare;
  uint64_t rows_per_block = 0;
};

absl::StatusOr<ResolvedOptions> ResolveOptions(const v1::TransferOptions& options,
                                               const std::string& model_name,
                                               const ModelMetadata& metadata,
                                               const ServiceLimits& limits);

// The tokenizer of a Transfer request, checked for presence, vocabulary size and total bytes of
// the tokens (token lists only; tokenizer files are checked after parsing by CheckPrepared). A
// single long token is accepted: its decomposition is truncated to hn_surface_maxlen pieces.
absl::StatusOr<TokenizerInput> TokenizerInputFromRequest(const v1::TransferRequest& request,
                                                         const ServiceLimits& limits);
absl::StatusOr<TokenizerInput> TokenizerInputFromList(const v1::TokenList& list,
                                                      const std::string& field, uint64_t max_tokens,
                                                      const ServiceLimits& limits);

// Limits on the parsed vocabulary (size, total surface-form bytes), and the engine's shape contract
// (INTERNAL if broken).
absl::Status CheckPrepared(const PreparedTransfer& prepared, const ServiceLimits& limits);

}  // namespace zett::server

#endif  // ZETT_SERVER_REQUEST_VALIDATION_H_
