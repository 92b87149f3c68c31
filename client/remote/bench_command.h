// `zett bench`: N concurrent Transfer (or PredictTokens) streams for T seconds against a
// zett-server; prints throughput and latency percentiles. Bypasses the server's result cache.
#ifndef ZETT_CLIENT_REMOTE_BENCH_COMMAND_H_
#define ZETT_CLIENT_REMOTE_BENCH_COMMAND_H_

#include <string>
#include <vector>

namespace zett::cli {

// zett bench --server ADDR --model NAME --tokenizer PATH [--rpc transfer|predict_tokens]
//   [--streams 4] [--seconds 10] [--dtype bf16] [--tokens 64]   (plaintext, no auth)
// predict_tokens sends the first --tokens tokens of a token-list file per call.
int RunBench(const std::vector<std::string>& args);

}  // namespace zett::cli

#endif  // ZETT_CLIENT_REMOTE_BENCH_COMMAND_H_
