/*
 * work.c - the work behind one row: its FLOPs per component from the FLOP
 * engine, and the denoiser's parameters and operations from the model
 * description and its layer plan. The law's roofline form reads them: the
 * bytes of weights a denoiser pass reads and the kernels it launches are
 * what make small workloads cost more than their FLOPs (paper section 5.3).
 */
#include <string.h>

#include "core/internal.h"
#include "esl/data.h"
#include "esl/plan.h"

int esl_row_set_work(esl_row *row, const esl_model *model, esl_convention convention)
{
    esl_flops f;
    return esl__row_set_work(row, model, (int)convention, &f);
}

int esl__row_set_work(esl_row *row, const esl_model *model, int convention, esl_flops *out)
{
    esl_request req = {.height = row->height, .width = row->width, .steps = row->steps,
                       .prompts = row->prompts, .cfg = row->cfg};
    esl_flops f;
    int rc = esl_flops_count(&f, model, &req, (esl_convention)convention);
    row->flops_exact = 0;
    if (rc == ESL_EUNSUPPORTED && convention == ESL_CONVENTION_PAPER) {
        /* No paper terms: the layer plan still counts it, for the by-kind form. */
        rc = esl_flops_count(&f, model, &req, ESL_CONVENTION_EXACT);
        row->flops_exact = rc == ESL_OK;
    }
    if (rc != ESL_OK)
        return rc;
    *out = f;
    row->flops_cfg = f.flops_cfg;
    row->text_flops = (double)f.text_flops;
    row->denoise_flops = (double)f.denoise_flops_per_step;
    row->decode_flops = (double)f.decode_flops;
    row->denoise_params = 0;
    row->denoise_ops = 0;
    row->denoise_attn_share = 0;
    row->plan_linear_flops = row->plan_attn_flops = row->plan_conv_flops = 0;
    row->plan_misc_flops = row->plan_text_flops = row->plan_decode_flops = 0;
    double attn = 0, all = 0;

    /* The plan needs every component's architecture section; a model without
     * one keeps the parameters its description gives and no operation count. */
    esl_plan *plan = NULL;
    if (esl_plan_build(&plan, model, &req) != ESL_OK)
        plan = NULL;
    for (size_t c = 0; c < model->n_components; c++) {
        const esl_component *comp = &model->components[c];
        if (comp->stage != ESL_STAGE_DENOISE)
            continue;
        const esl_plan_component *pc = plan ? &plan->components[c] : NULL;
        if (comp->params > 0)
            row->denoise_params += (double)comp->params;
        else if (pc != NULL)
            row->denoise_params += (double)pc->params;
        for (size_t l = 0; pc != NULL && l < pc->n_layers; l++)
            row->denoise_ops += (double)pc->layers[l].count;
        if (pc != NULL) {
            attn += (double)pc->kind_flops[ESL_LAYER_ATTENTION];
            all += (double)pc->flops;
            row->plan_linear_flops += (double)pc->kind_flops[ESL_LAYER_LINEAR];
            row->plan_attn_flops += (double)pc->kind_flops[ESL_LAYER_ATTENTION];
            row->plan_conv_flops += (double)pc->kind_flops[ESL_LAYER_CONV];
            row->plan_misc_flops += (double)(pc->kind_flops[ESL_LAYER_NORM] +
                                             pc->kind_flops[ESL_LAYER_ACT] +
                                             pc->kind_flops[ESL_LAYER_OTHER]);
        }
    }
    /* Text encoders run once per prompt and the decoder once per image (Eq. 1). */
    for (size_t c = 0; plan != NULL && c < plan->n_components; c++) {
        if (plan->components[c].stage == ESL_STAGE_TEXT)
            row->plan_text_flops += (double)plan->components[c].flops;
        else if (plan->components[c].stage == ESL_STAGE_DECODE)
            row->plan_decode_flops += (double)plan->components[c].flops;
    }
    if (all > 0)
        row->denoise_attn_share = attn / all;
    row->cfg_batched = 0;
    for (size_t c = 0; plan != NULL && c < plan->n_components; c++) {
        const char *cls = plan->components[c].arch_class;
        /* diffusers' StableDiffusionPipeline and StableDiffusion3Pipeline
         * concatenate the unconditional and conditional latents into one
         * denoiser call; FluxPipeline and QwenImagePipeline (true CFG) call
         * the denoiser twice. */
        if (model->components[c].stage == ESL_STAGE_DENOISE && cls != NULL &&
            (strcmp(cls, "UNet2DConditionModel") == 0 || strcmp(cls, "SD3Transformer2DModel") == 0))
            row->cfg_batched = 1;
    }
    esl_plan_free(plan);
    return ESL_OK;
}
