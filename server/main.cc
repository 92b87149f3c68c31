// zett-server (--model-repository DIR | --model NAME=BASE_DIR,HYPERNET_DIR) --listen ADDR
//             [--metrics-listen ADDR] [limits, TLS, token]
//
// Serves zett.v1.TokenizerTransfer until SIGTERM/SIGINT, then drains: health goes NOT_SERVING,
// in-flight calls get --drain_seconds to finish.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/util/flags_help.h"
#include "server/default_loader.h"
#include "server/log.h"
#include "server/zett_server.h"

ABSL_FLAG(std::string, model_repository, "", "Folder of <model>/<version>/ directories.");
ABSL_FLAG(std::string, model, "",
          "NAME=BASE_DIR,HYPERNET_DIR: also serve these folders as model NAME, version 1, with no "
          "repository or manifest (e.g. default=models/base-lm,models/hypernet).");
ABSL_FLAG(std::string, listen, "0.0.0.0:50051", "gRPC address (host:port).");
ABSL_FLAG(std::string, metrics_listen, "", "Prometheus /metrics address; empty: off.");
ABSL_FLAG(uint64_t, max_request_bytes, 64ull << 20, "Largest accepted request message.");
ABSL_FLAG(uint64_t, max_vocab, 1ull << 19, "Largest target vocabulary (after conversion).");
ABSL_FLAG(uint64_t, max_surface_bytes, 64ull << 20,
          "Bytes of all token surface forms of one tokenizer together; one token has no limit "
          "(its decomposition is truncated to hn_surface_maxlen pieces).");
ABSL_FLAG(int, max_concurrent_requests, 8, "Transfer + PredictTokens calls in flight.");
ABSL_FLAG(uint64_t, max_predict_tokens, 4096, "Tokens of one PredictTokens call.");
ABSL_FLAG(uint64_t, cache_bytes, 1ull << 30, "Result cache capacity; 0: off.");
ABSL_FLAG(uint64_t, max_batch_rows, 4096, "Rows of one predict batch.");
ABSL_FLAG(int, load_threads, 2, "Threads that verify and load model versions.");
ABSL_FLAG(double, drain_seconds, 20, "Grace period for in-flight calls on SIGTERM.");
ABSL_FLAG(double, write_timeout_seconds, 30,
          "Cut a Transfer stream whose client takes no message for this long; 0: never.");
ABSL_FLAG(std::string, bearer_token_file, "",
          "File whose first line is the bearer token every zett.v1 call must send.");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate chain (enables TLS).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "", "PEM CA; when set, clients need certificates.");
ABSL_FLAG(std::string, device, "auto", "Where models run: auto (CUDA when present), cuda, cpu.");
ABSL_FLAG(std::string, compute_dtype, "auto",
          "Hypernetwork arithmetic: auto (bf16 on CUDA, fp32 on CPU), bf16, fp32. A request "
          "may ask for fp32 with options.compute_dtype.");
ABSL_FLAG(std::string, attention, "fused",
          "Attention kernels of the hypernetwork: fused (flash and memory-efficient; cuDNN's "
          "per-shape plans would make first requests slow), auto, flash, efficient, cudnn, math.");
ABSL_FLAG(int64_t, row_buckets_per_octave, 4,
          "Encoder chunks padded to this many row counts per octave (at most 1/N more rows), so "
          "warm-up runs every shape; 0: exact row counts (any count is a new shape).");
ABSL_FLAG(bool, warmup, true,
          "Run every batch shape once before a version turns AVAILABLE (first request as fast "
          "as later ones).");

namespace {

// The documented spelling is --model-repository; Abseil flag names use '_'.
std::vector<char*> NormalizeFlagNames(int argc, char** argv, std::vector<std::string>* storage) {
  storage->reserve(argc);
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      for (size_t j = 2; j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
    }
    storage->push_back(arg);
  }
  for (std::string& s : *storage) out.push_back(s.data());
  return out;
}

bool OneOf(const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace zett::server;
  std::vector<std::string> storage;
  std::vector<char*> args = NormalizeFlagNames(argc, argv, &storage);
  zett::ParseCommandLineWithHelp(
      static_cast<int>(args.size()), args.data(),
      "zett-server (--model-repository DIR | --model NAME=BASE_DIR,HYPERNET_DIR) --listen ADDR\n"
      "            [--metrics-listen ADDR]\n"
      "Serves zett.v1.TokenizerTransfer (docs/server.md); flags also take '-' for '_'.");

  ServerOptions options;
  options.model_repository = absl::GetFlag(FLAGS_model_repository);
  if (const std::string model = absl::GetFlag(FLAGS_model); !model.empty()) {
    absl::StatusOr<ModelSpec> spec = ParseModelSpec(model);
    if (!spec.ok()) {
      std::fprintf(stderr, "zett-server: %s\n", std::string(spec.status().message()).c_str());
      return 2;
    }
    options.models.push_back(*std::move(spec));
  }
  if (options.model_repository.empty() && options.models.empty()) {
    std::fprintf(stderr,
                 "zett-server: --model-repository DIR or --model NAME=BASE_DIR,HYPERNET_DIR is "
                 "required\n");
    return 2;
  }
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  ServiceLimits& limits = options.service.limits;
  limits.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  limits.max_vocab = absl::GetFlag(FLAGS_max_vocab);
  limits.max_surface_bytes = absl::GetFlag(FLAGS_max_surface_bytes);
  limits.max_concurrent_requests = absl::GetFlag(FLAGS_max_concurrent_requests);
  limits.max_predict_tokens = absl::GetFlag(FLAGS_max_predict_tokens);
  options.service.write_timeout_seconds = absl::GetFlag(FLAGS_write_timeout_seconds);
  options.cache_bytes = absl::GetFlag(FLAGS_cache_bytes);
  options.max_batch_rows = absl::GetFlag(FLAGS_max_batch_rows);
  options.load_threads = absl::GetFlag(FLAGS_load_threads);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  if (const std::string path = absl::GetFlag(FLAGS_bearer_token_file); !path.empty()) {
    std::ifstream in(path);
    std::getline(in, options.service.bearer_token);
    options.service.bearer_token =
        std::string(absl::StripAsciiWhitespace(options.service.bearer_token));
    if (options.service.bearer_token.empty()) {
      std::fprintf(stderr, "zett-server: no token in --bearer_token_file %s\n", path.c_str());
      return 2;
    }
  }

  HypernetLoaderOptions loader;
  loader.device = absl::GetFlag(FLAGS_device);
  loader.compute_dtype = absl::GetFlag(FLAGS_compute_dtype);
  if (!OneOf(loader.device, {"auto", "cuda", "cpu"}) ||
      !OneOf(loader.compute_dtype, {"auto", "bf16", "fp32"})) {
    std::fprintf(stderr,
                 "zett-server: --device takes auto|cuda|cpu, --compute_dtype auto|bf16|fp32\n");
    return 2;
  }
  loader.attention = absl::GetFlag(FLAGS_attention);
  loader.row_buckets_per_octave = absl::GetFlag(FLAGS_row_buckets_per_octave);
  if (!OneOf(loader.attention, {"fused", "auto", "flash", "efficient", "cudnn", "math"}) ||
      loader.row_buckets_per_octave < 0) {
    std::fprintf(stderr,
                 "zett-server: --attention takes fused|auto|flash|efficient|cudnn|math, "
                 "--row_buckets_per_octave a count >= 0\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_warmup))
    loader.warmup_rows = static_cast<int64_t>(options.max_batch_rows);

  // Block the stop signals in every thread; the main thread takes them with sigwait().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<ZettServer>> server =
      ZettServer::Start(options, MakeDefaultModelLoader(loader));
  if (!server.ok()) {
    LogError("server_start_failed", {{"error", server.status().ToString()}});
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogInfo("signal", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (!(*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_drain_seconds)))) {
    // A model still loading would hold the exit for as long as its load takes: the drain is
    // over and nothing is served, so leave without waiting (or running destructors).
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}
