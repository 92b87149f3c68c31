#include "server/hypernet_model.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/compat/device_choice.h"
#include "core/compat/torch_compat.h"
#include "core/hypernet/checkpoint.h"
#include "core/hypernet/hypernet.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/surface_form.h"
#include "core/tokenizer/tokenizer_file.h"
#include "core/transfer/fallback_rows.h"
#include "core/transfer/source_embeddings.h"
#include "core/transfer/target_rows.h"
#include "core/util/status_macros.h"
#include "server/log.h"

namespace zett::server {
namespace {

namespace tk = ::zett::tokenizer;

HypernetForwardOptions ForwardOptions(const HypernetLoaderOptions& loader) {
  HypernetForwardOptions options;
  options.chunk_rows = loader.chunk_rows;
  options.row_buckets_per_octave = loader.row_buckets_per_octave;
  return options;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A cancelled or expired request, not a bad tokenizer: passed on as it is.
bool IsInterruption(const absl::Status& status) {
  return absl::IsCancelled(status) || absl::IsDeadlineExceeded(status);
}

absl::StatusOr<tk::TokenKind> ToTokenKind(v1::TokenKind kind) {
  switch (kind) {
    case v1::TOKEN_KIND_BYTE_LEVEL:
      return tk::TokenKind::kByteLevel;
    case v1::TOKEN_KIND_SENTENCEPIECE:
      return tk::TokenKind::kSentencePiece;
    case v1::TOKEN_KIND_WORDPIECE:
      return tk::TokenKind::kWordPiece;
    case v1::TOKEN_KIND_TEXT:
      return tk::TokenKind::kPlainText;
    default:
      return absl::InvalidArgumentError("token_list.kind: must be set");
  }
}

at::ScalarType WireType(v1::DType dtype) {
  switch (dtype) {
    case v1::DTYPE_BF16:
      return at::kBFloat16;
    case v1::DTYPE_FP16:
      return at::kHalf;
    default:
      return at::kFloat;
  }
}

// Row-major little-endian bytes of a 2-D (or 1-D) tensor in `dtype`.
std::string ToBytes(const at::Tensor& tensor, at::ScalarType dtype) {
  const at::Tensor typed = tensor.to(dtype).contiguous();
  std::string bytes(typed.numel() * typed.element_size(), '\0');
  // One copy, from the device straight into the message bytes.
  at::from_blob(bytes.data(), typed.sizes(), at::TensorOptions().dtype(dtype)).copy_(typed);
  return bytes;
}

// The hypernetwork in one precision on the device: weights, the projected source table and,
// for the residual form, the stacked source table it reads E_src[id_0] from.
struct ComputeVariant {
  Hypernet hypernet;
  at::Tensor projected;
  at::Tensor stacked;  // defined only with hn_residual
};

absl::StatusOr<ComputeVariant> MakeComputeVariant(const std::string& hypernet_dir,
                                                  const SourceEmbeddings& source, at::Device device,
                                                  at::ScalarType dtype) {
  ASSIGN_OR_RETURN(Hypernet hypernet, LoadHypernet(hypernet_dir));
  RETURN_IF_ERROR(hypernet.To(device, dtype));
  at::Tensor stacked = source.Stacked().to(device, dtype);
  ASSIGN_OR_RETURN(at::Tensor projected, hypernet.ProjectSourceEmbeddings(stacked));
  const bool residual = hypernet.config().hn_residual;
  return ComputeVariant{std::move(hypernet), std::move(projected),
                        residual ? stacked : at::Tensor()};
}

uint64_t DeviceBytes(const ComputeVariant& v) {
  if (!v.hypernet.device().is_cuda()) return 0;
  uint64_t bytes = v.projected.numel() * v.projected.element_size();
  if (v.stacked.defined()) bytes += v.stacked.numel() * v.stacked.element_size();
  for (const auto& [name, p] : v.hypernet.NamedParameters()) bytes += p.numel() * p.element_size();
  return bytes;
}

class HypernetModel final : public LoadedModel {
 public:
  HypernetModel(ComputeVariant variant, std::string hypernet_dir,
                std::unique_ptr<tk::Tokenizer> original, std::unique_ptr<tk::Decomposer> decomposer,
                SourceEmbeddings source, ModelMetadata metadata,
                HypernetForwardOptions forward_options)
      : default_(std::move(variant)),
        hypernet_dir_(std::move(hypernet_dir)),
        original_(std::move(original)),
        decomposer_(std::move(decomposer)),
        source_(std::move(source)),
        metadata_(std::move(metadata)),
        forward_options_(forward_options) {}

  const ModelMetadata& metadata() const override { return metadata_; }

  absl::StatusOr<PreparedTransfer> Prepare(const TokenizerInput& input,
                                           const PrepareOptions& options) const override {
    const auto start = std::chrono::steady_clock::now();
    const auto& config = default_.hypernet.config();
    tk::Decomposition decomposition;
    PreparedTransfer prepared;
    if (input.format == TokenizerInput::Format::kTokenList) {
      ASSIGN_OR_RETURN(tk::TokenKind kind, ToTokenKind(input.token_kind));
      std::vector<std::string> surface_forms;
      std::vector<uint8_t> flags;
      surface_forms.reserve(input.tokens.size() + input.special_tokens.size());
      for (const std::string& token : input.tokens) {
        surface_forms.push_back(tk::TokenToByteLevel(token, kind));
        flags.push_back(0);
      }
      for (const std::string& token : input.special_tokens) {
        surface_forms.push_back(token);  // special tokens stay atomic, as written
        flags.push_back(tk::kSpecial);
      }
      prepared.parse_seconds = SecondsSince(start);
      ASSIGN_OR_RETURN(decomposition,
                       decomposer_->DecomposeSurfaceForms(
                           std::move(surface_forms), std::move(flags),
                           static_cast<int>(config.hn_surface_maxlen),
                           static_cast<int32_t>(config.pad_token_id), options.interrupt));
    } else {
      const char* field = input.format == TokenizerInput::Format::kTokenizerJson
                              ? "tokenizer_json"
                              : "sentencepiece_model";
      auto target = tk::LoadTokenizerBytes(
          input.bytes, tk::TokenizerConfigFiles::FromContents(input.tokenizer_config_json,
                                                              input.special_tokens_map_json));
      if (!target.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": ", target.status().message()));
      }
      prepared.parse_seconds = SecondsSince(start);
      tk::DecomposeOptions decompose_options;
      decompose_options.max_len = static_cast<int>(config.hn_surface_maxlen);
      decompose_options.pad_id = static_cast<int32_t>(config.pad_token_id);
      decompose_options.interrupt = options.interrupt;
      auto decomposed = decomposer_->Decompose(**target, decompose_options);
      if (IsInterruption(decomposed.status())) return decomposed.status();
      if (!decomposed.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": ", decomposed.status().message()));
      }
      decomposition = *std::move(decomposed);
    }
    prepared.decompose_seconds = SecondsSince(start) - prepared.parse_seconds;

    const size_t rows = decomposition.surface_forms.size();
    const int L = decomposition.max_len;
    const bool copy_specials = options.special_tokens != v1::SPECIAL_TOKEN_POLICY_PREDICT;
    prepared.surface_maxlen = static_cast<uint32_t>(L);
    prepared.language_id = options.language_id;
    prepared.vocabulary.resize(rows);
    prepared.copy_source_id.assign(rows, -1);
    for (size_t i = 0; i < rows; ++i) {
      TokenInfo& info = prepared.vocabulary[i];
      const uint8_t flags = decomposition.flags[i];
      info.token = std::move(decomposition.surface_forms[i]);
      info.special = flags & tk::kSpecial;
      info.truncated = flags & tk::kTruncated;
      info.added = flags & tk::kAddedByConversion;
      // Special tokens keep the original model's rows (core/transfer/target_rows.h).
      const int32_t source = OriginalRowSource(decomposition, i, config.original_vocab_size);
      if (copy_specials && source >= 0) {
        info.copied = true;
        prepared.copy_source_id[i] = source;
      }
    }
    prepared.decomposition = std::move(decomposition.ids);
    return prepared;
  }

  absl::StatusOr<RowBatchOutput> Predict(const RowBatch& batch) const override {
    c10::NoGradGuard no_grad;
    const int64_t rows = static_cast<int64_t>(batch.num_rows);
    ASSIGN_OR_RETURN(const ComputeVariant* variant, Variant(batch.fp32_compute));
    const at::Device device = variant->hypernet.device();
    at::Tensor surface_forms =
        at::from_blob(const_cast<int32_t*>(batch.decomposition.data()),
                      {rows, static_cast<int64_t>(batch.surface_maxlen)}, at::kInt)
            .to(device, at::kLong);
    std::optional<int64_t> lang;
    if (batch.language_id >= 0) lang = batch.language_id;
    HypernetOutput out;
    try {
      ASSIGN_OR_RETURN(out, PredictTargetRows(variant->hypernet, surface_forms, variant->projected,
                                              variant->stacked, lang, forward_options_,
                                              batch.copy_source_id, source_));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("hypernetwork forward failed: ", e.what()));
    }
    RowBatchOutput output;
    const at::ScalarType dtype = WireType(batch.dtype);
    for (v1::Matrix matrix : batch.matrices) {
      switch (matrix) {
        case v1::MATRIX_INPUT_EMBEDDINGS:
          output.data.push_back(ToBytes(out.embeddings_in, dtype));
          break;
        case v1::MATRIX_OUTPUT_EMBEDDINGS:
          if (!out.embeddings_out.defined()) {
            return absl::InvalidArgumentError("output embeddings: the model ties them");
          }
          output.data.push_back(ToBytes(out.embeddings_out, dtype));
          break;
        case v1::MATRIX_OUTPUT_BIAS:
          if (!out.bias.defined()) {
            return absl::InvalidArgumentError("output bias: the hypernetwork predicts none");
          }
          output.data.push_back(ToBytes(out.bias, dtype));
          break;
        default:
          return absl::InvalidArgumentError("matrices: unknown matrix");
      }
    }
    return output;
  }

  uint64_t device_memory_bytes() const override {
    return DeviceBytes(default_) + (fp32_ ? DeviceBytes(*fp32_) : 0);
  }

  // Runs every encoder chunk shape (row bucket x length x mask: Hypernet::WarmUp), then the
  // batch shapes the server sends through Predict (a full device batch with every
  // decomposition length, and a PredictTokens-sized one), so that kernel loading, cuBLAS and
  // attention-plan set-up happen before the model serves, not in its first request.
  absl::Status Warmup(int64_t batch_rows) const {
    const auto& config = default_.hypernet.config();
    const int L = static_cast<int>(config.hn_surface_maxlen);
    const int32_t pad = static_cast<int32_t>(config.pad_token_id);
    const int64_t vocab = std::max<int64_t>(2, config.original_vocab_size);
    auto batch_of = [&](int64_t rows) {
      RowBatch batch;
      batch.num_rows = static_cast<uint64_t>(rows);
      batch.surface_maxlen = static_cast<uint32_t>(L);
      batch.dtype = v1::DTYPE_BF16;
      batch.matrices = AvailableMatrices(metadata_);
      batch.copy_source_id.assign(rows, -1);
      batch.decomposition.assign(rows * L, pad);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t k = 0; k <= r % L; ++k) {  // lengths 1..L in turn
          auto id = static_cast<int32_t>((r * 7 + k * 131) % vocab);
          batch.decomposition[r * L + k] = id == pad ? (id + 1) % vocab : id;
        }
      }
      return batch;
    };
    if (forward_options_.row_buckets_per_octave > 0) {
      std::optional<int64_t> lang;
      if (config.hn_embed_lang_id) lang = 0;
      RETURN_IF_ERROR(
          default_.hypernet.WarmUp(default_.projected, batch_rows, lang, forward_options_));
    }
    for (int64_t rows : {batch_rows, int64_t{64}}) {
      for (int pass = 0; pass < 2; ++pass) {
        absl::StatusOr<RowBatchOutput> out = Predict(batch_of(rows));
        if (!out.ok()) return out.status();
      }
    }
    return absl::OkStatus();
  }

 private:
  // The precision a batch asked for; the fp32 variant is made on first use (Predict runs on
  // the one predict-queue thread, so no lock is needed).
  absl::StatusOr<const ComputeVariant*> Variant(bool fp32) const {
    if (!fp32 || default_.hypernet.dtype() == at::kFloat) return &default_;
    if (!fp32_) {
      ASSIGN_OR_RETURN(
          ComputeVariant v,
          MakeComputeVariant(hypernet_dir_, source_, default_.hypernet.device(), at::kFloat));
      fp32_.emplace(std::move(v));
      LogInfo("fp32_variant_loaded", {{"hypernet", hypernet_dir_}});
    }
    return &*fp32_;
  }

  ComputeVariant default_;
  mutable std::optional<ComputeVariant> fp32_;
  std::string hypernet_dir_;
  std::unique_ptr<tk::Tokenizer> original_;
  std::unique_ptr<tk::Decomposer> decomposer_;
  SourceEmbeddings source_;
  ModelMetadata metadata_;
  HypernetForwardOptions forward_options_;
};

class HypernetModelLoader final : public ModelLoader {
 public:
  explicit HypernetModelLoader(HypernetLoaderOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::shared_ptr<const LoadedModel>> Load(
      const std::string& model_name, int64_t version,
      const std::string& version_dir) const override {
    namespace fs = std::filesystem;
    const std::string base_dir = (fs::path(version_dir) / "base").string();
    const std::string hypernet_dir = (fs::path(version_dir) / "hypernet").string();
    c10::NoGradGuard no_grad;
    try {
      const auto load_start = std::chrono::steady_clock::now();
      ASSIGN_OR_RETURN(ZettHypernetConfig config,
                       ReadHypernetConfig((fs::path(hypernet_dir) / "config.json").string()));
      ASSIGN_OR_RETURN(std::unique_ptr<tk::Tokenizer> original,
                       tk::LoadTokenizerFile(HypernetTokenizerPath(hypernet_dir)));
      ASSIGN_OR_RETURN(std::unique_ptr<tk::Decomposer> decomposer,
                       tk::Decomposer::Create(*original));
      RETURN_IF_ERROR(CheckFallbackRows(config, decomposer->original_vocabulary()));
      ASSIGN_OR_RETURN(SourceEmbeddings source, LoadSourceEmbeddings(base_dir));
      if (source.hidden_size() != config.n_embd) {
        return absl::FailedPreconditionError(absl::StrCat("base hidden size ", source.hidden_size(),
                                                          " != hypernet n_embd ", config.n_embd));
      }
      if (source.vocab_size() < config.original_vocab_size) {
        return absl::FailedPreconditionError(
            absl::StrCat("base has ", source.vocab_size(),
                         " embedding rows; the hypernet expects original_vocab_size ",
                         config.original_vocab_size));
      }
      if (source.tied() == config.separate_out_embeddings) {
        return absl::FailedPreconditionError(
            "base and hypernet disagree on tied embeddings (separate_out_embeddings)");
      }
      ASSIGN_OR_RETURN(const bool cuda, UseCuda(options_.device));
      const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
      at::ScalarType dtype = cuda ? at::kBFloat16 : at::kFloat;
      if (options_.compute_dtype == "fp32") dtype = at::kFloat;
      if (options_.compute_dtype == "bf16") dtype = at::kBFloat16;
      LogInfo("model_device", {{"model", model_name},
                               {"version", std::to_string(version)},
                               {"device", cuda ? "cuda" : "cpu"},
                               {"compute_dtype", dtype == at::kBFloat16 ? "bf16" : "fp32"},
                               {"cuda_available", CudaAvailable() ? "true" : "false"}});
      ASSIGN_OR_RETURN(ComputeVariant variant,
                       MakeComputeVariant(hypernet_dir, source, device, dtype));

      ModelMetadata metadata;
      metadata.architecture = source.architecture;
      metadata.hidden_size = static_cast<uint64_t>(config.n_embd);
      metadata.original_vocab_size = static_cast<uint64_t>(config.original_vocab_size);
      metadata.tied_embeddings = source.tied();
      metadata.predicts_bias = config.hn_predict_bias;
      metadata.surface_maxlen = static_cast<uint32_t>(config.hn_surface_maxlen);
      metadata.languages = config.langs;
      metadata.compute_dtype = dtype == at::kBFloat16 ? "bf16" : "fp32";
      {
        std::ifstream in(fs::path(hypernet_dir) / "config.json");
        metadata.hypernet_config_json.assign(std::istreambuf_iterator<char>(in), {});
      }
      auto model = std::make_shared<HypernetModel>(
          std::move(variant), hypernet_dir, std::move(original), std::move(decomposer),
          std::move(source), std::move(metadata), ForwardOptions(options_));
      const double load_seconds = SecondsSince(load_start);
      double warmup_seconds = 0;
      if (options_.warmup_rows > 0) {
        const auto warmup_start = std::chrono::steady_clock::now();
        RETURN_IF_ERROR(model->Warmup(options_.warmup_rows));
        warmup_seconds = SecondsSince(warmup_start);
      }
      LogInfo("model_loaded", {{"model", model_name},
                               {"version", std::to_string(version)},
                               {"load_seconds", absl::StrCat(load_seconds)},
                               {"warmup_seconds", absl::StrCat(warmup_seconds)}});
      return std::shared_ptr<const LoadedModel>(std::move(model));
    } catch (const std::exception& e) {
      return absl::InternalError(
          absl::StrCat("loading ", model_name, " version ", version, ": ", e.what()));
    }
  }

 private:
  HypernetLoaderOptions options_;
};

}  // namespace

std::shared_ptr<const ModelLoader> MakeHypernetModelLoader(const HypernetLoaderOptions& options) {
  if (!SetAttentionBackend(options.attention)) {
    LogError("attention_backend_unavailable",
             {{"attention", options.attention}, {"torch", TorchVersion()}});
  }
  return std::make_shared<HypernetModelLoader>(options);
}

}  // namespace zett::server
