// libFuzzer target: arbitrary bytes as a zett.v1 request on the wire, through what zett-server
// does with it on the CPU before any device work — parse the message, validate it against the
// limits, resolve its options, load the tokenizer it carries and decompose it against the
// original tokenizer (what the engine's Prepare runs). Every input must end in a status, never
// a crash, a leak or a sanitizer report. The first byte picks the message: even = a
// TransferRequest, odd = a PredictTokensRequest.
//   env ZETT_FUZZ_ORIGINAL: the original tokenizer.json (scripts/fuzz.sh sets the bundled one)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer_file.h"
#include "proto/zett/v1/zett.pb.h"
#include "server/request_validation.h"

namespace {

namespace tk = ::zett::tokenizer;
using zett::server::ServiceLimits;
using zett::server::TokenizerInput;

constexpr int kSurfaceMaxlen = 7;

const tk::Decomposer& Original() {
  static const tk::Decomposer* decomposer = [] {
    const char* path = std::getenv("ZETT_FUZZ_ORIGINAL");
    auto original = tk::LoadTokenizerFile(path != nullptr ? path : "tokenizer.json");
    if (!original.ok()) std::abort();  // a setup error, not a finding
    static std::unique_ptr<tk::Tokenizer> keep = *std::move(original);
    return tk::Decomposer::Create(*keep)->release();
  }();
  return *decomposer;
}

// The server's limits, smaller where a fuzz iteration would otherwise take seconds.
ServiceLimits FuzzLimits() {
  ServiceLimits limits;
  limits.max_vocab = 1 << 12;
  limits.max_surface_bytes = 1 << 16;
  limits.max_predict_tokens = 256;
  return limits;
}

zett::server::ModelMetadata Metadata() {
  zett::server::ModelMetadata m;
  m.architecture = "LlamaForCausalLM";
  m.hidden_size = 64;
  m.original_vocab_size = 32000;
  m.predicts_bias = true;
  m.surface_maxlen = kSurfaceMaxlen;
  m.languages = {"en", "de"};
  return m;
}

void Decompose(const TokenizerInput& input) {
  const tk::Decomposer& original = Original();
  if (input.format == TokenizerInput::Format::kTokenList) {
    std::vector<std::string> forms = input.tokens;
    forms.insert(forms.end(), input.special_tokens.begin(), input.special_tokens.end());
    std::vector<uint8_t> flags(forms.size(), 0);
    for (size_t i = input.tokens.size(); i < forms.size(); ++i) flags[i] = tk::kSpecial;
    (void)original.DecomposeSurfaceForms(std::move(forms), std::move(flags), kSurfaceMaxlen, 0);
    return;
  }
  auto target = tk::LoadTokenizerBytes(
      input.bytes, tk::TokenizerConfigFiles::FromContents(input.tokenizer_config_json,
                                                          input.special_tokens_map_json));
  if (!target.ok() || (*target)->vocab_size() > (1 << 12)) return;
  tk::DecomposeOptions options;
  options.max_len = kSurfaceMaxlen;
  (void)original.Decompose(**target, options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const ServiceLimits limits = FuzzLimits();
  static const zett::server::ModelMetadata metadata = Metadata();
  const bool predict = data[0] & 1;
  if (predict) {
    zett::v1::PredictTokensRequest request;
    if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
    if (!zett::server::ResolveOptions(request.options(), request.model(), metadata, limits).ok())
      return 0;
    auto input = zett::server::TokenizerInputFromList(request.tokens(), "tokens",
                                                      limits.max_predict_tokens, limits);
    if (input.ok()) Decompose(*input);
    return 0;
  }
  zett::v1::TransferRequest request;
  if (!request.ParseFromArray(data + 1, static_cast<int>(size - 1))) return 0;
  if (!zett::server::ResolveOptions(request.options(), request.model(), metadata, limits).ok())
    return 0;
  auto input = zett::server::TokenizerInputFromRequest(request, limits);
  if (input.ok()) Decompose(*input);
  return 0;
}
