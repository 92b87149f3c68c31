#include <iostream>

#include "core/io/json_file.h"
#include "core/train/command_line.h"
#include "core/train/commands.h"
#include "core/train/run_plots.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

struct PlotCommandOptions {
  std::string run, out;
};

absl::StatusOr<PlotCommandOptions> ParseOptions(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(CommandLine flags, CommandLine::Parse(args));
  PlotCommandOptions o;
  ASSIGN_OR_RETURN(o.run, flags.GetRequiredString("run"));
  o.out = flags.GetString("out", o.run + "/loss_curve.png");
  RETURN_IF_ERROR(flags.CheckAllUsed());
  return o;
}

absl::Status Plot(const PlotCommandOptions& o) {
  ASSIGN_OR_RETURN(nlohmann::json state, ReadJsonFile(o.run + "/trainer_state.json"));
  RETURN_IF_ERROR(WriteRunLossCurve(o.out, state));
  std::cout << "wrote " << o.out << "\n";
  return absl::OkStatus();
}

}  // namespace

int PlotCommand(const std::vector<std::string>& args) {
  return RunSubcommand("plot", ParseOptions(args), Plot);
}

}  // namespace zett
