/*
 * esl.h - the public API of libesl: count the compute of diffusion-model
 * image generation, measure its GPU energy, fit and apply energy scaling laws.
 *
 * Include this one header; it pulls in every public module. Anything not
 * declared under include/esl/ is not API.
 */
#ifndef ESL_ESL_H
#define ESL_ESL_H

#include "esl/version.h"
#include "esl/error.h"
#include "esl/model.h"
#include "esl/flops.h"
#include "esl/plot.h"
#include "esl/plan.h"
#include "esl/bench.h"
#include "esl/gpus.h"
#include "esl/meter.h"
#include "esl/exec.h"
#include "esl/store.h"
#include "esl/import.h"
#include "esl/export.h"
#include "esl/sweep.h"
#include "esl/data.h"
#include "esl/law.h"
#include "esl/figure.h"
#include "esl/carbon.h"
#include "esl/report.h"
#include "esl/file.h"
#include "esl/json.h"
#include "esl/estimate.h"

#endif
