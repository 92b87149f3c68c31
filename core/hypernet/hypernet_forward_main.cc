// hypernet_forward: runs a hypernetwork checkpoint on a surface-form matrix, for parity checks
// against a PyTorch implementation (scripts/parity/hypernet.py) and for timing.
//
//   hypernet_forward --hypernet=DIR --inputs=in.safetensors --output=out.safetensors
//                    [--device=cpu|cuda] [--dtype=float32|bfloat16] [--chunk_rows=N]
//                    [--group_by_length=true] [--projected=false] [--repeat=1]
//                    [--attention=auto] [--trace=trace.json]
//
// in.safetensors: surface_forms (int [V, L]), source_embeddings (float [V_orig, d or 2d]),
// optionally lang_index (int, one element). out.safetensors: embeddings_in, embeddings_out and
// bias (those the hypernet predicts) as float32.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/compat/kernel_trace.h"
#include "core/compat/torch_compat.h"
#include "core/hypernet/checkpoint.h"
#include "core/hypernet/hypernet.h"
#include "core/io/safetensors.h"
#include "core/util/flags_help.h"
#include "core/util/status_macros.h"

ABSL_FLAG(std::string, hypernet, "", "hypernetwork checkpoint folder");
ABSL_FLAG(std::string, inputs, "",
          "safetensors with surface_forms, source_embeddings[, lang_index]");
ABSL_FLAG(std::string, output, "", "safetensors to write the predictions to");
ABSL_FLAG(std::string, device, "cpu", "cpu or cuda[:N]");
ABSL_FLAG(std::string, dtype, "float32", "float32 or bfloat16");
ABSL_FLAG(int64_t, chunk_rows, 16384, "rows per encoder call");
ABSL_FLAG(bool, group_by_length, true, "sort rows by decomposition length");
ABSL_FLAG(bool, projected, false, "precompute the projected source table (server path)");
ABSL_FLAG(int, repeat, 1, "forward passes to time (the fastest is reported)");
ABSL_FLAG(std::string, attention, "auto",
          "attention kernels: auto, fused, flash, efficient, cudnn or math (SetAttentionBackend)");
ABSL_FLAG(std::string, trace, "",
          "after the timed passes, record one more under the Kineto profiler and write its "
          "Chrome trace here (scripts/bench/kernel_summary.py sums it by kernel)");

namespace zett {
namespace {

absl::StatusOr<at::ScalarType> ParseDType(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "bfloat16") return at::kBFloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("--dtype must be float32 or bfloat16, got ", name));
}

absl::Status Run() {
  ASSIGN_OR_RETURN(at::ScalarType dtype, ParseDType(absl::GetFlag(FLAGS_dtype)));
  const at::Device device(absl::GetFlag(FLAGS_device));
  if (!SetAttentionBackend(absl::GetFlag(FLAGS_attention))) {
    return absl::InvalidArgumentError(absl::StrCat("--attention=", absl::GetFlag(FLAGS_attention),
                                                   ": not a backend of this LibTorch"));
  }
  ASSIGN_OR_RETURN(Hypernet hypernet, LoadHypernet(absl::GetFlag(FLAGS_hypernet)));
  RETURN_IF_ERROR(hypernet.To(device, dtype));
  ASSIGN_OR_RETURN(TensorMap inputs, ReadSafetensors(absl::GetFlag(FLAGS_inputs)));
  if (inputs.count("surface_forms") == 0 || inputs.count("source_embeddings") == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(absl::GetFlag(FLAGS_inputs), ": needs surface_forms and source_embeddings"));
  }
  const at::Tensor surface_forms = inputs["surface_forms"];
  const at::Tensor source_embeddings = inputs["source_embeddings"].to(device);
  std::optional<int64_t> lang_index;
  if (inputs.count("lang_index") != 0) lang_index = inputs["lang_index"].item<int64_t>();

  HypernetForwardOptions options;
  options.chunk_rows = absl::GetFlag(FLAGS_chunk_rows);
  options.group_by_length = absl::GetFlag(FLAGS_group_by_length);
  c10::NoGradGuard no_grad;

  at::Tensor projected;
  if (absl::GetFlag(FLAGS_projected)) {
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(projected, hypernet.ProjectSourceEmbeddings(source_embeddings));
    projected.sum().item<float>();  // waits for the device
    std::printf("projected %ld source rows in %.1f ms\n", static_cast<long>(projected.size(0)),
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
  }
  // One forward, waited for: a scalar read waits for every kernel queued before it, so a
  // timing covers the whole forward and nothing else.
  auto forward = [&]() -> absl::StatusOr<HypernetOutput> {
    absl::StatusOr<HypernetOutput> out =
        projected.defined()
            ? hypernet.ForwardProjected(surface_forms, projected, source_embeddings, lang_index,
                                        options)
            : hypernet.Forward(surface_forms, source_embeddings, lang_index, options);
    if (out.ok()) out->embeddings_in.sum().item<float>();
    return out;
  };
  TensorMap outputs;
  double best_ms = 1e300;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_repeat)); ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(HypernetOutput out, forward());  // the host copy below is not timed
    best_ms = std::min(
        best_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    outputs.clear();
    outputs["embeddings_in"] = out.embeddings_in.to(at::kCPU, at::kFloat);
    if (out.embeddings_out.defined()) {
      outputs["embeddings_out"] = out.embeddings_out.to(at::kCPU, at::kFloat);
    }
    if (out.bias.defined()) outputs["bias"] = out.bias.to(at::kCPU, at::kFloat);
  }
  if (const std::string trace = absl::GetFlag(FLAGS_trace); !trace.empty()) {
    RETURN_IF_ERROR(StartKernelTrace());
    const absl::StatusOr<HypernetOutput> traced = forward();
    const absl::Status stopped = StopKernelTrace(trace);
    RETURN_IF_ERROR(traced.status());
    RETURN_IF_ERROR(stopped);
    std::printf("trace: %s\n", trace.c_str());
  }
  std::printf("forward: %ld rows x %ld, %s %s, %.2f ms\n", static_cast<long>(surface_forms.size(0)),
              static_cast<long>(surface_forms.size(1)), device.str().c_str(),
              absl::GetFlag(FLAGS_dtype).c_str(), best_ms);
  return WriteSafetensors(absl::GetFlag(FLAGS_output), outputs,
                          {{"forward_ms", absl::StrCat(best_ms)}});
}

}  // namespace
}  // namespace zett

int main(int argc, char** argv) {
  zett::ParseCommandLineWithHelp(
      argc, argv,
      "hypernet_forward --hypernet=DIR --inputs=in.safetensors --output=out.safetensors");
  const absl::Status status = zett::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "hypernet_forward: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
