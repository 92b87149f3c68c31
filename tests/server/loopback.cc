#include "tests/server/loopback.h"

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "server/request_validation.h"

namespace zett::testing {
namespace {

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

grpc::ByteBuffer StringToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// A string field of a protobuf message: tag, one-byte length, bytes.
std::string EncodeStringField(int field, const std::string& value) {
  std::string out;
  out.push_back(static_cast<char>((field << 3) | 2));
  out.push_back(static_cast<char>(value.size()));  // short values only
  return out + value;
}

}  // namespace

LoopbackServer::LoopbackServer(const std::string& root, server::ServerOptions options,
                               absl::Notification* gate, bool wait_until_loaded)
    : loader_(std::make_shared<DeterministicTestLoader>(gate)) {
  options.model_repository = root;
  options.listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<server::ZettServer>> started =
      server::ZettServer::Start(options, loader_);
  if (!started.ok()) {
    std::fprintf(stderr, "LoopbackServer: %s\n", started.status().ToString().c_str());
    std::abort();
  }
  server_ = *std::move(started);
  if (gate == nullptr && wait_until_loaded) server_->WaitUntilLoaded();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);  // the default, stated: every message must fit
  channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                       grpc::InsecureChannelCredentials(), args);
  stub_ = v1::TokenizerTransfer::NewStub(channel_);
}

LoopbackServer::~LoopbackServer() { server_->Shutdown(absl::Seconds(1)); }

StreamedTransfer RunTransfer(v1::TokenizerTransfer::Stub& stub, const v1::TransferRequest& request,
                             grpc::ClientContext* context) {
  StreamedTransfer out;
  auto reader = stub.Transfer(context, request);
  v1::TransferResponse response;
  std::map<v1::Matrix, uint64_t> next_row;
  std::map<v1::Matrix, uint64_t> cols;
  while (reader->Read(&response)) {
    out.largest_message_bytes = std::max(out.largest_message_bytes, response.ByteSizeLong());
    switch (response.part_case()) {
      case v1::TransferResponse::kHeader:
        if (out.has_header) out.order_error = "second header";
        out.has_header = true;
        out.header = response.header();
        for (const v1::MatrixShape& shape : out.header.shapes()) {
          cols[shape.matrix()] = shape.cols();
          out.matrices[shape.matrix()] = "";
        }
        break;
      case v1::TransferResponse::kVocabulary:
        if (response.vocabulary().first_id() != out.vocabulary.size()) {
          out.order_error = "vocabulary block out of order";
        }
        for (const v1::TokenEntry& e : response.vocabulary().tokens()) out.vocabulary.push_back(e);
        break;
      case v1::TransferResponse::kRows: {
        const v1::RowBlock& block = response.rows();
        if (!out.has_header || out.has_trailer || block.first_row() != next_row[block.matrix()] ||
            out.matrices.count(block.matrix()) == 0) {
          out.order_error = absl::StrCat("row block of matrix ", block.matrix(), " at row ",
                                         block.first_row(), " out of order");
        }
        next_row[block.matrix()] = block.first_row() + block.num_rows();
        out.matrices[block.matrix()] += block.data();
        break;
      }
      case v1::TransferResponse::kTrailer:
        out.has_trailer = true;
        out.trailer = response.trailer();
        break;
      default:
        out.order_error = "empty message";
    }
  }
  out.status = reader->Finish();
  return out;
}

int HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  std::unique_ptr<grpc::health::v1::Health::Stub> stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return -static_cast<int>(status.error_code());
  return static_cast<int>(response.status());
}

RawCallResult RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& body, const std::string& bearer_token) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!bearer_token.empty()) context.AddMetadata("authorization", "Bearer " + bearer_token);
  grpc::CompletionQueue cq;
  void* tag;
  bool ok;
  auto call = stub.PrepareCall(&context, method, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  call->Write(StringToByteBuffer(body), reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  RawCallResult result;
  if (ok) result.first_reply = ByteBufferToString(response);
  call->Finish(&result.status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  return result;
}

std::vector<std::string> ReflectionServices(const std::shared_ptr<grpc::Channel>& channel) {
  // ServerReflectionRequest.list_services (field 7) = "*".
  const RawCallResult call =
      RawCall(channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
              EncodeStringField(7, "*"));
  std::vector<std::string> names;
  if (!call.first_reply) return names;
  // ServerReflectionResponse.list_services_response (6) → ListServiceResponse.service (1)
  // → ServiceResponse.name (1).
  google::protobuf::UnknownFieldSet top;
  top.ParseFromString(*call.first_reply);
  for (int i = 0; i < top.field_count(); ++i) {
    if (top.field(i).number() != 6) continue;
    google::protobuf::UnknownFieldSet list;
    list.ParseFromString(top.field(i).length_delimited());
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      service.ParseFromString(list.field(j).length_delimited());
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) names.push_back(service.field(k).length_delimited());
      }
    }
  }
  return names;
}

v1::TransferRequest TokenListRequest(const std::string& model, int num_tokens) {
  v1::TransferRequest request;
  request.set_model(model);
  v1::TokenList* list = request.mutable_token_list();
  list->set_kind(v1::TOKEN_KIND_BYTE_LEVEL);
  for (int i = 0; i < num_tokens; ++i) list->add_tokens(absl::StrCat("t", i));
  return request;
}

std::map<v1::Matrix, std::string> InProcessRows(const server::LoadedModel& model,
                                                const v1::TransferRequest& request, v1::DType dtype,
                                                const std::vector<v1::Matrix>& matrices) {
  server::ServiceLimits limits;
  server::TokenizerInput input = *server::TokenizerInputFromRequest(request, limits);
  server::PrepareOptions options;
  options.special_tokens = request.options().special_tokens() == v1::SPECIAL_TOKEN_POLICY_PREDICT
                               ? v1::SPECIAL_TOKEN_POLICY_PREDICT
                               : v1::SPECIAL_TOKEN_POLICY_COPY_ORIGINAL;
  server::PreparedTransfer prepared = *model.Prepare(input, options);
  server::RowBatch batch;
  batch.num_rows = prepared.num_rows();
  batch.surface_maxlen = prepared.surface_maxlen;
  batch.decomposition = prepared.decomposition;
  batch.copy_source_id = prepared.copy_source_id;
  batch.dtype = dtype;
  batch.matrices = matrices;
  server::RowBatchOutput output = *model.Predict(batch);
  std::map<v1::Matrix, std::string> rows;
  for (size_t m = 0; m < matrices.size(); ++m) rows[matrices[m]] = output.data[m];
  return rows;
}

}  // namespace zett::testing
