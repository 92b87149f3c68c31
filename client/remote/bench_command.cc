#include "client/remote/bench_command.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/remote/transfer_client.h"

namespace zett::cli {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "zett bench: %s\n", message.c_str());
  return 1;
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  return values[index];
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  std::map<std::string, std::string> flags = {{"--rpc", "transfer"},
                                              {"--streams", "4"},
                                              {"--seconds", "10"},
                                              {"--dtype", "bf16"},
                                              {"--tokens", "64"}};
  const std::vector<std::string> known = {"--server",  "--model",   "--tokenizer", "--rpc",
                                          "--streams", "--seconds", "--dtype",     "--tokens"};
  for (size_t i = 0; i < args.size(); i += 2) {
    if (std::find(known.begin(), known.end(), args[i]) == known.end() || i + 1 >= args.size()) {
      return Fail(absl::StrCat("unknown flag or missing value: '", args[i], "'"));
    }
    flags[args[i]] = args[i + 1];
  }
  for (const char* required : {"--server", "--model", "--tokenizer"}) {
    if (!flags.count(required)) return Fail(absl::StrCat(required, " is required"));
  }
  int streams = 0;
  double seconds = 0;
  int tokens = 0;
  if (!absl::SimpleAtoi(flags["--streams"], &streams) || streams < 1 ||
      !absl::SimpleAtod(flags["--seconds"], &seconds) || seconds <= 0 ||
      !absl::SimpleAtoi(flags["--tokens"], &tokens) || tokens < 1) {
    return Fail("--streams, --seconds and --tokens must be positive numbers");
  }
  const std::map<std::string, v1::DType> dtypes = {
      {"fp32", v1::DTYPE_FP32}, {"bf16", v1::DTYPE_BF16}, {"fp16", v1::DTYPE_FP16}};
  if (!dtypes.count(flags["--dtype"])) return Fail("--dtype: one of fp32, bf16, fp16");
  const bool predict_tokens = flags["--rpc"] == "predict_tokens";
  if (!predict_tokens && flags["--rpc"] != "transfer") {
    return Fail("--rpc: transfer or predict_tokens");
  }

  v1::TransferRequest transfer;
  transfer.set_model(flags["--model"]);
  transfer.mutable_options()->set_dtype(dtypes.at(flags["--dtype"]));
  transfer.mutable_options()->set_bypass_cache(true);
  if (absl::Status status =
          client::SetTokenizerFromFile(flags["--tokenizer"], v1::TOKEN_KIND_BYTE_LEVEL, &transfer);
      !status.ok()) {
    return Fail(status.ToString());
  }
  v1::PredictTokensRequest predict;
  if (predict_tokens) {
    if (!transfer.has_token_list()) return Fail("predict_tokens needs a token-list file");
    predict.set_model(flags["--model"]);
    *predict.mutable_options() = transfer.options();
    predict.mutable_tokens()->set_kind(transfer.token_list().kind());
    for (int i = 0; i < std::min(tokens, transfer.token_list().tokens_size()); ++i) {
      predict.mutable_tokens()->add_tokens(transfer.token_list().tokens(i));
    }
  }

  client::ClientOptions options;
  options.address = flags["--server"];
  auto channel = client::MakeChannel(options);
  if (!channel.ok()) return Fail(channel.status().ToString());

  std::mutex mutex;
  std::vector<double> latencies;
  std::atomic<uint64_t> bytes{0}, rows{0}, errors{0};
  std::string first_error;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&] {
      client::TransferClient transfer_client(*channel, options);
      while (absl::Now() < end) {
        const absl::Time call_start = absl::Now();
        absl::Status status;
        if (predict_tokens) {
          auto response = transfer_client.PredictTokens(predict);
          status = response.status();
          if (response.ok()) {
            for (const v1::RowBlock& block : response->rows()) {
              bytes += block.data().size();
              rows += block.num_rows();
            }
          }
        } else {
          auto result = transfer_client.Transfer(transfer);
          status = result.status();
          if (result.ok()) {
            for (const auto& [matrix, data] : result->matrices) {
              bytes += data.bytes.size();
              rows += data.rows;
            }
          }
        }
        const double latency = absl::ToDoubleSeconds(absl::Now() - call_start);
        std::lock_guard<std::mutex> lock(mutex);
        if (status.ok()) {
          latencies.push_back(latency);
        } else {
          ++errors;
          if (first_error.empty()) first_error = status.ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "rpc=%s streams=%d seconds=%.2f calls=%zu errors=%llu calls_per_s=%.2f rows_per_s=%.0f "
      "MB_per_s=%.1f p50_ms=%.2f p99_ms=%.2f%s%s\n",
      flags["--rpc"].c_str(), streams, elapsed, latencies.size(),
      static_cast<unsigned long long>(errors.load()), latencies.size() / elapsed,
      rows.load() / elapsed, bytes.load() / 1e6 / elapsed, 1e3 * Percentile(latencies, 0.5),
      1e3 * Percentile(latencies, 0.99),
      first_error.empty() ? "" : " first_error=", first_error.c_str());
  return errors.load() == 0 && !latencies.empty() ? 0 : 1;
}

}  // namespace zett::cli
