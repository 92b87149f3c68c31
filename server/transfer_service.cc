#include "server/transfer_service.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/io/sha256.h"
#include "core/util/status_macros.h"
#include "proto/wire/dtype_codec.h"
#include "proto/wire/status_mapping.h"
#include "server/log.h"
#include "server/request_validation.h"

namespace zett::server {
namespace {

// How often a waiting handler looks at cancellation and the deadline.
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

double SecondsSince(absl::Time start) { return absl::ToDoubleSeconds(absl::Now() - start); }

// Prepare's options with the call's cancellation and deadline wired in (polled on this handler
// thread while the tokenizer is parsed and decomposed).
PrepareOptions InterruptiblePrepare(const PrepareOptions& options,
                                    const grpc::ServerContext* context) {
  PrepareOptions out = options;
  out.interrupt = [context]() -> absl::Status {
    // The deadline first: gRPC also marks an expired call cancelled.
    if (std::chrono::system_clock::now() > context->deadline()) {
      return absl::DeadlineExceededError(
          "the deadline passed while the tokenizer was being prepared");
    }
    if (context->IsCancelled()) {
      return absl::CancelledError("the client cancelled the call while the tokenizer was prepared");
    }
    return absl::OkStatus();
  };
  return out;
}

// Admission control over Transfer + PredictTokens: RESOURCE_EXHAUSTED beyond the limit.
class Admission {
 public:
  Admission(std::atomic<int>* active, int limit, ServerMetrics* metrics)
      : active_(active), metrics_(metrics), admitted_(++*active <= limit) {
    if (admitted_) {
      metrics_->AddInflight(1);
    } else {
      --*active_;
    }
  }
  ~Admission() {
    if (admitted_) {
      --*active_;
      metrics_->AddInflight(-1);
    }
  }
  bool admitted() const { return admitted_; }

 private:
  std::atomic<int>* active_;
  ServerMetrics* metrics_;
  const bool admitted_;
};

void FillTokenEntry(uint64_t id, const TokenInfo& info, v1::TokenEntry* entry) {
  entry->set_id(static_cast<uint32_t>(id));
  entry->set_token(info.token);
  entry->set_special(info.special);
  entry->set_truncated(info.truncated);
  entry->set_added(info.added);
  entry->set_copied(info.copied);
}

// Writes messages to the client and, while the stream stays small enough, keeps copies for the
// result cache.
class StreamWriter {
 public:
  StreamWriter(grpc::internal::WriterInterface<v1::TransferResponse>* writer,
               grpc::ServerContext* context, WriteWatchdog* watchdog, bool keep)
      : writer_(writer), context_(context), watchdog_(watchdog), keep_(keep) {}

  absl::Status Write(v1::TransferResponse message) {
    const absl::Time start = absl::Now();
    bool ok, timed_out;
    {
      WriteWatchdog::Watch watch(watchdog_, context_);
      ok = writer_->Write(message);
      timed_out = watch.timed_out();
    }
    write_seconds_ += SecondsSince(start);
    if (timed_out) {
      return absl::DeadlineExceededError(absl::StrCat("the client took no message for ",
                                                      absl::FormatDuration(watchdog_->timeout()),
                                                      " (write_timeout_seconds): stream cut"));
    }
    if (!ok) return absl::CancelledError("the client closed the stream");
    if (keep_) {
      kept_.bytes += message.ByteSizeLong();
      kept_.messages.push_back(std::move(message));
    }
    return absl::OkStatus();
  }

  CachedTransfer TakeKept() { return std::move(kept_); }
  double write_seconds() const { return write_seconds_; }

 private:
  grpc::internal::WriterInterface<v1::TransferResponse>* writer_;
  grpc::ServerContext* context_;
  WriteWatchdog* watchdog_;
  const bool keep_;
  CachedTransfer kept_;
  double write_seconds_ = 0;
};

}  // namespace

TransferService::TransferService(ServiceOptions options, const ModelRepository* repository,
                                 PredictQueue* queue, ResultCache* cache, ServerMetrics* metrics)
    : options_(std::move(options)),
      repository_(repository),
      queue_(queue),
      cache_(cache),
      metrics_(metrics),
      watchdog_(absl::Seconds(options_.write_timeout_seconds)) {}

absl::Status TransferService::CheckAuth(const grpc::ServerContext* context) const {
  if (options_.bearer_token.empty()) return absl::OkStatus();
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  const std::string value(it->second.data(), it->second.size());
  if (value != "Bearer " + options_.bearer_token) {
    return absl::UnauthenticatedError("the bearer token is not accepted");
  }
  return absl::OkStatus();
}

v1::ServingLimits TransferService::Limits() const {
  const ServiceLimits& l = options_.limits;
  v1::ServingLimits out;
  out.set_max_request_bytes(l.max_request_bytes);
  out.set_max_vocab(l.max_vocab);
  out.set_max_surface_bytes(l.max_surface_bytes);
  out.set_max_predict_tokens(l.max_predict_tokens);
  out.set_max_message_bytes(l.max_message_bytes);
  out.set_max_batch_rows(queue_->max_batch_rows());
  out.set_max_concurrent_requests(static_cast<uint32_t>(l.max_concurrent_requests));
  out.set_write_timeout_seconds(options_.write_timeout_seconds);
  return out;
}

absl::Status TransferService::CheckReplyFits(uint64_t rows, const ModelMetadata& metadata,
                                             const ResolvedOptions& options,
                                             uint64_t max_message_bytes) {
  uint64_t row_bytes = 0;
  for (v1::Matrix m : options.matrices) {
    row_bytes += MatrixCols(metadata, m) * wire::DTypeSize(options.proto.dtype());
  }
  if ((row_bytes + 64) * rows > max_message_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tokens: ", rows, " rows need about ", row_bytes * rows, " bytes, over the ",
                     max_message_bytes, "-byte message limit; use Transfer with a token_list"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RowBatchOutput> TransferService::PredictInDeviceBatches(
    grpc::ServerContext* context, std::shared_ptr<const LoadedModel> model,
    std::shared_ptr<const PreparedTransfer> prepared, const ResolvedOptions& options) {
  // One device batch at a time, each queued after the previous one finished, so that other
  // requests' work runs in between: no PredictTokens call holds the device for long.
  RowBatchOutput output;
  output.data.resize(options.matrices.size());
  auto cancel = std::make_shared<CancelFlag>(false);
  const uint64_t batch_rows = std::max<uint64_t>(queue_->max_batch_rows(), 1);
  double queue_seconds = 0, predict_seconds = 0;
  for (uint64_t first = 0; first < prepared->num_rows(); first += batch_rows) {
    const uint64_t rows = std::min(batch_rows, prepared->num_rows() - first);
    std::shared_ptr<PendingRows> pending = queue_->Submit(
        model, prepared, first, rows, options.proto.dtype(), options.matrices, cancel);
    RETURN_IF_ERROR(AwaitRows(context, *pending, *cancel));
    queue_seconds += pending->queue_seconds();
    predict_seconds += pending->predict_seconds();
    absl::StatusOr<RowBatchOutput> batch = pending->TakeResult();
    for (size_t m = 0; m < output.data.size(); ++m) output.data[m] += batch->data[m];
  }
  metrics_->ObservePhase("PredictTokens", "queue", queue_seconds);
  metrics_->ObservePhase("PredictTokens", "predict", predict_seconds);
  return output;
}

absl::Status TransferService::AwaitRows(grpc::ServerContext* context, PendingRows& pending,
                                        CancelFlag& cancel) const {
  while (!pending.WaitFor(kPollInterval)) {
    if (std::chrono::system_clock::now() > context->deadline()) {
      cancel = true;
      return absl::DeadlineExceededError("the deadline passed while rows were being predicted");
    }
    if (context->IsCancelled()) {
      cancel = true;
      return absl::CancelledError("the client cancelled the call");
    }
  }
  return pending.result().status();
}

grpc::Status TransferService::Finish(const std::string& method, const absl::Status& status,
                                     absl::Time start, const std::string& model, uint64_t rows) {
  const grpc::Status grpc_status = wire::ToGrpcStatus(status);
  const double seconds = SecondsSince(start);
  metrics_->CountRequest(method, grpc_status.error_code());
  metrics_->ObservePhase(method, "total", seconds);
  auto log = status.ok() ? &LogInfo : &LogWarning;
  log("request", {{"method", method},
                  {"model", model},
                  {"code", wire::GrpcCodeName(grpc_status.error_code())},
                  {"rows", absl::StrCat(rows)},
                  {"seconds", absl::StrCat(seconds)},
                  {"message", std::string(status.message())}});
  return grpc_status;
}

grpc::Status TransferService::Unreadable(const char* method, grpc::ServerContext* context,
                                         const std::string& message_type) {
  absl::Status status = CheckAuth(context);  // a refused caller learns nothing about parsing
  if (status.ok()) {
    status = context->IsCancelled()
                 ? absl::CancelledError("the client went away before its request arrived")
                 : absl::InvalidArgumentError(
                       absl::StrCat("request body is not a valid ", message_type, " message"));
  }
  return Finish(method, status, absl::Now(), "", 0);
}

template <typename Request, typename Response, typename Handle>
grpc::Status TransferService::ServeUnary(const char* method, grpc::ServerContext* context,
                                         grpc::ServerUnaryStreamer<Request, Response>* stream,
                                         Handle handle) {
  Request request;
  if (!stream->Read(&request)) {
    return Unreadable(method, context, Request::descriptor()->full_name());
  }
  Response response;
  const grpc::Status status = handle(request, &response);
  if (status.ok()) stream->Write(response);
  return status;
}

grpc::Status TransferService::StreamedTransfer(
    grpc::ServerContext* context,
    grpc::ServerSplitStreamer<v1::TransferRequest, v1::TransferResponse>* stream) {
  v1::TransferRequest request;
  if (!stream->Read(&request)) {
    return Unreadable("Transfer", context, v1::TransferRequest::descriptor()->full_name());
  }
  return Transfer(context, request, stream);
}

grpc::Status TransferService::StreamedPredictTokens(
    grpc::ServerContext* context,
    grpc::ServerUnaryStreamer<v1::PredictTokensRequest, v1::PredictTokensResponse>* stream) {
  return ServeUnary("PredictTokens", context, stream, [&](const auto& request, auto* response) {
    return PredictTokens(context, request, response);
  });
}

grpc::Status TransferService::StreamedListModels(
    grpc::ServerContext* context,
    grpc::ServerUnaryStreamer<v1::ListModelsRequest, v1::ListModelsResponse>* stream) {
  return ServeUnary("ListModels", context, stream,
                    [&](const auto&, auto* response) { return ListModels(context, response); });
}

grpc::Status TransferService::StreamedGetModel(
    grpc::ServerContext* context,
    grpc::ServerUnaryStreamer<v1::GetModelRequest, v1::ModelInfo>* stream) {
  return ServeUnary("GetModel", context, stream, [&](const auto& request, auto* response) {
    return GetModel(context, request, response);
  });
}

grpc::Status TransferService::Transfer(grpc::ServerContext* context,
                                       const v1::TransferRequest& request, ResponseWriter* writer) {
  const absl::Time start = absl::Now();
  Admission admission(&active_, options_.limits.max_concurrent_requests, metrics_);
  uint64_t rows = 0;
  absl::Status status;
  if (!admission.admitted()) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("server busy: ", options_.limits.max_concurrent_requests,
                     " requests in flight (max_concurrent_requests); retry with backoff"));
  } else {
    status = DoTransfer(context, request, writer, &rows);
  }
  return Finish("Transfer", status, start, request.model(), rows);
}

absl::Status TransferService::DoTransfer(grpc::ServerContext* context,
                                         const v1::TransferRequest& request, ResponseWriter* writer,
                                         uint64_t* rows_out) {
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(CheckAuth(context));
  if (request.model().empty()) return absl::InvalidArgumentError("model: empty");
  if (request.ByteSizeLong() > options_.limits.max_request_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("request of ", request.ByteSizeLong(),
                                                     " bytes, limit ",
                                                     options_.limits.max_request_bytes));
  }
  ASSIGN_OR_RETURN(const TokenizerInput input, TokenizerInputFromRequest(request, options_.limits));
  ASSIGN_OR_RETURN(const ResolvedModel resolved,
                   repository_->Resolve(request.model(), request.version()));
  const ModelMetadata& metadata = resolved.model->metadata();
  ASSIGN_OR_RETURN(const ResolvedOptions options,
                   ResolveOptions(request.options(), resolved.name, metadata, options_.limits));

  const std::string cache_key =
      TransferCacheKey(resolved.name, resolved.version, request, options.proto);
  const bool use_cache = !request.options().bypass_cache() && cache_->capacity_bytes() > 0;
  if (std::shared_ptr<const CachedTransfer> cached =
          use_cache ? cache_->Lookup(cache_key) : nullptr) {
    metrics_->CountCache(true);
    StreamWriter stream(writer, context, &watchdog_, /*keep=*/false);
    uint64_t bytes = 0;
    for (v1::TransferResponse message : cached->messages) {
      if (message.has_header()) message.mutable_header()->set_cache_hit(true);
      if (message.has_rows()) bytes += message.rows().data().size();
      if (message.has_trailer()) {
        message.mutable_trailer()->set_parse_seconds(0);
        message.mutable_trailer()->set_decompose_seconds(0);
        message.mutable_trailer()->set_predict_seconds(0);
        message.mutable_trailer()->set_queue_seconds(0);
        message.mutable_trailer()->set_stream_seconds(stream.write_seconds());
        message.mutable_trailer()->set_total_seconds(SecondsSince(start));
        *rows_out = message.trailer().rows_streamed();
      }
      RETURN_IF_ERROR(stream.Write(std::move(message)));
    }
    metrics_->AddStreamed(*rows_out, bytes);
    return absl::OkStatus();
  }
  if (use_cache) metrics_->CountCache(false);

  const absl::Time prepare_start = absl::Now();
  absl::StatusOr<PreparedTransfer> prepared_or =
      resolved.model->Prepare(input, InterruptiblePrepare(options.prepare, context));
  metrics_->ObservePhase("Transfer", "prepare", SecondsSince(prepare_start));
  if (!prepared_or.ok()) return prepared_or.status();
  RETURN_IF_ERROR(CheckPrepared(*prepared_or, options_.limits));
  prepared_or->language_id = options.prepare.language_id;
  prepared_or->fp32_compute = options.prepare.fp32_compute;
  auto prepared = std::make_shared<const PreparedTransfer>(*std::move(prepared_or));
  if (context->IsCancelled()) return absl::CancelledError("the client cancelled the call");

  const uint64_t vocab_size = prepared->num_rows();
  const v1::DType dtype = options.proto.dtype();
  std::vector<uint64_t> row_bytes;  // per requested matrix
  uint64_t expected_bytes = 0;
  for (v1::Matrix m : options.matrices) {
    row_bytes.push_back(MatrixCols(metadata, m) * wire::DTypeSize(dtype));
    expected_bytes += vocab_size * row_bytes.back();
  }
  const bool keep = use_cache && expected_bytes <= cache_->capacity_bytes();
  StreamWriter stream(writer, context, &watchdog_, keep);

  // Header, then the vocabulary in blocks that stay far below the message limit.
  v1::TransferResponse header_message;
  v1::TransferHeader* header = header_message.mutable_header();
  header->set_model(resolved.name);
  header->set_version(resolved.version);
  header->set_dtype(dtype);
  header->set_tied_embeddings(metadata.tied_embeddings);
  header->set_vocab_size(vocab_size);
  header->set_max_rows_per_block(static_cast<uint32_t>(options.rows_per_block));
  for (v1::Matrix m : options.matrices) {
    v1::MatrixShape* shape = header->add_shapes();
    shape->set_matrix(m);
    shape->set_rows(vocab_size);
    shape->set_cols(MatrixCols(metadata, m));
  }
  RETURN_IF_ERROR(stream.Write(std::move(header_message)));
  uint64_t truncated = 0;
  uint64_t added = 0;
  const uint64_t vocab_budget = options_.limits.max_message_bytes / 2;
  for (uint64_t id = 0; id < vocab_size;) {
    v1::TransferResponse message;
    v1::VocabularyBlock* block = message.mutable_vocabulary();
    block->set_first_id(id);
    uint64_t bytes = 0;
    for (; id < vocab_size && bytes < vocab_budget; ++id) {
      const TokenInfo& info = prepared->vocabulary[id];
      FillTokenEntry(id, info, block->add_tokens());
      bytes += info.token.size() + 16;
      truncated += info.truncated;
      added += info.added;
    }
    RETURN_IF_ERROR(stream.Write(std::move(message)));
  }

  // Rows: the device works on batches of whole message blocks (as many as the predict queue's
  // max_batch_rows holds), `batches_ahead` of them queued while the oldest is cut into messages,
  // hashed and written. Large batches keep the device busy; the messages stay under the limit.
  const uint64_t rows_per_block = options.rows_per_block;
  const uint64_t rows_per_batch =
      std::max<uint64_t>(1, queue_->max_batch_rows() / rows_per_block) * rows_per_block;
  auto cancel = std::make_shared<CancelFlag>(false);
  struct Batch {
    uint64_t first_row;
    uint64_t num_rows;
    std::shared_ptr<PendingRows> pending;
  };
  std::deque<Batch> batches;
  uint64_t next_row = 0;
  auto submit_more = [&] {
    while (next_row < vocab_size &&
           batches.size() < static_cast<size_t>(std::max(1, options_.batches_ahead))) {
      const uint64_t n = std::min(rows_per_batch, vocab_size - next_row);
      batches.push_back(
          {next_row, n,
           queue_->Submit(resolved.model, prepared, next_row, n, dtype, options.matrices, cancel)});
      next_row += n;
    }
  };
  // Dropping the queued rows is the job of the cancel flag, whatever the exit path.
  struct CancelOnExit {
    std::shared_ptr<CancelFlag> flag;
    ~CancelOnExit() { *flag = true; }
  } cancel_on_exit{cancel};

  // One hashing thread per matrix: hashing a batch overlaps with writing its messages.
  std::vector<std::unique_ptr<io::BackgroundSha256>> checksums;
  for (size_t m = 0; m < options.matrices.size(); ++m) {
    checksums.push_back(std::make_unique<io::BackgroundSha256>());
  }
  double queue_seconds = 0;
  double predict_seconds = 0;
  uint64_t rows_streamed = 0;
  uint64_t bytes_streamed = 0;
  submit_more();
  while (!batches.empty()) {
    Batch batch = std::move(batches.front());
    batches.pop_front();
    RETURN_IF_ERROR(AwaitRows(context, *batch.pending, *cancel));
    queue_seconds += batch.pending->queue_seconds();
    predict_seconds += batch.pending->predict_seconds();
    submit_more();
    const RowBatchOutput output = *batch.pending->TakeResult();
    for (size_t m = 0; m < options.matrices.size(); ++m) {
      if (output.data[m].size() != batch.num_rows * row_bytes[m]) {
        return absl::InternalError(absl::StrCat(
            "engine contract: ", v1::Matrix_Name(options.matrices[m]), " rows ", batch.first_row,
            "+", batch.num_rows, " came back with ", output.data[m].size(), " bytes"));
      }
    }
    // The hashers read `output` in the background: on every way out of this iteration, wait
    // for them before the bytes go.
    struct WaitForHashes {
      const std::vector<std::unique_ptr<io::BackgroundSha256>>& hashers;
      ~WaitForHashes() {
        for (const auto& hasher : hashers) hasher->Wait();
      }
    } wait_for_hashes{checksums};
    for (size_t m = 0; m < options.matrices.size(); ++m) checksums[m]->Update(output.data[m]);
    for (size_t m = 0; m < options.matrices.size(); ++m) {
      const std::string& data = output.data[m];
      for (uint64_t row = 0; row < batch.num_rows; row += rows_per_block) {
        const uint64_t n = std::min(rows_per_block, batch.num_rows - row);
        v1::TransferResponse message;
        v1::RowBlock* block = message.mutable_rows();
        block->set_matrix(options.matrices[m]);
        block->set_first_row(batch.first_row + row);
        block->set_num_rows(n);
        block->set_data(data.data() + row * row_bytes[m], n * row_bytes[m]);
        rows_streamed += n;
        bytes_streamed += n * row_bytes[m];
        metrics_->AddStreamed(n, n * row_bytes[m]);
        RETURN_IF_ERROR(stream.Write(std::move(message)));
      }
    }
  }

  v1::TransferResponse trailer_message;
  v1::TransferTrailer* trailer = trailer_message.mutable_trailer();
  for (size_t m = 0; m < options.matrices.size(); ++m) {
    v1::MatrixChecksum* checksum = trailer->add_checksums();
    checksum->set_matrix(options.matrices[m]);
    checksum->set_sha256(checksums[m]->Digest());
  }
  trailer->set_vocab_size(vocab_size);
  trailer->set_truncated_tokens(truncated);
  trailer->set_added_tokens(added);
  trailer->set_parse_seconds(prepared->parse_seconds);
  trailer->set_decompose_seconds(prepared->decompose_seconds);
  trailer->set_predict_seconds(predict_seconds);
  trailer->set_queue_seconds(queue_seconds);
  trailer->set_rows_streamed(rows_streamed);
  trailer->set_bytes_streamed(bytes_streamed);
  trailer->set_stream_seconds(stream.write_seconds());  // every message before the trailer
  trailer->set_total_seconds(SecondsSince(start));
  RETURN_IF_ERROR(stream.Write(std::move(trailer_message)));
  *rows_out = rows_streamed;

  metrics_->ObservePhase("Transfer", "queue", queue_seconds);
  metrics_->ObservePhase("Transfer", "predict", predict_seconds);
  metrics_->ObservePhase("Transfer", "stream", stream.write_seconds());
  if (keep) {
    cache_->Insert(cache_key, std::make_shared<const CachedTransfer>(stream.TakeKept()));
    metrics_->SetCacheBytes(cache_->size_bytes());
  }
  return absl::OkStatus();
}

grpc::Status TransferService::PredictTokens(grpc::ServerContext* context,
                                            const v1::PredictTokensRequest& request,
                                            v1::PredictTokensResponse* response) {
  const absl::Time start = absl::Now();
  Admission admission(&active_, options_.limits.max_concurrent_requests, metrics_);
  absl::Status status;
  if (!admission.admitted()) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("server busy: ", options_.limits.max_concurrent_requests,
                     " requests in flight (max_concurrent_requests); retry with backoff"));
  } else {
    status = DoPredictTokens(context, request, response);
  }
  return Finish("PredictTokens", status, start, request.model(), response->tokens_size());
}

absl::Status TransferService::DoPredictTokens(grpc::ServerContext* context,
                                              const v1::PredictTokensRequest& request,
                                              v1::PredictTokensResponse* response) {
  RETURN_IF_ERROR(CheckAuth(context));
  if (request.model().empty()) return absl::InvalidArgumentError("model: empty");
  ASSIGN_OR_RETURN(TokenizerInput input,
                   TokenizerInputFromList(request.tokens(), "tokens",
                                          options_.limits.max_predict_tokens, options_.limits));
  ASSIGN_OR_RETURN(const ResolvedModel resolved,
                   repository_->Resolve(request.model(), request.version()));
  const ModelMetadata& metadata = resolved.model->metadata();
  ASSIGN_OR_RETURN(const ResolvedOptions options,
                   ResolveOptions(request.options(), resolved.name, metadata, options_.limits));
  const v1::DType dtype = options.proto.dtype();
  RETURN_IF_ERROR(CheckReplyFits(input.tokens.size() + input.special_tokens.size(), metadata,
                                 options, options_.limits.max_message_bytes));

  const absl::Time prepare_start = absl::Now();
  absl::StatusOr<PreparedTransfer> prepared_or =
      resolved.model->Prepare(input, InterruptiblePrepare(options.prepare, context));
  metrics_->ObservePhase("PredictTokens", "prepare", SecondsSince(prepare_start));
  if (!prepared_or.ok()) return prepared_or.status();
  RETURN_IF_ERROR(CheckPrepared(*prepared_or, options_.limits));
  // The engine may add rows (conversion helpers): the reply is checked again on what it has.
  RETURN_IF_ERROR(CheckReplyFits(prepared_or->num_rows(), metadata, options,
                                 options_.limits.max_message_bytes));
  prepared_or->language_id = options.prepare.language_id;
  prepared_or->fp32_compute = options.prepare.fp32_compute;
  auto prepared = std::make_shared<const PreparedTransfer>(*std::move(prepared_or));

  ASSIGN_OR_RETURN(const RowBatchOutput output,
                   PredictInDeviceBatches(context, resolved.model, prepared, options));
  for (uint64_t id = 0; id < prepared->num_rows(); ++id) {
    FillTokenEntry(id, prepared->vocabulary[id], response->add_tokens());
  }
  uint64_t bytes = 0;
  for (size_t m = 0; m < options.matrices.size(); ++m) {
    v1::MatrixShape* shape = response->add_shapes();
    shape->set_matrix(options.matrices[m]);
    shape->set_rows(prepared->num_rows());
    shape->set_cols(MatrixCols(metadata, options.matrices[m]));
    v1::RowBlock* block = response->add_rows();
    block->set_matrix(options.matrices[m]);
    block->set_first_row(0);
    block->set_num_rows(prepared->num_rows());
    block->set_data(output.data[m]);
    bytes += output.data[m].size();
  }
  response->set_dtype(dtype);
  metrics_->AddStreamed(prepared->num_rows() * options.matrices.size(), bytes);
  return absl::OkStatus();
}

grpc::Status TransferService::ListModels(grpc::ServerContext* context,
                                         v1::ListModelsResponse* response) {
  const absl::Time start = absl::Now();
  absl::Status status = CheckAuth(context);
  if (status.ok()) {
    for (v1::ModelInfo& info : repository_->List()) {
      *info.mutable_limits() = Limits();
      *response->add_models() = std::move(info);
    }
  }
  return Finish("ListModels", status, start, "", 0);
}

grpc::Status TransferService::GetModel(grpc::ServerContext* context,
                                       const v1::GetModelRequest& request,
                                       v1::ModelInfo* response) {
  const absl::Time start = absl::Now();
  absl::Status status = CheckAuth(context);
  if (status.ok() && request.model().empty()) status = absl::InvalidArgumentError("model: empty");
  if (status.ok()) {
    absl::StatusOr<v1::ModelInfo> info = repository_->Info(request.model());
    if (info.ok()) {
      *response = *std::move(info);
      *response->mutable_limits() = Limits();
    } else {
      status = info.status();
    }
  }
  return Finish("GetModel", status, start, request.model(), 0);
}

}  // namespace zett::server
