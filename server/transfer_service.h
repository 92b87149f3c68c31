// zett.v1.TokenizerTransfer: RPC glue over the model repository, the predict queue, the result
// cache and the metrics. absl::Status inside, grpc::Status only at the method boundary.
#ifndef ZETT_SERVER_TRANSFER_SERVICE_H_
#define ZETT_SERVER_TRANSFER_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "proto/zett/v1/zett.grpc.pb.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/predict_queue.h"
#include "server/request_validation.h"
#include "server/result_cache.h"
#include "server/service_options.h"
#include "server/write_watchdog.h"

namespace zett::server {

// The streamed flavour of the service, so that every handler parses its own request: a body
// that is not a valid message gets INVALID_ARGUMENT naming the message type (gRPC's own parse
// answers INTERNAL with no message at all).
class TransferService final : public v1::TokenizerTransfer::StreamedService {
 public:
  TransferService(ServiceOptions options, const ModelRepository* repository, PredictQueue* queue,
                  ResultCache* cache, ServerMetrics* metrics);

  grpc::Status StreamedTransfer(
      grpc::ServerContext* context,
      grpc::ServerSplitStreamer<v1::TransferRequest, v1::TransferResponse>* stream) override;
  grpc::Status StreamedPredictTokens(
      grpc::ServerContext* context,
      grpc::ServerUnaryStreamer<v1::PredictTokensRequest, v1::PredictTokensResponse>* stream)
      override;
  grpc::Status StreamedListModels(
      grpc::ServerContext* context,
      grpc::ServerUnaryStreamer<v1::ListModelsRequest, v1::ListModelsResponse>* stream) override;
  grpc::Status StreamedGetModel(
      grpc::ServerContext* context,
      grpc::ServerUnaryStreamer<v1::GetModelRequest, v1::ModelInfo>* stream) override;

 private:
  // What both a ServerWriter and a split streamer are: the reply stream of Transfer.
  using ResponseWriter = grpc::internal::WriterInterface<v1::TransferResponse>;

  grpc::Status Transfer(grpc::ServerContext* context, const v1::TransferRequest& request,
                        ResponseWriter* writer);
  grpc::Status PredictTokens(grpc::ServerContext* context, const v1::PredictTokensRequest& request,
                             v1::PredictTokensResponse* response);
  grpc::Status ListModels(grpc::ServerContext* context, v1::ListModelsResponse* response);
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest& request,
                        v1::ModelInfo* response);
  // Reads a unary call's request, runs `handle` on it and writes its reply when it succeeds.
  template <typename Request, typename Response, typename Handle>
  grpc::Status ServeUnary(const char* method, grpc::ServerContext* context,
                          grpc::ServerUnaryStreamer<Request, Response>* stream, Handle handle);
  // The answer to a request body that does not parse (or to a client gone before it arrived).
  grpc::Status Unreadable(const char* method, grpc::ServerContext* context,
                          const std::string& message_type);

  absl::Status DoTransfer(grpc::ServerContext* context, const v1::TransferRequest& request,
                          ResponseWriter* writer, uint64_t* rows_out);
  absl::Status DoPredictTokens(grpc::ServerContext* context,
                               const v1::PredictTokensRequest& request,
                               v1::PredictTokensResponse* response);
  absl::Status CheckAuth(const grpc::ServerContext* context) const;
  // The limits every request is checked against, as GetModel / ListModels report them.
  v1::ServingLimits Limits() const;
  // RESOURCE_EXHAUSTED when `rows` rows of the requested matrices would not fit one reply.
  static absl::Status CheckReplyFits(uint64_t rows, const ModelMetadata& metadata,
                                     const ResolvedOptions& options, uint64_t max_message_bytes);
  // All rows of `prepared`, queued as device batches of at most max_batch_rows, one at a time.
  absl::StatusOr<RowBatchOutput> PredictInDeviceBatches(
      grpc::ServerContext* context, std::shared_ptr<const LoadedModel> model,
      std::shared_ptr<const PreparedTransfer> prepared, const ResolvedOptions& options);
  // Waits for queued rows while watching for cancellation and the deadline; on either, sets
  // `cancel` so that queued rows are dropped.
  absl::Status AwaitRows(grpc::ServerContext* context, PendingRows& pending,
                         CancelFlag& cancel) const;
  grpc::Status Finish(const std::string& method, const absl::Status& status, absl::Time start,
                      const std::string& model, uint64_t rows);

  const ServiceOptions options_;
  const ModelRepository* repository_;
  PredictQueue* queue_;
  ResultCache* cache_;
  ServerMetrics* metrics_;
  std::atomic<int> active_{0};
  WriteWatchdog watchdog_;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_TRANSFER_SERVICE_H_
