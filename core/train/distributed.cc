#include "core/train/distributed.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"

// The c10d headers declare their backends only under LibTorch's own build flags; the build
// system sets ZETT_WITH_C10D_* where the headers (gloo/, nccl.h) were found and compile.
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef ZETT_WITH_C10D_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef ZETT_WITH_C10D_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#ifndef USE_CUDA  // as the CMake probe compiled it
#define USE_CUDA 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace zett {
namespace {

using Collective = std::function<void(std::vector<at::Tensor>&)>;

absl::Status EnvInt(const char* name, int64_t* value) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return absl::OkStatus();
  if (!absl::SimpleAtoi(text, value)) {
    return absl::InvalidArgumentError(absl::StrCat("$", name, "=", text, " is not an integer"));
  }
  return absl::OkStatus();
}

bool IsLoopback(const std::string& address) {
  return address == "localhost" || absl::StartsWith(address, "127.") || address == "::1";
}

#ifdef ZETT_WITH_C10D_GLOO
// GLOO_SOCKET_IFNAME as in PyTorch; a loopback master means a one-host job on loopback (the
// default device resolves the host name, which a sandbox may not know).
std::shared_ptr<::gloo::transport::Device> GlooDevice(const std::string& master_addr) {
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
  if (interface != nullptr && *interface != '\0') {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (IsLoopback(master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

absl::Status Collect(const std::string& what, const std::function<void()>& call) {
  try {
    call();
    return absl::OkStatus();
  } catch (const c10::Error& e) {
    return absl::UnavailableError(absl::StrCat(what, ": ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace

absl::StatusOr<DistributedOptions> DistributedOptionsFromEnv() {
  DistributedOptions o;
  RETURN_IF_ERROR(EnvInt("WORLD_SIZE", &o.world_size));
  RETURN_IF_ERROR(EnvInt("RANK", &o.rank));
  RETURN_IF_ERROR(EnvInt("LOCAL_RANK", &o.local_rank));
  RETURN_IF_ERROR(EnvInt("MASTER_PORT", &o.master_port));
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
    o.master_addr = addr;
  }
  RETURN_IF_ERROR(ValidateDistributedOptions(o));
  return o;
}

std::vector<std::string> AvailableBackends() {
  std::vector<std::string> backends;
#ifdef ZETT_WITH_C10D_GLOO
  backends.push_back("gloo");
#endif
#ifdef ZETT_WITH_C10D_NCCL
  backends.push_back("nccl");
#endif
  return backends;
}

absl::Status ValidateDistributedOptions(const DistributedOptions& o) {
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size) {
    return absl::InvalidArgumentError(absl::StrCat("rank ", o.rank, " and world size ",
                                                   o.world_size, ": need 0 <= rank < world size"));
  }
  if (o.master_port < 1 || o.master_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("master port ", o.master_port, " not in 1-65535"));
  }
  if (o.backend != "auto" && o.backend != "gloo" && o.backend != "nccl") {
    return absl::InvalidArgumentError(
        absl::StrCat("backend '", o.backend, "': expected auto, gloo or nccl"));
  }
  if (o.timeout_seconds <= 0) return absl::InvalidArgumentError("timeout must be positive");
  return absl::OkStatus();
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;  // declared first: the process group goes first
  Collective allreduce, broadcast;
  std::function<void()> shutdown;  // NCCL wants its communicators destroyed before exit
  bool via_host = false;           // Gloo with CUDA tensors: reduce a host copy
};

Communicator::Communicator(int64_t rank, int64_t world_size, at::Device device)
    : rank_(rank), world_size_(world_size), device_(device), impl_(std::make_unique<Impl>()) {}

Communicator::~Communicator() {
  if (impl_ && impl_->shutdown) impl_->shutdown();
}

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Create(const DistributedOptions& o,
                                                                   at::Device device) {
  RETURN_IF_ERROR(ValidateDistributedOptions(o));
  setenv("NCCL_NVLS_ENABLE", "0", /*overwrite=*/0);  // NVLink multicast off unless asked for
  std::unique_ptr<Communicator> comm(new Communicator(o.rank, o.world_size, device));
  if (o.world_size == 1) return comm;

  const std::vector<std::string> available = AvailableBackends();
  auto has = [&](const std::string& b) {
    return std::find(available.begin(), available.end(), b) != available.end();
  };
  std::string backend = o.backend;
  if (backend == "auto") backend = device.is_cuda() && has("nccl") ? "nccl" : "gloo";
  if (!has(backend)) {
    return absl::UnimplementedError(
        absl::StrCat("distributed backend ", backend, " is not in this build (available: ",
                     available.empty() ? "none" : absl::StrJoin(available, ", "), ")"));
  }
  if (backend == "nccl" && !device.is_cuda()) {
    return absl::InvalidArgumentError("the nccl backend needs a CUDA device");
  }
  comm->backend_ = backend;
  const std::chrono::milliseconds timeout(o.timeout_seconds * 1000);
  Impl& impl = *comm->impl_;
  RETURN_IF_ERROR(Collect(
      absl::StrCat("rendezvous at ", o.master_addr, ":", o.master_port, " as rank ", o.rank, "/",
                   o.world_size),
      [&] {
        c10d::TCPStoreOptions store_options;
        store_options.port = static_cast<uint16_t>(o.master_port);
        store_options.isServer = o.rank == 0;
        store_options.numWorkers = static_cast<size_t>(o.world_size);
        store_options.waitWorkers = true;
        store_options.timeout = timeout;
        impl.store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, store_options);
        const int rank = static_cast<int>(o.rank), size = static_cast<int>(o.world_size);
#ifdef ZETT_WITH_C10D_GLOO
        if (backend == "gloo") {
          auto options = c10d::ProcessGroupGloo::Options::create(timeout);
          options->devices.push_back(GlooDevice(o.master_addr));
          auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl.store, rank, size, options);
          impl.allreduce = [pg](std::vector<at::Tensor>& t) { pg->allreduce(t)->wait(); };
          impl.broadcast = [pg](std::vector<at::Tensor>& t) { pg->broadcast(t)->wait(); };
          impl.via_host = device.is_cuda();
        }
#endif
#ifdef ZETT_WITH_C10D_NCCL
        if (backend == "nccl") {
          auto options = c10d::ProcessGroupNCCL::Options::create();
          options->timeout = timeout;
          auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl.store, rank, size, options);
          impl.allreduce = [pg](std::vector<at::Tensor>& t) { pg->allreduce(t)->wait(); };
          impl.broadcast = [pg](std::vector<at::Tensor>& t) { pg->broadcast(t)->wait(); };
          impl.shutdown = [pg] { pg->shutdown(); };
        }
#endif
      }));
  if (!impl.allreduce) return absl::InternalError("no process group for " + backend);
  return comm;
}

absl::Status Communicator::AllReduceSum(const std::vector<at::Tensor>& tensors) {
  if (world_size_ == 1 || tensors.empty()) return absl::OkStatus();
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (const at::Tensor& t : tensors) {
    if (t.scalar_type() != tensors[0].scalar_type() || t.device() != tensors[0].device()) {
      return absl::InvalidArgumentError("AllReduceSum: tensors differ in dtype or device");
    }
    parts.push_back(t.reshape({-1}));
  }
  std::vector<at::Tensor> flat = {impl_->via_host ? at::cat(parts).cpu() : at::cat(parts)};
  RETURN_IF_ERROR(Collect("all-reduce", [&] { impl_->allreduce(flat); }));
  const at::Tensor sum = flat[0].to(tensors[0].device());
  int64_t offset = 0;
  for (const at::Tensor& t : tensors) {
    const_cast<at::Tensor&>(t).copy_(sum.narrow(0, offset, t.numel()).reshape(t.sizes()));
    offset += t.numel();
  }
  return absl::OkStatus();
}

absl::Status Communicator::Broadcast(const std::vector<at::Tensor>& tensors) {
  if (world_size_ == 1 || tensors.empty()) return absl::OkStatus();
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (const at::Tensor& t : tensors) parts.push_back(t.detach().to(at::kFloat).reshape({-1}));
  std::vector<at::Tensor> flat = {impl_->via_host ? at::cat(parts).cpu() : at::cat(parts)};
  RETURN_IF_ERROR(Collect("broadcast", [&] { impl_->broadcast(flat); }));
  const at::Tensor values = flat[0].to(tensors[0].device());
  int64_t offset = 0;
  for (const at::Tensor& t : tensors) {
    at::Tensor target = t.detach();
    target.copy_(values.narrow(0, offset, t.numel()).reshape(t.sizes()));
    offset += t.numel();
  }
  return absl::OkStatus();
}

absl::Status Communicator::Barrier() {
  // An all-reduce on our own device: NCCL's barrier() guesses the device from the rank.
  return AllReduceSum({at::ones({1}, at::TensorOptions().device(device_))});
}

absl::StatusOr<std::vector<std::string>> Communicator::GatherToRoot(const std::string& tag,
                                                                    const std::string& mine) {
  if (world_size_ == 1) return std::vector<std::string>{mine};
  auto key = [&](int64_t rank) { return absl::StrCat("zett/", tag, "/", rank); };
  std::vector<std::string> all;
  RETURN_IF_ERROR(Collect("gather " + tag, [&] {
    if (!is_root()) {
      impl_->store->set(key(rank_), std::vector<uint8_t>(mine.begin(), mine.end()));
      return;
    }
    all.push_back(mine);
    for (int64_t r = 1; r < world_size_; ++r) {
      const std::vector<uint8_t> bytes = impl_->store->get(key(r));  // waits for rank r
      all.emplace_back(bytes.begin(), bytes.end());
      impl_->store->deleteKey(key(r));
    }
  }));
  return all;
}

}  // namespace zett
