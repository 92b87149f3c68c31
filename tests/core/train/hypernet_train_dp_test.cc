// Data-parallel hypernetwork training: two CPU processes with Gloo make the updates one
// process makes over both shards, and their checkpoint resumes in one process.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/train/distributed.h"
#include "core/train/hypernet_train.h"
#include "core/train/pretrain.h"
#include "tests/core/train/tiny_corpus.h"

extern char** environ;

namespace zett {
namespace {

namespace fs = std::filesystem;

// The test and its rank processes agree on these paths (the ranks inherit TEST_TMPDIR).
std::string Root() { return (fs::path(::testing::TempDir()) / "hn_dp").string(); }
std::string Corpus() { return Root() + "/corpus"; }
std::string Base() { return Corpus() + "/base"; }

HypernetTrainOptions Options(const std::string& output_dir) {
  HypernetTrainOptions o;
  o.base_dir = Base();
  o.train_files = Corpus() + "/train/*.txt";
  o.output_dir = output_dir;
  o.hn_n_layers = 1;
  o.hn_surface_maxlen = 4;
  o.hn_num_attention_heads = 2;
  o.residual = false;
  o.sample_vocab_size = 600;
  o.sampler_queue_batches = 4;
  o.steps = 6;
  o.mimick_steps = 1;  // one MIMICK step, then the main stage
  o.mimick_tokens = 32;
  o.batch_size = 2;
  o.shards = 2;
  o.seq_len = 24;
  o.text_bytes = 80;
  o.lr = 3e-3;
  o.warmup_steps = 2;
  o.log_every = 3;
  o.eval_every = 100;
  o.save_every = 3;
  o.device = "cpu";
  o.dtype = "float32";
  o.data_workers = 2;  // part of the batch stream: the same in every compared run
  return o;
}

// In the rank processes only: the test below re-executes this binary with this (disabled) test
// selected and torchrun's variables set.
TEST(HypernetTrainDpRank, DISABLED_Train) {
  const char* output = std::getenv("ZETT_DP_OUTPUT");
  const char* stop_after = std::getenv("ZETT_DP_STOP_AFTER");
  ASSERT_TRUE(output != nullptr && stop_after != nullptr) << "run by HypernetTrainDpTest only";
  HypernetTrainOptions o = Options(output);
  o.stop_after = std::atoi(stop_after);
  auto distributed = DistributedOptionsFromEnv();
  ASSERT_TRUE(distributed.ok()) << distributed.status();
  o.distributed = *distributed;
  o.distributed.backend = "gloo";
  o.distributed.timeout_seconds = 120;
  const absl::Status status = RunHypernetTrain(o);
  ASSERT_TRUE(status.ok()) << status;
}

// Runs `world_size` rank processes on loopback; returns their exit statuses.
std::vector<int> RunRanks(int world_size, const std::string& output_dir, int stop_after) {
  const int port = 20000 + static_cast<int>(getpid() % 12000);  // loopback test port range
  // The ranks must not write the test's XML report or take part in test sharding.
  auto inherited = [](const std::string& var) {
    for (const char* prefix : {"GTEST_", "XML_OUTPUT_FILE=", "TEST_SHARD_", "TEST_PREMATURE_",
                               "RANK=", "LOCAL_RANK=", "WORLD_SIZE=", "MASTER_"}) {
      if (absl::StartsWith(var, prefix)) return false;
    }
    return true;
  };
  std::vector<std::string> base_env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (inherited(*e)) base_env.push_back(*e);
  }
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> args = {exe, "--gtest_filter=HypernetTrainDpRank.DISABLED_Train",
                                   "--gtest_also_run_disabled_tests"};
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    std::vector<std::string> env = base_env;
    env.push_back(absl::StrCat("RANK=", rank));
    env.push_back(absl::StrCat("LOCAL_RANK=", rank));
    env.push_back(absl::StrCat("WORLD_SIZE=", world_size));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back(absl::StrCat("MASTER_PORT=", port));
    env.push_back("ZETT_DP_OUTPUT=" + output_dir);
    env.push_back(absl::StrCat("ZETT_DP_STOP_AFTER=", stop_after));
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& v : env) envp.push_back(v.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) {
      ADD_FAILURE() << "posix_spawn " << exe;
      continue;
    }
    pids.push_back(pid);
  }
  std::vector<int> statuses;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    statuses.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return statuses;
}

void ExpectSameTensors(const std::string& a_path, const std::string& b_path) {
  auto a = ReadSafetensors(a_path);
  auto b = ReadSafetensors(b_path);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->size(), b->size());
  for (const auto& [name, tensor] : *a) {
    ASSERT_TRUE(b->count(name)) << name;
    EXPECT_TRUE(at::allclose(tensor.to(at::kDouble), b->at(name).to(at::kDouble), 1e-4, 1e-6))
        << a_path << " vs " << b_path << ": " << name << " differs by "
        << (tensor.to(at::kDouble) - b->at(name).to(at::kDouble)).abs().max().item<double>();
  }
}

nlohmann::json State(const std::string& dir) {
  auto state = ReadJsonFile(dir + "/trainer_state.json");
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *state : nlohmann::json();
}

class HypernetTrainDpTest : public ::testing::Test {
 protected:
  // The tiny corpus and a tiny Llama base LM pretrained on it for a few steps.
  static void SetUpTestSuite() {
    fs::remove_all(Root());
    ASSERT_EQ(MakeTinyCorpus(Corpus()), "");
    PretrainOptions p;
    p.train_files = Corpus() + "/train/*.txt";
    p.tokenizer_dir = Corpus() + "/tokenizer";
    p.output_dir = Base();
    p.hidden_size = 16;
    p.num_hidden_layers = 1;
    p.num_attention_heads = 2;
    p.num_key_value_heads = 1;
    p.intermediate_size = 32;
    p.steps = 10;
    p.batch_size = 8;
    p.seq_len = 32;
    p.lr = 1e-2;
    p.warmup_steps = 2;
    p.log_every = 10;
    p.save_every = 10;
    p.save_dtype = "float32";
    p.token_cache_dir = "";
    p.device = "cpu";
    p.dtype = "float32";
    ASSERT_TRUE(RunPretrain(p).ok());
  }
};

TEST_F(HypernetTrainDpTest, TwoGlooRanksMatchOneProcessOverBothShardsAndResumeInOne) {
  // The PyTorch wheel's LibTorch (GPU hosts) ships NCCL but no Gloo, and NCCL refuses two
  // ranks on one GPU: there the CPU-rank equivalence cannot run.
  const std::vector<std::string> backends = AvailableBackends();
  if (std::find(backends.begin(), backends.end(), "gloo") == backends.end()) {
    GTEST_SKIP() << "this LibTorch has no Gloo backend";
  }
  // Reference: one process over both shards, saved at step 3 (kept) and at step 6.
  HypernetTrainOptions reference = Options(Root() + "/reference");
  reference.stop_after = 3;
  absl::Status status = RunHypernetTrain(reference);
  ASSERT_TRUE(status.ok()) << status;
  const std::string reference_3 = Root() + "/reference_3";
  fs::copy(reference.output_dir, reference_3, fs::copy_options::recursive);
  reference.stop_after = 0;
  status = RunHypernetTrain(reference);
  ASSERT_TRUE(status.ok()) << status;

  // Two ranks (one shard each) to step 3: the same parameters and optimizer state.
  const std::string parallel = Root() + "/parallel";
  const std::vector<int> exits = RunRanks(2, parallel, 3);
  ASSERT_EQ(exits, std::vector<int>({0, 0})) << "rank exit statuses";
  const nlohmann::json parallel_state = State(parallel), reference_state = State(reference_3);
  EXPECT_EQ(parallel_state["step"], 3);
  EXPECT_EQ(parallel_state["extra"]["shards"], 2);
  ExpectSameTensors(parallel + "/model.safetensors", reference_3 + "/model.safetensors");
  ExpectSameTensors(parallel + "/optimizer.safetensors", reference_3 + "/optimizer.safetensors");
  const auto& logged = parallel_state["history"]["train"];
  const auto& expected = reference_state["history"]["train"];
  ASSERT_EQ(logged.size(), expected.size());
  EXPECT_NEAR(logged.back()["loss"].get<double>(), expected.back()["loss"].get<double>(), 1e-4);
  EXPECT_TRUE(fs::exists(parallel + "/sampler_state.1.txt"));  // rank 1's shard, via the store

  // The two-rank checkpoint resumes in one process (world size 1, both shards) to step 6.
  HypernetTrainOptions resumed = Options(parallel);
  resumed.shards = 0;  // the checkpoint's
  status = RunHypernetTrain(resumed);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(State(parallel)["step"], 6);
  ExpectSameTensors(parallel + "/model.safetensors", reference.output_dir + "/model.safetensors");

  // And training moved the parameters between steps 3 and 6.
  auto at_3 = ReadSafetensors(reference_3 + "/model.safetensors");
  auto at_6 = ReadSafetensors(reference.output_dir + "/model.safetensors");
  ASSERT_TRUE(at_3.ok() && at_6.ok());
  EXPECT_FALSE(
      at_3->at("output_projection.1.weight").equal(at_6->at("output_projection.1.weight")));
}

TEST_F(HypernetTrainDpTest, ResumingWithOtherShardsIsRefused) {
  HypernetTrainOptions o = Options(Root() + "/shards_changed");
  o.stop_after = 1;
  ASSERT_TRUE(RunHypernetTrain(o).ok());
  o.stop_after = 0;
  o.shards = 3;
  const absl::Status status = RunHypernetTrain(o);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "2 shards")) << status;
}

TEST(DistributedOptions, ReadTorchrunVariablesAndRejectBadOnes) {
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "3", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "10.0.0.2", 1);
  setenv("MASTER_PORT", "23456", 1);
  auto o = DistributedOptionsFromEnv();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->world_size, 4);
  EXPECT_EQ(o->rank, 3);
  EXPECT_EQ(o->local_rank, 1);
  EXPECT_EQ(o->master_addr, "10.0.0.2");
  EXPECT_EQ(o->master_port, 23456);
  setenv("RANK", "4", 1);  // not below the world size
  EXPECT_EQ(DistributedOptionsFromEnv().status().code(), absl::StatusCode::kInvalidArgument);
  setenv("RANK", "two", 1);
  EXPECT_EQ(DistributedOptionsFromEnv().status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* name : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    unsetenv(name);
  }
  DistributedOptions bad;
  bad.backend = "mpi";
  EXPECT_EQ(ValidateDistributedOptions(bad).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Communicator, OneRankNeedsNoRendezvousAndLeavesTensorsAlone) {
  unsetenv("NCCL_NVLS_ENABLE");
  DistributedOptions o;
  o.master_port = 1;  // never used with one rank
  auto comm = Communicator::Create(o, at::Device(at::kCPU));
  ASSERT_TRUE(comm.ok()) << comm.status();
  EXPECT_TRUE((*comm)->is_root());
  at::Tensor t = at::arange(4, at::kFloat);
  ASSERT_TRUE((*comm)->AllReduceSum({t}).ok());
  EXPECT_TRUE(t.equal(at::arange(4, at::kFloat)));
  auto gathered = (*comm)->GatherToRoot("x", "mine");
  ASSERT_TRUE(gathered.ok());
  EXPECT_EQ(*gathered, std::vector<std::string>({"mine"}));
  EXPECT_STREQ(std::getenv("NCCL_NVLS_ENABLE"), "0");  // NVLink multicast stays off
}

}  // namespace
}  // namespace zett
