/* commands.h - every subcommand the tool knows; one cmd_<name>.c each. */
#ifndef ESL_COMMANDS_H
#define ESL_COMMANDS_H

#include "cli.h"

extern const cli_command cmd_bench;
extern const cli_command cmd_calibrate;
extern const cli_command cmd_fit;
extern const cli_command cmd_flops;
extern const cli_command cmd_gpus;
extern const cli_command cmd_help;
extern const cli_command cmd_measure;
extern const cli_command cmd_models;
extern const cli_command cmd_plot;
extern const cli_command cmd_predict;
extern const cli_command cmd_report;
extern const cli_command cmd_runs;
extern const cli_command cmd_sweep;
extern const cli_command cmd_validate;
extern const cli_command cmd_version;

#endif
