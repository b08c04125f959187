/*
 * cmd_flops.c - `esl flops`: the FLOPs of a pipeline run (Eq. 1), per
 * component and in total, for one configuration or a sweep over the paper's
 * grid, as a table, CSV or JSON.
 */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "emit.h"
#include "commands.h"
#include "esl/esl.h"

enum {
    OPT_MODEL = 'm', OPT_ARCH = 'a', OPT_HEIGHT = 'H', OPT_WIDTH = 'W', OPT_STEPS = 'T',
    OPT_PROMPTS = 'N', OPT_FORMAT = 'f',
    OPT_CFG = 256, OPT_SWEEP, OPT_TEXT_TOKENS, OPT_CONVENTION, OPT_DIFFUSERS,
};

static const cli_option options[] = {
    {"model", OPT_MODEL, "NAME", "catalogue model; a comma-separated list, or 'all'"},
    {"arch", OPT_ARCH, "FILE", "a model description file (JSON, docs/model-format.md)"},
    {"from-diffusers", OPT_DIFFUSERS, "DIR", "a diffusers folder's config files (exact convention)"},
    CLI_GROUP("size"),
    {"cfg", OPT_CFG, NULL, "classifier-free guidance: two denoiser passes per step"},
    {"prompts", OPT_PROMPTS, "N", "images generated one after another (default 1)"},
    {"sweep", OPT_SWEEP, NULL, "the paper's grid: 256, 512, 768, 1024 squared x 10..50 steps"},
    {"text-tokens", OPT_TEXT_TOKENS, "N", "text tokens the denoiser attends to (default: the model's)"},
    {"convention", OPT_CONVENTION, "C", "FLOP convention: paper (default; exact with --from-diffusers) or exact"},
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    const char *models;
    const char *arch;
    const char *diffusers;
    int64_t height, width, steps, prompts, text_tokens;
    int cfg, sweep, have_steps, have_convention;
    esl_convention convention;
    cli_format format;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_MODEL: a->models = arg; return 0;
    case OPT_ARCH: a->arch = arg; return 0;
    case OPT_DIFFUSERS: a->diffusers = arg; return 0;
    case OPT_HEIGHT: return cli_int("height", arg, 1, INT64_MAX, &a->height);
    case OPT_WIDTH: return cli_int("width", arg, 1, INT64_MAX, &a->width);
    case OPT_STEPS: a->have_steps = 1; return cli_int("steps", arg, 1, INT64_MAX, &a->steps);
    case OPT_PROMPTS: return cli_int("prompts", arg, 1, INT64_MAX, &a->prompts);
    case OPT_TEXT_TOKENS: return cli_int("text-tokens", arg, 1, INT64_C(1) << 32, &a->text_tokens);
    case OPT_CFG: a->cfg = 1; return 0;
    case OPT_SWEEP: a->sweep = 1; return 0;
    case OPT_CONVENTION: {
        a->have_convention = 1;
        int rc = esl_convention_parse(&a->convention, arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return EXIT_USAGE;
}

/* One forward pass of component i in the result's convention. */
static int64_t component_flops(const esl_model *m, size_t i, const esl_request *r,
                               const esl_plan *plan)
{
    int64_t per_pass = 0;
    if (plan != NULL)
        return plan->components[i].flops;
    if (esl_flops_component(&per_pass, m, &m->components[i], r) != ESL_OK)
        return 0; /* cannot happen once esl_flops_count succeeded */
    return per_pass;
}

static json_t *result_json(const esl_model *m, const esl_request *r, const esl_flops *f,
                           const esl_plan *plan)
{
    json_t *o = json_object();
    json_t *comps = json_array();
    json_object_set_new(o, "model", json_string(m->name));
    json_object_set_new(o, "height", json_integer(r->height));
    json_object_set_new(o, "width", json_integer(r->width));
    json_object_set_new(o, "steps", json_integer(r->steps));
    json_object_set_new(o, "cfg", json_boolean(r->cfg));
    json_object_set_new(o, "prompts", json_integer(r->prompts));
    json_object_set_new(o, "convention", json_string(esl_convention_name(f->convention)));
    json_object_set_new(o, "text_tokens",
                        json_integer(r->text_tokens > 0 ? r->text_tokens : m->text_tokens));
    json_object_set_new(o, "text_flops", json_integer(f->text_flops));
    json_object_set_new(o, "denoise_flops_per_step", json_integer(f->denoise_flops_per_step));
    json_object_set_new(o, "decode_flops", json_integer(f->decode_flops));
    json_object_set_new(o, "image_flops", json_integer(f->image_flops));
    json_object_set_new(o, "total_flops", emit_count(f->total_flops));
    json_object_set_new(o, "flops_cfg", emit_count(f->flops_cfg));
    for (size_t i = 0; i < m->n_components; i++) {
        const esl_component *c = &m->components[i];
        int64_t per_pass = component_flops(m, i, r, plan);
        int64_t passes = c->stage == ESL_STAGE_DENOISE ? r->steps * (r->cfg ? 2 : 1) : 1;
        json_t *jc = json_object();
        json_object_set_new(jc, "name", json_string(c->name));
        json_object_set_new(jc, "stage", json_string(esl_stage_name(c->stage)));
        json_object_set_new(jc, "flops_per_pass", json_integer(per_pass));
        json_object_set_new(jc, "passes", json_integer(passes));
        json_object_set_new(jc, "flops_per_image", emit_count((double)per_pass * (double)passes));
        json_array_append_new(comps, jc);
    }
    json_object_set_new(o, "components", comps);
    return o;
}

/* The exact convention's per-component and per-layer-kind split. */
static void add_breakdown(json_t *o, const esl_plan *plan)
{
    json_t *comps = json_object_get(o, "components");
    for (size_t i = 0; i < plan->n_components; i++) {
        const esl_plan_component *pc = &plan->components[i];
        json_t *jc = json_array_get(comps, i), *kinds = json_object();
        /* Norms and activations are reported with the other elementwise work. */
        int64_t k[4] = {pc->kind_flops[ESL_LAYER_LINEAR], pc->kind_flops[ESL_LAYER_ATTENTION],
                        pc->kind_flops[ESL_LAYER_CONV],
                        pc->kind_flops[ESL_LAYER_NORM] + pc->kind_flops[ESL_LAYER_ACT] +
                            pc->kind_flops[ESL_LAYER_OTHER]};
        static const char *const names[] = {"linear", "attention", "conv", "other"};
        for (int j = 0; j < 4; j++)
            json_object_set_new(kinds, names[j], json_integer(k[j]));
        json_object_set_new(jc, "class", json_string(pc->arch_class));
        json_object_set_new(jc, "params", json_integer(pc->params));
        json_object_set_new(jc, "layers", json_integer((json_int_t)pc->n_layers));
        json_object_set_new(jc, "flops_by_kind", kinds);
    }

}

static void print_breakdown(const esl_model *m, const esl_request *r, const esl_flops *f,
                            const esl_plan *plan)
{
    char b1[32], b2[32];
    printf("%s (%s), %lldx%lld, %lld steps, %s, %lld prompt%s, %s convention\n\n", m->name,
           m->display_name ? m->display_name : m->name, (long long)r->height, (long long)r->width,
           (long long)r->steps, r->cfg ? "CFG" : "no CFG", (long long)r->prompts,
           r->prompts == 1 ? "" : "s", esl_convention_name(f->convention));
    printf("%-14s %-8s %16s %7s %16s %8s\n", "component", "stage", "per pass", "passes",
           "per image", "share");
    for (size_t i = 0; i < m->n_components; i++) {
        const esl_component *c = &m->components[i];
        int64_t per_pass = component_flops(m, i, r, plan);
        int64_t passes = c->stage == ESL_STAGE_DENOISE ? r->steps * (r->cfg ? 2 : 1) : 1;
        double per_image = (double)per_pass * (double)passes;
        printf("%-14s %-8s %16s %7lld %16s %7.2f%%\n", c->name, esl_stage_name(c->stage),
               cli_human_flops(b1, sizeof b1, (double)per_pass), (long long)passes,
               cli_human_flops(b2, sizeof b2, per_image), 100.0 * per_image / (double)f->image_flops);
    }
    printf("\n%-40s %16s\n", "one image (Eq. 1)", cli_human_flops(b1, sizeof b1, (double)f->image_flops));
    printf("%-40s %16s\n", "all prompts", cli_human_flops(b1, sizeof b1, f->total_flops));
    printf("%-40s %16s\n", "FLOPs_cfg = N T denoise 2^cfg (the law)",
           cli_human_flops(b1, sizeof b1, f->flops_cfg));
}

static void print_row_header(cli_format fmt)
{
    if (fmt == FORMAT_CSV)
        printf("model,height,width,steps,cfg,prompts,convention,text_flops,denoise_flops_per_step,"
               "decode_flops,image_flops,total_flops,flops_cfg\n");
    else if (fmt == FORMAT_TABLE)
        printf("%-12s %-10s %5s %3s %14s %14s %14s %14s %8s\n", "model", "size", "steps", "cfg",
               "text", "denoise/step", "decode", "per image", "denoise");
}

static void print_row(cli_format fmt, const esl_model *m, const esl_request *r, const esl_flops *f)
{
    if (fmt == FORMAT_CSV) {
        printf("%s,%lld,%lld,%lld,%d,%lld,%s,%lld,%lld,%lld,%lld,%.17g,%.17g\n", m->name,
               (long long)r->height, (long long)r->width, (long long)r->steps, r->cfg,
               (long long)r->prompts, esl_convention_name(f->convention), (long long)f->text_flops,
               (long long)f->denoise_flops_per_step, (long long)f->decode_flops,
               (long long)f->image_flops, f->total_flops, f->flops_cfg);
    } else {
        char size[32], b1[32], b2[32], b3[32], b4[32];
        double denoise = (double)f->denoise_flops_per_step * (double)r->steps * (r->cfg ? 2 : 1);
        snprintf(size, sizeof size, "%lldx%lld", (long long)r->height, (long long)r->width);
        printf("%-12s %-10s %5lld %3s %14s %14s %14s %14s %7.2f%%\n", m->name, size,
               (long long)r->steps, r->cfg ? "yes" : "no",
               cli_human_flops(b1, sizeof b1, (double)f->text_flops),
               cli_human_flops(b2, sizeof b2, (double)f->denoise_flops_per_step),
               cli_human_flops(b3, sizeof b3, (double)f->decode_flops),
               cli_human_flops(b4, sizeof b4, (double)f->image_flops),
               100.0 * denoise / (double)f->image_flops);
    }
}

/* Load the models named by --model (or --arch) into *out. */
static int load_models(const args *a, esl_model ***out, size_t *n, char **uncounted)
{
    esl_model **list = NULL;
    size_t count = 0;
    int rc = ESL_OK;

    if (a->arch != NULL || a->diffusers != NULL) {
        list = calloc(1, sizeof *list);
        if (list == NULL)
            return ESL_ENOMEM;
        if (a->arch != NULL) {
            rc = esl_model_load(&list[0], a->arch);
        } else {
            /* The model is named after the folder. */
            char *copy = strdup(a->diffusers);
            char *name = copy != NULL ? basename(copy) : NULL;
            rc = name != NULL ? esl_model_from_diffusers_partial(&list[0], uncounted, a->diffusers, name)
                              : ESL_ENOMEM;
            free(copy);
        }
        count = rc == ESL_OK;
    } else if (strcmp(a->models, "all") == 0) {
        /* Every catalogue model that can be counted in the convention asked
         * for: in the paper's, those whose components all have its terms. */
        size_t total = esl_catalog_count();
        list = calloc(total, sizeof *list);
        for (size_t i = 0; list != NULL && i < total && rc == ESL_OK; i++) {
            if ((rc = esl_catalog_find(&list[count], esl_catalog_name(i))) != ESL_OK)
                break;
            int paper = 1;
            for (size_t c = 0; c < list[count]->n_components; c++)
                paper = paper && list[count]->components[c].n_terms > 0;
            if (paper || a->convention == ESL_CONVENTION_EXACT) {
                count++;
            } else {
                fprintf(stderr, "esl: note: %s has no paper-convention terms: left out of --model "
                        "all (count it with --convention exact)\n", list[count]->name);
                esl_model_free(list[count]);
                list[count] = NULL;
            }
        }
    } else {
        char *names = strdup(a->models);
        size_t cap = 1;
        for (const char *p = a->models; *p; p++)
            cap += *p == ',';
        list = calloc(cap, sizeof *list);
        for (char *save = NULL, *name = names ? strtok_r(names, ",", &save) : NULL;
             list != NULL && name != NULL && rc == ESL_OK; name = strtok_r(NULL, ",", &save))
            if ((rc = esl_catalog_find(&list[count], name)) == ESL_OK)
                count++;
        free(names);
    }
    if (list == NULL)
        return ESL_ENOMEM;
    *out = list;
    *n = count;
    return rc;
}

/* A model whose components have architecture sections but no paper-
 * convention terms (imported or --arch models) can only be counted exactly. */
static int exact_only(const esl_model *m)
{
    for (size_t i = 0; i < m->n_components; i++)
        if (m->components[i].n_terms == 0)
            return 1;
    return 0;
}

/* One row of the output: a model at one size, counted before printing. */
typedef struct item {
    const esl_model *model;
    esl_request req;
    esl_convention conv;
    int exact_only; /* counted exactly for want of paper terms (a note says so) */
    esl_flops f;
    esl_plan *plan; /* the exact convention's layer plan, else NULL */
} item;

static int run_flops(const cli_command *cmd, int argc, char **argv)
{
    static const int64_t grid_sides[] = {256, 512, 768, 1024};
    static const int64_t grid_steps[] = {10, 20, 30, 40, 50};
    args a = {.steps = 50, .prompts = 1, .convention = ESL_CONVENTION_PAPER};
    json_t *uncounted = NULL; /* components of a diffusers folder left out */
    int first, rc;

    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("flops: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if ((a.models != NULL) + (a.arch != NULL) + (a.diffusers != NULL) != 1) {
        cli_error("flops: give exactly one of --model NAME, --arch FILE or --from-diffusers DIR");
        return EXIT_USAGE;
    }
    if (a.sweep && (a.height || a.width || a.have_steps)) {
        cli_error("flops: --sweep sets the sizes and steps itself; drop --height, --width and --steps");
        return EXIT_USAGE;
    }
    if (!a.sweep && (a.height == 0 || a.width == 0)) {
        cli_error("flops: --height and --width are required (or --sweep for the paper's grid)");
        return EXIT_USAGE;
    }

    /* A diffusers folder has no paper terms: count it exactly unless told. */
    if (a.diffusers != NULL && !a.have_convention)
        a.convention = ESL_CONVENTION_EXACT;

    esl_model **models = NULL;
    size_t n_models = 0, n_items = 0;
    item *items = NULL;
    char *uncounted_text = NULL;
    int status = load_models(&a, &models, &n_models, &uncounted_text);
    uncounted = uncounted_text != NULL ? json_loads(uncounted_text, 0, NULL) : NULL;
    free(uncounted_text);
    if (status != ESL_OK) {
        rc = cli_fail(status);
        goto done;
    }
    /* Components of a diffusers folder that could not be counted: the
     * totals leave them out; say which and why (docs/flops.md). */
    for (size_t i = 0; i < json_array_size(uncounted); i++) {
        json_t *u = json_array_get(uncounted, i);
        cli_error("flops: component %s (%s) not counted, the totals leave it out: %s",
                  json_string_value(json_object_get(u, "component")),
                  json_string_value(json_object_get(u, "class")),
                  json_string_value(json_object_get(u, "reason")));
    }

    size_t n_sizes = a.sweep ? 4 : 1, n_steps = a.sweep ? 5 : 1;
    size_t per_model = n_sizes * n_steps;
    n_items = n_models * per_model;
    int single = n_models == 1 && !a.sweep;
    /* Every row is counted before any is printed: an error (an overflow at
     * the sweep's largest size, say) leaves stdout empty rather than a
     * header and half a table. */
    items = calloc(n_items ? n_items : 1, sizeof *items);
    if (items == NULL) {
        rc = cli_fail(ESL_ENOMEM);
        goto done;
    }
    for (size_t i = 0; i < n_items; i++) {
        item *it = &items[i];
        size_t mi = i / per_model, si = i % per_model / n_steps, ti = i % n_steps;
        it->model = models[mi];
        it->req = (esl_request){
            .height = a.sweep ? grid_sides[si] : a.height,
            .width = a.sweep ? grid_sides[si] : a.width,
            .steps = a.sweep ? grid_steps[ti] : a.steps,
            .prompts = a.prompts, .cfg = a.cfg, .text_tokens = a.text_tokens,
        };
        /* a model without paper terms is counted exactly (said below) */
        it->exact_only = !a.have_convention && a.diffusers == NULL && exact_only(it->model);
        it->conv = it->exact_only ? ESL_CONVENTION_EXACT : a.convention;
        if ((status = esl_flops_count(&it->f, it->model, &it->req, it->conv)) != ESL_OK ||
            (it->conv == ESL_CONVENTION_EXACT &&
             (status = esl_plan_build(&it->plan, it->model, &it->req)) != ESL_OK)) {
            rc = cli_fail(status);
            goto done;
        }
    }
    json_t *array = json_array();
    if (a.format != FORMAT_JSON && !(single && a.format == FORMAT_TABLE))
        print_row_header(a.format);
    for (size_t i = 0; i < n_items; i++) {
        const item *it = &items[i];
        if (it->exact_only && i % per_model == 0)
            cli_error("flops: %s has no paper-convention terms: counting it in the exact convention",
                      it->model->name);
        if (a.format == FORMAT_JSON) {
            json_t *o = result_json(it->model, &it->req, &it->f, it->plan);
            if (it->plan != NULL)
                add_breakdown(o, it->plan);
            if (uncounted != NULL)
                json_object_set(o, "uncounted", uncounted);
            json_array_append_new(array, o);
        } else if (single && a.format == FORMAT_TABLE) {
            print_breakdown(it->model, &it->req, &it->f, it->plan);
        } else {
            print_row(a.format, it->model, &it->req, &it->f);
        }
    }
    if (a.format == FORMAT_JSON) {
        json_t *doc = single ? json_incref(json_array_get(array, 0)) : json_incref(array);
        emit_json(doc);
        json_decref(doc);
    }
    json_decref(array);
    rc = EXIT_OK;
done:
    for (size_t i = 0; items != NULL && i < n_items; i++)
        esl_plan_free(items[i].plan);
    free(items);
    for (size_t i = 0; i < n_models; i++)
        esl_model_free(models[i]);
    free(models);
    json_decref(uncounted);
    return rc;
}

const cli_command cmd_flops = {
    "flops", run_flops, "count the FLOPs of generating images with a model",
    "(--model NAME | --arch FILE | --from-diffusers DIR) (--height H --width W | --sweep) "
    "[OPTIONS]",
    "Counts FLOPs (a multiply-add is 2) per Eq. 1 of Iyengar et al. 2026: text encoding once\n"
    "per prompt, the denoiser once per step (twice with --cfg), decoding once per image.\n"
    "FLOPs_cfg = N * T * denoise * 2^cfg is the regressor of the energy law.\n"
    "--convention exact counts every layer the networks run (docs/flops.md), from the\n"
    "architecture sections of the description; --from-diffusers reads only the config\n"
    "files of a diffusers folder, and such a model is counted in the exact convention.",
    options,
};
