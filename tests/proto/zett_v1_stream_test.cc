// The generated zett.v1 code streams a header, row blocks and a trailer over a real
// in-process gRPC channel, and large row blocks pass the default 4 MiB receive limit
// only when split.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "proto/zett/v1/zett.grpc.pb.h"

namespace zett {
namespace {

class FixedRowsService final : public v1::TokenizerTransfer::Service {
 public:
  explicit FixedRowsService(size_t block_bytes) : block_bytes_(block_bytes) {}

  grpc::Status Transfer(grpc::ServerContext*, const v1::TransferRequest* request,
                        grpc::ServerWriter<v1::TransferResponse>* writer) override {
    v1::TransferResponse header;
    header.mutable_header()->set_model(request->model());
    writer->Write(header);
    for (int i = 0; i < 3; ++i) {
      v1::TransferResponse rows;
      rows.mutable_rows()->set_first_row(i);
      rows.mutable_rows()->set_data(std::string(block_bytes_, static_cast<char>('a' + i)));
      if (!writer->Write(rows)) return grpc::Status::CANCELLED;
    }
    v1::TransferResponse trailer;
    trailer.mutable_trailer()->set_vocab_size(3);
    writer->Write(trailer);
    return grpc::Status::OK;
  }

 private:
  size_t block_bytes_;
};

std::vector<v1::TransferResponse> RunTransfer(size_t block_bytes, grpc::Status* status) {
  FixedRowsService service(block_bytes);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = v1::TokenizerTransfer::NewStub(channel);
  grpc::ClientContext context;
  v1::TransferRequest request;
  request.set_model("tiny");
  auto reader = stub->Transfer(&context, request);
  std::vector<v1::TransferResponse> responses;
  v1::TransferResponse response;
  while (reader->Read(&response)) responses.push_back(response);
  *status = reader->Finish();
  server->Shutdown();
  return responses;
}

TEST(ZettV1Stream, HeaderRowsTrailerInOrder) {
  grpc::Status status;
  auto responses = RunTransfer(1024, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(responses[0].header().model(), "tiny");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(responses[1 + i].has_rows());
    EXPECT_EQ(responses[1 + i].rows().first_row(), static_cast<uint64_t>(i));
    EXPECT_EQ(responses[1 + i].rows().data(), std::string(1024, 'a' + i));
  }
  EXPECT_EQ(responses[4].trailer().vocab_size(), 3u);
}

TEST(ZettV1Stream, BlockOverDefaultReceiveLimitIsRejected) {
  grpc::Status status;
  RunTransfer(5 << 20, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
}

}  // namespace
}  // namespace zett
