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
#include "client/remote/embeddings_writer.h"
#include "client/remote/transfer_client.h"

namespace zett::cli {
namespace {

const std::vector<std::string> kConnectionFlags = {"--server", "--bearer-token-file", "--tls-ca",
                                                   "--timeout"};

// --flag VALUE pairs; anything else is an error naming the flag.
absl::StatusOr<std::map<std::string, std::string>> ParseFlags(const std::vector<std::string>& args,
                                                              std::vector<std::string> allowed) {
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
  if (!values.count("--server")) return absl::InvalidArgumentError("--server ADDR is required");
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

}  // namespace

int RunTransfer(const std::vector<std::string>& args) {
  auto flags = ParseFlags(args, {"--model", "--tokenizer", "--out", "--version", "--dtype",
                                 "--token-kind", "--special-tokens", "--language"});
  if (!flags.ok()) return Fail("transfer", flags.status());
  for (const char* required : {"--model", "--tokenizer", "--out"}) {
    if (!flags->count(required)) {
      return Fail("transfer", absl::InvalidArgumentError(absl::StrCat(required, " is required")));
    }
  }
  auto options = ConnectionOptions(*flags);
  if (!options.ok()) return Fail("transfer", options.status());

  v1::TransferRequest request;
  request.set_model(flags->at("--model"));
  if (auto it = flags->find("--version"); it != flags->end()) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(it->second, &version) || version < 0) {
      return Fail("transfer", absl::InvalidArgumentError("--version: not a version number"));
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
  const std::string dtype = flags->count("--dtype") ? flags->at("--dtype") : "fp32";
  const std::string kind = flags->count("--token-kind") ? flags->at("--token-kind") : "byte_level";
  if (!dtypes.count(dtype)) {
    return Fail("transfer", absl::InvalidArgumentError("--dtype: one of fp32, bf16, fp16"));
  }
  if (!kinds.count(kind)) {
    return Fail("transfer", absl::InvalidArgumentError(
                                "--token-kind: one of byte_level, sentencepiece, wordpiece, text"));
  }
  request.mutable_options()->set_dtype(dtypes.at(dtype));
  if (auto it = flags->find("--special-tokens"); it != flags->end()) {
    if (it->second != "copy" && it->second != "predict") {
      return Fail("transfer", absl::InvalidArgumentError("--special-tokens: copy or predict"));
    }
    request.mutable_options()->set_special_tokens(it->second == "copy"
                                                      ? v1::SPECIAL_TOKEN_POLICY_COPY_ORIGINAL
                                                      : v1::SPECIAL_TOKEN_POLICY_PREDICT);
  }
  if (auto it = flags->find("--language"); it != flags->end()) {
    request.mutable_options()->set_language(it->second);
  }
  if (absl::Status status =
          client::SetTokenizerFromFile(flags->at("--tokenizer"), kinds.at(kind), &request);
      !status.ok()) {
    return Fail("transfer", status);
  }

  auto channel = client::MakeChannel(*options);
  if (!channel.ok()) return Fail("transfer", channel.status());
  client::TransferClient transfer_client(*channel, *options);
  const absl::Time start = absl::Now();
  absl::StatusOr<client::TransferResult> result = transfer_client.Transfer(request, DrawProgress);
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
    shapes.push_back(absl::StrCat(client::TensorName(matrix), "[", data.rows, ",", data.cols, "]"));
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
    for (const v1::ModelVersion& version : model.versions()) {
      std::printf("  version %lld %s%s\n", static_cast<long long>(version.version()),
                  v1::VersionState_Name(version.state()).c_str() + 14,  // drop "VERSION_STATE_"
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
