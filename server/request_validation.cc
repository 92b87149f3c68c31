#include "server/request_validation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/wire/dtype_codec.h"

namespace zett::server {
namespace {

// Room for the RowBlock fields around the raw data.
constexpr uint64_t kRowBlockOverheadBytes = 1024;

}  // namespace

absl::StatusOr<ResolvedOptions> ResolveOptions(const v1::TransferOptions& options,
                                               const std::string& model_name,
                                               const ModelMetadata& metadata,
                                               const ServiceLimits& limits) {
  ResolvedOptions resolved;
  if (!v1::DType_IsValid(options.dtype())) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.dtype: unknown value ", static_cast<int>(options.dtype())));
  }
  const v1::DType dtype = wire::ResolveDType(options.dtype());
  resolved.proto.set_dtype(dtype);

  const std::vector<v1::Matrix> available = AvailableMatrices(metadata);
  if (options.matrices_size() == 0) {
    resolved.matrices = available;
  } else {
    std::vector<bool> wanted(available.size(), false);
    for (int i = 0; i < options.matrices_size(); ++i) {
      const auto matrix = static_cast<v1::Matrix>(options.matrices(i));
      const auto it = std::find(available.begin(), available.end(), matrix);
      if (it == available.end()) {
        std::string why = "not produced by this model";
        if (matrix == v1::MATRIX_OUTPUT_EMBEDDINGS && metadata.tied_embeddings) {
          why = "the model ties its input and output embeddings";
        } else if (matrix == v1::MATRIX_OUTPUT_BIAS) {
          why = "the hypernetwork does not predict a bias";
        } else if (!v1::Matrix_IsValid(matrix) || matrix == v1::MATRIX_UNSPECIFIED) {
          why = "not a matrix";
        }
        return absl::InvalidArgumentError(
            absl::StrCat("options.matrices[", i, "]: ", v1::Matrix_Name(matrix), " (",
                         options.matrices(i), ") for model '", model_name, "': ", why));
      }
      wanted[it - available.begin()] = true;
    }
    for (size_t i = 0; i < available.size(); ++i) {
      if (wanted[i]) resolved.matrices.push_back(available[i]);
    }
  }
  for (v1::Matrix matrix : resolved.matrices) resolved.proto.add_matrices(matrix);

  if (options.compute_dtype() != v1::DTYPE_UNSPECIFIED &&
      options.compute_dtype() != v1::DTYPE_FP32 && options.compute_dtype() != v1::DTYPE_BF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.compute_dtype: ", static_cast<int>(options.compute_dtype()),
                     "; the hypernetwork computes in FP32 or BF16 (UNSPECIFIED: the server's)"));
  }
  resolved.prepare.fp32_compute = options.compute_dtype() == v1::DTYPE_FP32;
  resolved.proto.set_compute_dtype(options.compute_dtype());

  if (!v1::SpecialTokenPolicy_IsValid(options.special_tokens())) {
    return absl::InvalidArgumentError(absl::StrCat("options.special_tokens: unknown value ",
                                                   static_cast<int>(options.special_tokens())));
  }
  resolved.prepare.special_tokens = options.special_tokens() == v1::SPECIAL_TOKEN_POLICY_PREDICT
                                        ? v1::SPECIAL_TOKEN_POLICY_PREDICT
                                        : v1::SPECIAL_TOKEN_POLICY_COPY_ORIGINAL;
  resolved.proto.set_special_tokens(resolved.prepare.special_tokens);

  if (!options.language().empty() || !metadata.languages.empty()) {
    const auto& languages = metadata.languages;
    const auto it = std::find(languages.begin(), languages.end(), options.language());
    if (languages.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("options.language: '", options.language(),
                                                     "' given, but model '", model_name,
                                                     "' is not multilingual; leave it empty"));
    }
    if (it == languages.end()) {
      return absl::InvalidArgumentError(absl::StrCat("options.language: '", options.language(),
                                                     "' is not one of model '", model_name,
                                                     "': ", absl::StrJoin(languages, ", ")));
    }
    resolved.prepare.language_id = static_cast<int32_t>(it - languages.begin());
    resolved.proto.set_language(options.language());
  }

  uint64_t widest_row_bytes = 1;
  for (v1::Matrix matrix : resolved.matrices) {
    widest_row_bytes =
        std::max(widest_row_bytes, MatrixCols(metadata, matrix) * wire::DTypeSize(dtype));
  }
  const uint64_t budget = limits.max_message_bytes > kRowBlockOverheadBytes
                              ? limits.max_message_bytes - kRowBlockOverheadBytes
                              : 1;
  const uint64_t max_rows = std::max<uint64_t>(1, budget / widest_row_bytes);
  resolved.rows_per_block = options.rows_per_chunk() == 0
                                ? max_rows
                                : std::min<uint64_t>(options.rows_per_chunk(), max_rows);
  resolved.proto.set_rows_per_chunk(static_cast<uint32_t>(resolved.rows_per_block));
  return resolved;
}

absl::StatusOr<TokenizerInput> TokenizerInputFromList(const v1::TokenList& list,
                                                      const std::string& field, uint64_t max_tokens,
                                                      const ServiceLimits& limits) {
  if (list.tokens_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".tokens: empty"));
  }
  // Special tokens are rows too: they count toward every limit the tokens do.
  const uint64_t rows = static_cast<uint64_t>(list.tokens_size()) + list.special_tokens_size();
  if (rows > max_tokens) {
    return absl::ResourceExhaustedError(
        list.special_tokens_size() == 0
            ? absl::StrCat(field, ".tokens: ", list.tokens_size(), " tokens, limit ", max_tokens)
            : absl::StrCat(field, ": ", list.tokens_size(), " tokens + ",
                           list.special_tokens_size(), " special_tokens, limit ", max_tokens));
  }
  if (!v1::TokenKind_IsValid(list.kind()) || list.kind() == v1::TOKEN_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".kind: must be BYTE_LEVEL, SENTENCEPIECE, WORDPIECE or TEXT, got ",
                     static_cast<int>(list.kind())));
  }
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenList;
  input.token_kind = list.kind();
  uint64_t surface_bytes = 0;
  for (int i = 0; i < list.tokens_size(); ++i) {
    const std::string& token = list.tokens(i);
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".tokens[", i, "]: empty token"));
    }
    surface_bytes += token.size();
    input.tokens.push_back(token);
  }
  for (int i = 0; i < list.special_tokens_size(); ++i) {
    if (list.special_tokens(i).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".special_tokens[", i, "]: empty token"));
    }
    surface_bytes += list.special_tokens(i).size();
  }
  if (surface_bytes > limits.max_surface_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        field, ": ", surface_bytes, " bytes of tokens, limit ", limits.max_surface_bytes));
  }
  input.special_tokens.assign(list.special_tokens().begin(), list.special_tokens().end());
  return input;
}

absl::StatusOr<TokenizerInput> TokenizerInputFromRequest(const v1::TransferRequest& request,
                                                         const ServiceLimits& limits) {
  TokenizerInput input;
  input.tokenizer_config_json = request.tokenizer_config_json();
  input.special_tokens_map_json = request.special_tokens_map_json();
  if (request.tokenizer_case() == v1::TransferRequest::kTokenList &&
      !(input.tokenizer_config_json.empty() && input.special_tokens_map_json.empty())) {
    return absl::InvalidArgumentError(
        "tokenizer_config_json / special_tokens_map_json: only with tokenizer_json or "
        "sentencepiece_model (a token_list names its special tokens itself)");
  }
  switch (request.tokenizer_case()) {
    case v1::TransferRequest::kTokenizerJson:
      if (request.tokenizer_json().empty()) {
        return absl::InvalidArgumentError("tokenizer_json: empty");
      }
      input.format = TokenizerInput::Format::kTokenizerJson;
      input.bytes = request.tokenizer_json();
      return input;
    case v1::TransferRequest::kSentencepieceModel:
      if (request.sentencepiece_model().empty()) {
        return absl::InvalidArgumentError("sentencepiece_model: empty");
      }
      input.format = TokenizerInput::Format::kSentencePieceModel;
      input.bytes = request.sentencepiece_model();
      return input;
    case v1::TransferRequest::kTokenList:
      return TokenizerInputFromList(request.token_list(), "token_list", limits.max_vocab, limits);
    default:
      return absl::InvalidArgumentError(
          "tokenizer: none of tokenizer_json, sentencepiece_model, token_list is set");
  }
}

absl::Status CheckPrepared(const PreparedTransfer& prepared, const ServiceLimits& limits) {
  const uint64_t v = prepared.num_rows();
  if (v == 0) return absl::InvalidArgumentError("tokenizer: the vocabulary is empty");
  if (v > limits.max_vocab) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tokenizer: vocabulary of ", v, " tokens, limit ", limits.max_vocab));
  }
  uint64_t surface_bytes = 0;
  for (const TokenInfo& info : prepared.vocabulary) surface_bytes += info.token.size();
  if (surface_bytes > limits.max_surface_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "tokenizer: ", surface_bytes, " bytes of surface forms, limit ", limits.max_surface_bytes));
  }
  if (prepared.decomposition.size() != v * prepared.surface_maxlen ||
      prepared.copy_source_id.size() != v || prepared.surface_maxlen == 0) {
    return absl::InternalError(
        absl::StrCat("engine contract: Prepare returned ", v, " tokens, decomposition of ",
                     prepared.decomposition.size(), " ids for L = ", prepared.surface_maxlen, ", ",
                     prepared.copy_source_id.size(), " copy ids"));
  }
  return absl::OkStatus();
}

}  // namespace zett::server
