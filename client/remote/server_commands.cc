#include "client/remote/server_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/apply/finetuned_model.h"
#include "client/apply/transferred_model.h"
#include "client/remote/embeddings_writer.h"
#include "client/remote/health_check.h"
#include "client/remote/transfer_client.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "proto/wire/tensor_names.h"

namespace zett::cli {
namespace {

const std::vector<std::string> kConnectionFlags = {"--server", "--bearer-token-file", "--tls-ca",
                                                   "--timeout"};

// --flag VALUE pairs; anything else is an error naming the flag.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(const std::vector<std::string>& args,
                                                              std::vector<std::string> allowed,
                                                              bool server_required = true) {
  allowed.insert(allowed.end(), kConnectionFlags.begin(), kConnectionFlags.end());
  std::map<std::string, std::string> values;
  for (size_t i = 0; i < args.size(); ++i) {
    if (std::find(allowed.begin(), allowed.end(), args[i]) == allowed.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", args[i], "'"));
    }
    if (i + 1 >= args.size()) {
      return absl::InvalidArgumentError(absl::StrCat(args[i], " needs a value"));
    }
    values[args[i]] = args[i + 1];
    ++i;
  }
  if (server_required && !values.count("--server")) {
    return absl::InvalidArgumentError("--server ADDR is required");
  }
  return values;
}

absl::StatusOr<client::ClientOptions> ConnectionOptions(
    const std::map<std::string, std::string>& flags) {
  client::ClientOptions options;
  options.address = flags.at("--server");
  if (auto it = flags.find("--tls-ca"); it != flags.end()) options.tls_ca_file = it->second;
  if (auto it = flags.find("--bearer-token-file"); it != flags.end()) {
    std::ifstream in(it->second);
    std::getline(in, options.bearer_token);
    options.bearer_token = std::string(absl::StripAsciiWhitespace(options.bearer_token));
    if (options.bearer_token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("no token in ", it->second));
    }
  }
  if (auto it = flags.find("--timeout"); it != flags.end()) {
    double seconds = 0;
    if (!absl::SimpleAtod(it->second, &seconds) || seconds <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--timeout: '", it->second, "' is not > 0"));
    }
    options.timeout = absl::Seconds(seconds);
  }
  return options;
}

int Fail(const std::string& command, const absl::Status& status) {
  std::fprintf(stderr, "zett %s: %s\n", command.c_str(), status.ToString().c_str());
  return 1;
}

// "[#####.....] 52%  65536/131072 rows" on stderr, redrawn in place, only on a terminal.
void DrawProgress(uint64_t done, uint64_t total) {
  static int last_percent = -1;
  if (total == 0 || !isatty(STDERR_FILENO)) return;
  const int percent = static_cast<int>(100 * done / total);
  if (percent == last_percent) return;
  last_percent = percent;
  const int filled = percent / 4;
  std::fprintf(stderr, "\r[%s%s] %3d%%  %llu/%llu rows", std::string(filled, '#').c_str(),
               std::string(25 - filled, '.').c_str(), percent,
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  if (done == total) std::fprintf(stderr, "\n");
}

// The TransferRequest of --model, --tokenizer and the transfer option flags; `default_dtype`
// where --dtype is absent.
absl::StatusOr<v1::TransferRequest> BuildTransferRequest(
    const std::map<std::string, std::string>& flags, const std::string& default_dtype) {
  v1::TransferRequest request;
  request.set_model(flags.at("--model"));
  if (auto it = flags.find("--version"); it != flags.end()) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(it->second, &version) || version < 0) {
      return absl::InvalidArgumentError("--version: not a version number");
    }
    request.set_version(version);
  }
  const std::map<std::string, v1::DType> dtypes = {
      {"fp32", v1::DTYPE_FP32}, {"bf16", v1::DTYPE_BF16}, {"fp16", v1::DTYPE_FP16}};
  const std::map<std::string, v1::TokenKind> kinds = {
      {"byte_level", v1::TOKEN_KIND_BYTE_LEVEL},
      {"sentencepiece", v1::TOKEN_KIND_SENTENCEPIECE},
      {"wordpiece", v1::TOKEN_KIND_WORDPIECE},
      {"text", v1::TOKEN_KIND_TEXT}};
  const std::string dtype = flags.count("--dtype") ? flags.at("--dtype") : default_dtype;
  const std::string kind = flags.count("--token-kind") ? flags.at("--token-kind") : "byte_level";
  if (!dtypes.count(dtype)) return absl::InvalidArgumentError("--dtype: one of fp32, bf16, fp16");
  if (!kinds.count(kind)) {
    return absl::InvalidArgumentError(
        "--token-kind: one of byte_level, sentencepiece, wordpiece, text");
  }
  request.mutable_options()->set_dtype(dtypes.at(dtype));
  if (auto it = flags.find("--special-tokens"); it != flags.end()) {
    if (it->second != "copy" && it->second != "predict") {
      return absl::InvalidArgumentError("--special-tokens: copy or predict");
    }
    request.mutable_options()->set_special_tokens(it->second == "copy"
                                                      ? v1::SPECIAL_TOKEN_POLICY_COPY_ORIGINAL
                                                      : v1::SPECIAL_TOKEN_POLICY_PREDICT);
  }
  if (auto it = flags.find("--language"); it != flags.end()) {
    request.mutable_options()->set_language(it->second);
  }
  if (auto it = flags.find("--compute-dtype"); it != flags.end()) {
    if (it->second != "fp32" && it->second != "bf16") {
      return absl::InvalidArgumentError("--compute-dtype: fp32 or bf16");
    }
    request.mutable_options()->set_compute_dtype(dtypes.at(it->second));
  }
  if (absl::Status status =
          client::SetTokenizerFromFile(flags.at("--tokenizer"), kinds.at(kind), &request);
      !status.ok()) {
    return status;
  }
  return request;
}

const std::vector<std::string> kTransferFlags = {"--model",    "--tokenizer",    "--version",
                                                 "--dtype",    "--token-kind",   "--special-tokens",
                                                 "--language", "--compute-dtype"};

}  // namespace

int RunTransfer(const std::vector<std::string>& args) {
  std::vector<std::string> allowed = kTransferFlags;
  allowed.push_back("--out");
  auto flags = ParseFlags(args, allowed);
  if (!flags.ok()) return Fail("transfer", flags.status());
  for (const char* required : {"--model", "--tokenizer", "--out"}) {
    if (!flags->count(required)) {
      return Fail("transfer", absl::InvalidArgumentError(absl::StrCat(required, " is required")));
    }
  }
  auto options = ConnectionOptions(*flags);
  if (!options.ok()) return Fail("transfer", options.status());
  absl::StatusOr<v1::TransferRequest> request = BuildTransferRequest(*flags, "fp32");
  if (!request.ok()) return Fail("transfer", request.status());
  const std::string dtype = flags->count("--dtype") ? flags->at("--dtype") : "fp32";

  auto channel = client::MakeChannel(*options);
  if (!channel.ok()) return Fail("transfer", channel.status());
  client::TransferClient transfer_client(*channel, *options);
  const absl::Time start = absl::Now();
  absl::StatusOr<client::TransferResult> result = transfer_client.Transfer(*request, DrawProgress);
  if (!result.ok()) return Fail("transfer", result.status());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (absl::Status status = client::WriteTransferResult(flags->at("--out"), *result);
      !status.ok()) {
    return Fail("transfer", status);
  }
  uint64_t bytes = 0;
  std::vector<std::string> shapes;
  for (const auto& [matrix, data] : result->matrices) {
    bytes += data.bytes.size();
    shapes.push_back(absl::StrCat(wire::TensorName(matrix), "[", data.rows, ",", data.cols, "]"));
  }
  const v1::TransferTrailer& trailer = result->trailer;
  std::printf(
      "model=%s version=%lld vocab=%zu dtype=%s matrices=%s bytes=%llu seconds=%.3f "
      "MB_per_s=%.1f server_seconds=%.3f predict_seconds=%.3f truncated=%llu cache_hit=%s "
      "checksums=verified out=%s\n",
      result->header.model().c_str(), static_cast<long long>(result->header.version()),
      result->vocabulary.size(), dtype.c_str(), absl::StrJoin(shapes, ",").c_str(),
      static_cast<unsigned long long>(bytes), seconds, bytes / 1e6 / std::max(seconds, 1e-9),
      trailer.total_seconds(), trailer.predict_seconds(),
      static_cast<unsigned long long>(trailer.truncated_tokens()),
      result->header.cache_hit() ? "true" : "false", flags->at("--out").c_str());
  return 0;
}

namespace {

std::string IdText(const apply::SpecialToken& token) {
  return token.id ? absl::StrCat(*token.id) : "null";
}

// The stream dtype that matches the base checkpoint's torch_dtype (fp32 when unknown).
std::string BaseDtype(const std::string& base_dir) {
  absl::StatusOr<nlohmann::json> config = ReadJsonFile(base_dir + "/config.json");
  if (!config.ok() || !config->is_object() || !config->contains("torch_dtype") ||
      !(*config)["torch_dtype"].is_string()) {
    return "fp32";
  }
  const std::string dtype = (*config)["torch_dtype"].get<std::string>();
  if (dtype == "bfloat16") return "bf16";
  if (dtype == "float16") return "fp16";
  return "fp32";
}

// `zett apply --finetuned DIR [--lambda L]`: the base's transfer applied to a fine-tuned variant.
int ApplyFinetuned(const std::map<std::string, std::string>& flags, const std::string& base,
                   const apply::TransferredEmbeddings& embeddings,
                   const apply::ApplyOptions& apply_options) {
  apply::FinetunedOptions options;
  options.force = apply_options.force;
  if (auto it = flags.find("--lambda"); it != flags.end()) {
    if (!absl::SimpleAtod(it->second, &options.lambda)) {
      return Fail("apply", absl::InvalidArgumentError(
                               absl::StrCat("--lambda: not a number: '", it->second, "'")));
    }
  }
  const std::string out = flags.at("--out");
  absl::StatusOr<apply::FinetunedSummary> summary =
      apply::ApplyToFinetuned(base, flags.at("--tokenizer"), embeddings, flags.at("--finetuned"),
                              out, apply_options, options);
  if (!summary.ok()) return Fail("apply", summary.status());
  std::printf(
      "applied out=%s finetuned=%s lambda=%g architecture=%s vocab=%lld replaced=%s "
      "body_kept=%lld body_shifted=%lld chat_template=%s copied=%s\n",
      out.c_str(), flags.at("--finetuned").c_str(), options.lambda, summary->architecture.c_str(),
      static_cast<long long>(summary->vocab_size), absl::StrJoin(summary->replaced, ",").c_str(),
      static_cast<long long>(summary->tensors_kept),
      static_cast<long long>(summary->tensors_shifted), summary->chat_template ? "kept" : "none",
      absl::StrJoin(summary->copied_files, ",").c_str());
  return 0;
}

}  // namespace

int RunApply(const std::vector<std::string>& args) {
  // --force is the one flag without a value.
  std::vector<std::string> rest;
  apply::ApplyOptions apply_options;
  for (const std::string& arg : args) {
    if (arg == "--force") {
      apply_options.force = true;
    } else {
      rest.push_back(arg);
    }
  }
  std::vector<std::string> allowed = kTransferFlags;
  allowed.insert(allowed.end(), {"--base", "--out", "--embeddings", "--tokenizer-config",
                                 "--finetuned", "--lambda"});
  auto flags = ParseFlags(rest, allowed, /*server_required=*/false);
  if (!flags.ok()) return Fail("apply", flags.status());
  for (const char* required : {"--base", "--tokenizer", "--out"}) {
    if (!flags->count(required)) {
      return Fail("apply", absl::InvalidArgumentError(absl::StrCat(required, " is required")));
    }
  }
  if (flags->count("--embeddings") == flags->count("--server")) {
    return Fail("apply", absl::InvalidArgumentError(
                             "give either --server ADDR --model NAME (transfer now) or "
                             "--embeddings DIR (a `zett transfer` output)"));
  }
  if (auto it = flags->find("--tokenizer-config"); it != flags->end()) {
    apply_options.tokenizer_config = it->second;
  }
  const std::string base = flags->at("--base");

  apply::TransferredEmbeddings embeddings;
  if (auto it = flags->find("--embeddings"); it != flags->end()) {
    auto read = ReadSafetensors(absl::StrCat(it->second, "/", client::kEmbeddingsFile));
    if (!read.ok()) return Fail("apply", read.status());
    embeddings.tensors = std::move(*read);
    auto table = ReadJsonFile(absl::StrCat(it->second, "/", client::kVocabularyFile));
    if (!table.ok()) return Fail("apply", table.status());
    if (!table->is_array()) {
      return Fail("apply", absl::InvalidArgumentError(absl::StrCat(
                               it->second, "/", client::kVocabularyFile, ": not a list")));
    }
    for (const nlohmann::json& entry : *table) {
      if (!entry.is_object() || !entry.contains("token") || !entry["token"].is_string()) {
        return Fail("apply",
                    absl::InvalidArgumentError(absl::StrCat(
                        it->second, "/", client::kVocabularyFile, ": entry without token")));
      }
      embeddings.tokens.push_back(entry["token"].get<std::string>());
      embeddings.special.push_back(entry.value("special", false));
    }
  } else {
    if (!flags->count("--model")) {
      return Fail("apply", absl::InvalidArgumentError("--model is required with --server"));
    }
    auto options = ConnectionOptions(*flags);
    if (!options.ok()) return Fail("apply", options.status());
    absl::StatusOr<v1::TransferRequest> request = BuildTransferRequest(*flags, BaseDtype(base));
    if (!request.ok()) return Fail("apply", request.status());
    if (request->has_sentencepiece_model()) {
      // Transfer for the tokenizer.json the folder will hold, not the .model itself.
      absl::StatusOr<apply::TargetTokenizer> target =
          apply::ReadTargetTokenizer(flags->at("--tokenizer"));
      if (!target.ok()) return Fail("apply", target.status());
      request->set_tokenizer_json(target->json);
    }
    auto channel = client::MakeChannel(*options);
    if (!channel.ok()) return Fail("apply", channel.status());
    client::TransferClient transfer_client(*channel, *options);
    absl::StatusOr<client::TransferResult> result =
        transfer_client.Transfer(*request, DrawProgress);
    if (!result.ok()) return Fail("apply", result.status());
    absl::StatusOr<TensorMap> tensors = client::TransferTensors(*result);
    if (!tensors.ok()) return Fail("apply", tensors.status());
    embeddings.tensors = std::move(*tensors);
    for (const v1::TokenEntry& entry : result->vocabulary) {
      embeddings.tokens.push_back(entry.token());
      embeddings.special.push_back(entry.special());
    }
  }

  if (flags->count("--finetuned")) return ApplyFinetuned(*flags, base, embeddings, apply_options);
  if (flags->count("--lambda")) {
    return Fail("apply", absl::InvalidArgumentError("--lambda needs --finetuned DIR"));
  }
  const std::string out = flags->at("--out");
  absl::StatusOr<apply::ApplySummary> summary =
      apply::WriteTransferredModel(base, flags->at("--tokenizer"), embeddings, out, apply_options);
  if (!summary.ok()) return Fail("apply", summary.status());
  std::printf(
      "applied out=%s architecture=%s vocab=%lld d=%lld tied=%s bos=%s eos=%s pad=%s unk=%s "
      "replaced=%s rows_by_surface_form=%lld rows_by_role=%lld rows_mean=%lld "
      "special_tokens_from=%s tokenizer=%s\n",
      out.c_str(), summary->architecture.c_str(), static_cast<long long>(summary->vocab_size),
      static_cast<long long>(summary->hidden_size), summary->tied ? "true" : "false",
      IdText(summary->bos).c_str(), IdText(summary->eos).c_str(), IdText(summary->pad).c_str(),
      IdText(summary->unk).c_str(), absl::StrJoin(summary->replaced_tensors, ",").c_str(),
      static_cast<long long>(summary->rows_by_surface_form),
      static_cast<long long>(summary->rows_by_role), static_cast<long long>(summary->rows_mean),
      summary->special_tokens_source.c_str(),
      summary->tokenizer_converted ? "converted_from_sentencepiece" : "copied");
  return 0;
}

int RunModels(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"--model"});
  if (!flags.ok()) return Fail("models", flags.status());
  auto options = ConnectionOptions(*flags);
  if (!options.ok()) return Fail("models", options.status());
  auto channel = client::MakeChannel(*options);
  if (!channel.ok()) return Fail("models", channel.status());
  client::TransferClient transfer_client(*channel, *options);
  std::vector<v1::ModelInfo> models;
  if (auto it = flags->find("--model"); it != flags->end()) {
    auto info = transfer_client.GetModel(it->second);
    if (!info.ok()) return Fail("models", info.status());
    models.push_back(*info);
  } else {
    auto list = transfer_client.ListModels();
    if (!list.ok()) return Fail("models", list.status());
    models.assign(list->models().begin(), list->models().end());
  }
  for (const v1::ModelInfo& model : models) {
    std::printf("%s architecture=%s d=%llu original_vocab=%llu tied=%s bias=%s L=%u%s\n",
                model.name().c_str(), model.architecture().c_str(),
                static_cast<unsigned long long>(model.hidden_size()),
                static_cast<unsigned long long>(model.original_vocab_size()),
                model.tied_embeddings() ? "true" : "false",
                model.predicts_bias() ? "true" : "false", model.surface_maxlen(),
                model.languages_size() == 0
                    ? ""
                    : absl::StrCat(" languages=", absl::StrJoin(model.languages(), ",")).c_str());
    if (!model.compute_dtype().empty())
      std::printf("  compute_dtype=%s\n", model.compute_dtype().c_str());
    const v1::ServingLimits& l = model.limits();
    std::printf(
        "  limits max_vocab=%llu max_surface_bytes=%llu max_predict_tokens=%llu "
        "max_request_bytes=%llu max_message_bytes=%llu max_batch_rows=%llu "
        "max_concurrent_requests=%u write_timeout_seconds=%g\n",
        static_cast<unsigned long long>(l.max_vocab()),
        static_cast<unsigned long long>(l.max_surface_bytes()),
        static_cast<unsigned long long>(l.max_predict_tokens()),
        static_cast<unsigned long long>(l.max_request_bytes()),
        static_cast<unsigned long long>(l.max_message_bytes()),
        static_cast<unsigned long long>(l.max_batch_rows()), l.max_concurrent_requests(),
        l.write_timeout_seconds());
    for (const v1::ModelVersion& version : model.versions()) {
      std::printf("  version %lld %s%s%s\n", static_cast<long long>(version.version()),
                  v1::VersionState_Name(version.state()).c_str() + 14,  // drop "VERSION_STATE_"
                  version.manifest_sha256().empty()
                      ? ""
                      : (" manifest_sha256=" + version.manifest_sha256()).c_str(),
                  version.reason().empty() ? "" : (" " + version.reason()).c_str());
    }
  }
  return 0;
}

int RunHealth(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"--service"});
  if (!flags.ok()) return Fail("health", flags.status());
  auto options = ConnectionOptions(*flags);
  if (!options.ok()) return Fail("health", options.status());
  auto channel = client::MakeChannel(*options);
  if (!channel.ok()) return Fail("health", channel.status());
  const std::string service = flags->count("--service") ? flags->at("--service") : "";
  const absl::Duration timeout =
      options->timeout == absl::InfiniteDuration() ? absl::Seconds(5) : options->timeout;
  absl::StatusOr<client::HealthStatus> health = client::CheckHealth(*channel, service, timeout);
  if (!health.ok()) return Fail("health", health.status());
  const char* names[] = {"UNKNOWN", "SERVING", "NOT_SERVING"};
  const int index = static_cast<int>(*health);
  std::printf("%s\n", index >= 0 && index <= 2 ? names[index] : "UNKNOWN");
  return *health == client::HealthStatus::kServing ? 0 : 1;
}

}  // namespace zett::cli
