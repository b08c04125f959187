/*
 * cmd_validate.c - `esl validate`: fit on some rows, score on the others
 * (paper section 4.2): k-fold, leave one model or GPU out, or a named split.
 */
#include <stdlib.h>

#include "commands.h"
#include "law_cli.h"

enum { OPT_SPLIT = 's', OPT_FORMAT = 'f', OPT_SEED = 256, OPT_FORMS };

static const cli_option options[] = {
    CLI_GROUP("data"),
    {"split", OPT_SPLIT, "S", "kfold:K, leave-out:model, leave-out:gpu, batch-above:B or train=A,B:test=C"},
    {"forms", OPT_FORMS, "F,..", "forms to compare: paper (default), per-image, roofline, by-kind"},
    {"seed", OPT_SEED, "N", "seed of the k-fold shuffle (default 1)"},
    CLI_GROUP("fit"),
    CLI_GROUP("format"),
    {NULL, 0, NULL, NULL},
};

#define MAX_FORMS 4

typedef struct args {
    law_cli_opts law;
    const char *forms[MAX_FORMS];
    size_t n_forms;
    const char *split;
    int64_t seed;
    cli_format format;
} args;

/* --forms paper,per-image,roofline: each known (the form table), none twice. */
static int parse_forms(args *a, const char *arg)
{
    if (esl_law_form_list(a->forms, MAX_FORMS, &a->n_forms, arg) == ESL_OK)
        return 0;
    cli_error("option --forms: %s", esl_error_last());
    return EXIT_USAGE;
}

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_SPLIT: a->split = arg; return 0;
    case OPT_SEED: return cli_int("seed", arg, 0, INT64_C(4294967295), &a->seed);
    case OPT_FORMS: return parse_forms(a, arg);
    case OPT_FORMAT: return cli_format_parse(arg, &a->format);
    }
    return law_cli_option(&a->law, key, arg);
}

static int run_validate(const cli_command *cmd, int argc, char **argv)
{
    args a = {.law.convention = ESL_CONVENTION_PAPER, .seed = 1, .forms = {"paper"},
              .n_forms = 1};
    int rc;
    if ((rc = cli_parse_all(cmd, argc, argv, on_option, &a)) != 0)
        return rc;
    if (a.law.data == NULL || a.split == NULL) {
        cli_error("validate: --data FILE and --split S are required");
        return EXIT_USAGE;
    }
    esl_dataset *ds = NULL;
    if ((rc = law_cli_dataset(&a.law, 0, &ds)) != 0)
        return rc;
    /* One form: its fold table, and no in-sample fit; several: side by side. */
    esl_validation *v = NULL;
    esl_form_validation res[MAX_FORMS] = {{0}};
    int status, csv = a.format == FORMAT_CSV;
    a.law.fit.form = a.forms[0];
    if (a.n_forms == 1)
        status = esl_validate(&v, ds, a.split, (unsigned long)a.seed, &a.law.fit);
    else
        status = esl_validate_forms(res, ds, a.split, (unsigned long)a.seed, &a.law.fit, a.forms,
                                    a.n_forms);
    esl_dataset_free(ds);
    char *text = NULL;
    if (status == ESL_OK && a.format == FORMAT_JSON)
        status = v ? esl_validation_json(&text, v)
                   : esl_form_validations_json(&text, res, a.n_forms);
    else if (status == ESL_OK)
        status = v ? esl_validation_write(stdout, v, csv)
                   : esl_form_validations_write(stdout, res, a.n_forms, csv);
    if (status == ESL_OK && text != NULL)
        fputs(text, stdout);
    free(text);
    esl_validation_free(v);
    esl_form_validations_free(res, a.n_forms);
    return status == ESL_OK ? 0 : cli_fail(status);
}

const cli_command cmd_validate = {
    "validate", run_validate, "validate the energy law on held-out rows",
    "--data FILE|- --split S [OPTIONS]",
    "Fits the law on the training rows of each fold and scores it on the held-out rows:\n"
    "R2 of ln E and of E, MAE (J), MAPE (%), RMSE of ln E, Pearson and Spearman correlation\n"
    "of measured and predicted energy (paper section 4.2). With several --forms, the forms\n"
    "side by side: MAPE, R2 of ln E and Spearman per fold, their mean, and the in-sample fit.",
    options,
};
