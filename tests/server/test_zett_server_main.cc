// TEST DOUBLE SERVER, never the product: zett-server wired to DeterministicTestLoader, for
// clients in other languages (tests/client/python_package_test.sh).
//   test_zett_server --write_test_repository DIR --listen 127.0.0.1:0
// writes DIR/demo/1 (untied, bias, d = 8) and serves it; logs the bound port; stops on SIGTERM.
#include <signal.h>

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "server/zett_server.h"
#include "tests/server/deterministic_test_model.h"

ABSL_FLAG(std::string, write_test_repository, "", "Folder to create the demo repository in.");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "gRPC address.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string root = absl::GetFlag(FLAGS_write_test_repository);
  if (root.empty()) return 2;
  zett::testing::WriteTestModelVersion(
      root, "demo", 1,
      R"({"hidden_size": 8, "tied": false, "predicts_bias": true, "surface_maxlen": 4})");
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  zett::server::ServerOptions options;
  options.model_repository = root;
  options.listen = absl::GetFlag(FLAGS_listen);
  auto server = zett::server::ZettServer::Start(
      options, std::make_shared<zett::testing::DeterministicTestLoader>());
  if (!server.ok()) return 1;
  (*server)->WaitUntilLoaded();
  std::printf("port=%d\n", (*server)->port());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  (*server)->Shutdown(absl::Seconds(2));
  return 0;
}
