#include "client/remote/transfer_client.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/io/sha256.h"
#include "proto/wire/dtype_codec.h"
#include "proto/wire/status_mapping.h"

namespace zett::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WithPrefix(const std::string& prefix, const grpc::Status& status) {
  const absl::Status converted = wire::FromGrpcStatus(status);
  return absl::Status(converted.code(), absl::StrCat(prefix, converted.message()));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ClientOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("--server: empty address");
  grpc::ChannelArguments args;
  // The server keeps every message under 4 MiB; leave room for a server with other limits.
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca_file.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    absl::StatusOr<std::string> roots = ReadFile(options.tls_ca_file);
    if (!roots.ok()) return roots.status();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *roots;
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(options.address, credentials, args);
}

absl::Status StreamAssembler::Add(const v1::TransferResponse& message) {
  switch (message.part_case()) {
    case v1::TransferResponse::kHeader: {
      if (has_header_) return absl::DataLossError("stream: a second header");
      has_header_ = true;
      result_.header = message.header();
      const size_t value_size = wire::DTypeSize(result_.header.dtype());
      for (const v1::MatrixShape& shape : result_.header.shapes()) {
        if (result_.matrices.count(shape.matrix())) {
          return absl::DataLossError(
              absl::StrCat("header: ", v1::Matrix_Name(shape.matrix()), " listed twice"));
        }
        MatrixData& data = result_.matrices[shape.matrix()];
        data.rows = shape.rows();
        data.cols = shape.cols();
        data.bytes.reserve(shape.rows() * shape.cols() * value_size);
        next_row_[shape.matrix()] = 0;
        hashes_[shape.matrix()] = std::make_unique<io::BackgroundSha256>();
        rows_expected_ += shape.rows();
      }
      return absl::OkStatus();
    }
    case v1::TransferResponse::kVocabulary: {
      if (!has_header_ || has_trailer_) {
        return absl::DataLossError("stream: vocabulary block outside header..trailer");
      }
      const v1::VocabularyBlock& block = message.vocabulary();
      if (block.first_id() != result_.vocabulary.size()) {
        return absl::DataLossError(absl::StrCat("stream: vocabulary block at id ", block.first_id(),
                                                ", expected ", result_.vocabulary.size()));
      }
      for (const v1::TokenEntry& entry : block.tokens()) result_.vocabulary.push_back(entry);
      return absl::OkStatus();
    }
    case v1::TransferResponse::kRows: {
      if (!has_header_ || has_trailer_) {
        return absl::DataLossError("stream: row block outside header..trailer");
      }
      const v1::RowBlock& block = message.rows();
      auto it = result_.matrices.find(block.matrix());
      if (it == result_.matrices.end()) {
        return absl::DataLossError(absl::StrCat("stream: rows of ", v1::Matrix_Name(block.matrix()),
                                                ", which the header does not list"));
      }
      MatrixData& data = it->second;
      uint64_t& next = next_row_[block.matrix()];
      const uint64_t expected_bytes =
          block.num_rows() * data.cols * wire::DTypeSize(result_.header.dtype());
      if (block.first_row() != next || next + block.num_rows() > data.rows ||
          block.data().size() != expected_bytes) {
        return absl::DataLossError(
            absl::StrCat("stream: ", v1::Matrix_Name(block.matrix()), " block at row ",
                         block.first_row(), " (", block.num_rows(), " rows, ", block.data().size(),
                         " bytes); expected row ", next, " and ", expected_bytes, " bytes"));
      }
      // Within the reserved capacity (checked above), so the bytes never move while hashed.
      const size_t offset = data.bytes.size();
      data.bytes += block.data();
      hashes_[block.matrix()]->Update(data.bytes.data() + offset, block.data().size());
      next += block.num_rows();
      rows_received_ += block.num_rows();
      return absl::OkStatus();
    }
    case v1::TransferResponse::kTrailer:
      if (!has_header_ || has_trailer_) return absl::DataLossError("stream: unexpected trailer");
      has_trailer_ = true;
      result_.trailer = message.trailer();
      return absl::OkStatus();
    default:
      return absl::DataLossError("stream: empty message");
  }
}

absl::StatusOr<TransferResult> StreamAssembler::Finish() {
  if (!has_header_ || !has_trailer_) {
    return absl::DataLossError("stream: ended without header or trailer");
  }
  if (result_.vocabulary.size() != result_.header.vocab_size()) {
    return absl::DataLossError(absl::StrCat("stream: ", result_.vocabulary.size(),
                                            " vocabulary entries, header says ",
                                            result_.header.vocab_size()));
  }
  for (const auto& [matrix, data] : result_.matrices) {
    if (next_row_[matrix] != data.rows) {
      return absl::DataLossError(absl::StrCat("stream: ", v1::Matrix_Name(matrix), " has ",
                                              next_row_[matrix], " of ", data.rows, " rows"));
    }
    bool checked = false;
    const std::string actual = hashes_[matrix]->Digest();
    for (const v1::MatrixChecksum& checksum : result_.trailer.checksums()) {
      if (checksum.matrix() != matrix) continue;
      checked = true;
      if (actual != checksum.sha256()) {
        return absl::DataLossError(absl::StrCat("checksum: ", v1::Matrix_Name(matrix), " SHA-256 ",
                                                io::HexEncode(actual), ", trailer says ",
                                                io::HexEncode(checksum.sha256())));
      }
    }
    if (!checked) {
      return absl::DataLossError(
          absl::StrCat("checksum: the trailer has none for ", v1::Matrix_Name(matrix)));
    }
  }
  return std::move(result_);
}

TransferClient::TransferClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : channel_(std::move(channel)),
      options_(std::move(options)),
      stub_(v1::TokenizerTransfer::NewStub(channel_)) {}

void TransferClient::Prepare(grpc::ClientContext* context) const {
  if (!options_.bearer_token.empty()) {
    context->AddMetadata("authorization", "Bearer " + options_.bearer_token);
  }
  if (options_.timeout != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoNanoseconds(options_.timeout));
  }
}

absl::StatusOr<TransferResult> TransferClient::Transfer(const v1::TransferRequest& request,
                                                        const ProgressCallback& progress) {
  grpc::ClientContext context;
  Prepare(&context);
  auto reader = stub_->Transfer(&context, request);
  StreamAssembler assembler;
  v1::TransferResponse message;
  absl::Status assembly = absl::OkStatus();
  while (reader->Read(&message)) {
    assembly = assembler.Add(message);
    if (!assembly.ok()) {
      context.TryCancel();
      break;
    }
    if (progress && message.has_rows()) {
      progress(assembler.rows_received(), assembler.rows_expected());
    }
  }
  const grpc::Status status = reader->Finish();
  if (!assembly.ok()) return assembly;
  if (!status.ok()) return WithPrefix("Transfer: ", status);
  return assembler.Finish();
}

absl::StatusOr<v1::ListModelsResponse> TransferClient::ListModels() {
  grpc::ClientContext context;
  Prepare(&context);
  v1::ListModelsResponse response;
  const grpc::Status status = stub_->ListModels(&context, {}, &response);
  if (!status.ok()) return WithPrefix("ListModels: ", status);
  return response;
}

absl::StatusOr<v1::ModelInfo> TransferClient::GetModel(const std::string& model) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::GetModelRequest request;
  request.set_model(model);
  v1::ModelInfo response;
  const grpc::Status status = stub_->GetModel(&context, request, &response);
  if (!status.ok()) return WithPrefix("GetModel: ", status);
  return response;
}

absl::StatusOr<v1::PredictTokensResponse> TransferClient::PredictTokens(
    const v1::PredictTokensRequest& request) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::PredictTokensResponse response;
  const grpc::Status status = stub_->PredictTokens(&context, request, &response);
  if (!status.ok()) return WithPrefix("PredictTokens: ", status);
  return response;
}

absl::Status SetTokenizerFromFile(const std::string& path, v1::TokenKind list_kind,
                                  v1::TransferRequest* request) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  const bool tokenizer_file = absl::EndsWith(path, ".json") || absl::EndsWith(path, ".model");
  if (absl::EndsWith(path, ".json")) {
    request->set_tokenizer_json(*std::move(bytes));
  } else if (absl::EndsWith(path, ".model")) {
    request->set_sentencepiece_model(*std::move(bytes));
  }
  if (tokenizer_file) {
    // The config files beside it decide the special tokens, as for transformers.
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
      const std::filesystem::path file = dir / name;
      std::error_code error;
      if (!std::filesystem::is_regular_file(file, error)) continue;
      absl::StatusOr<std::string> config = ReadFile(file.string());
      if (!config.ok()) return config.status();
      if (std::string(name) == "tokenizer_config.json") {
        request->set_tokenizer_config_json(*std::move(config));
      } else {
        request->set_special_tokens_map_json(*std::move(config));
      }
    }
  } else {
    v1::TokenList* list = request->mutable_token_list();
    list->set_kind(list_kind);
    std::istringstream lines(*bytes);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) list->add_tokens(line);
    }
  }
  return absl::OkStatus();
}

}  // namespace zett::client
