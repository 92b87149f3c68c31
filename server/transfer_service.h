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

class TransferService final : public v1::TokenizerTransfer::Service {
 public:
  TransferService(ServiceOptions options, const ModelRepository* repository, PredictQueue* queue,
                  ResultCache* cache, ServerMetrics* metrics);

  grpc::Status Transfer(grpc::ServerContext* context, const v1::TransferRequest* request,
                        grpc::ServerWriter<v1::TransferResponse>* writer) override;
  grpc::Status PredictTokens(grpc::ServerContext* context, const v1::PredictTokensRequest* request,
                             v1::PredictTokensResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::ModelInfo* response) override;

 private:
  absl::Status DoTransfer(grpc::ServerContext* context, const v1::TransferRequest& request,
                          grpc::ServerWriter<v1::TransferResponse>* writer, uint64_t* rows_out);
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
