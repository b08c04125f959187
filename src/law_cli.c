/*
 * law_cli.c - the options the law commands share (the "data" and "fit"
 * groups), set through libesl's law spec (esl_law_spec_set), and the spec's
 * dataset and law with their errors printed.
 */
#include "law_cli.h"

/* Set `option` of the spec; a bad value is an error of that option. */
static int set(law_cli_opts *o, const char *option, const char *arg)
{
    int rc = esl_law_spec_set(o, option, arg);
    if (rc == ESL_OK)
        return 0;
    cli_error("option --%s: %s", option, esl_error_last());
    return EXIT_USAGE;
}

int law_cli_option(law_cli_opts *o, int key, const char *arg)
{
    switch (key) {
    case LAW_OPT_DATA: return set(o, "data", arg);
    case LAW_OPT_ARCH: return set(o, "arch", arg);
    case LAW_OPT_WHERE: return law_cli_where(o, arg);
    case LAW_OPT_BASELINE: return set(o, "baseline", arg);
    case LAW_OPT_TERMS: return set(o, "terms", arg);
    case LAW_OPT_EXPAND: return set(o, "expand-prompts", arg);
    case LAW_OPT_RESPONSE: return set(o, "response", arg);
    case LAW_OPT_WEIGHTED: o->fit.method = ESL_FIT_WEIGHTED; return 0;
    case LAW_OPT_ROBUST: o->fit.method = ESL_FIT_ROBUST; return 0;
    case LAW_OPT_CONVENTION: {
        int rc = esl_law_spec_set(o, "convention", arg);
        return rc == ESL_OK ? 0 : cli_fail(rc);
    }
    }
    return LAW_CLI_NOT_MINE;
}

int law_cli_form(law_cli_opts *o, const char *arg) { return set(o, "form", arg); }
int law_cli_where(law_cli_opts *o, const char *arg) { return set(o, "where", arg); }

int law_cli_dataset(const law_cli_opts *o, int no_energy, esl_dataset **out)
{
    int rc = esl_law_spec_dataset(out, o, no_energy);
    return rc == ESL_OK ? 0 : cli_fail(rc);
}

int law_cli_fit(const law_cli_opts *o, esl_law **out)
{
    int rc = esl_law_spec_fit(out, o);
    return rc == ESL_OK ? 0 : cli_fail(rc);
}
