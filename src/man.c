/*
 * man.c - manual pages in roff, generated from the command table and each
 * command's option table, so that `man esl-flops` and `esl flops --help`
 * come from one source. The build runs `esl help --man` for every command
 * (cmake/man.cmake) and installs the pages under share/man/man1.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esl/esl.h"

/* Write text with roff's special characters escaped. */
static void roff(FILE *out, const char *s)
{
    int line_start = 1;
    for (; s != NULL && *s; s++) {
        if (line_start && (*s == '.' || *s == '\''))
            fputs("\\&", out);
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
        line_start = *s == '\n';
    }
}

static void common_sections(FILE *out)
{
    fputs(".SH EXIT STATUS\n.TP\n0\nsuccess\n.TP\n1\nthe work failed (an I/O or store error)\n"
          ".TP\n2\nbad usage or bad input; the message names the file, line, key or value to fix\n"
          ".TP\n3\nno measuring device (no NVIDIA driver or GPU)\n",
          out);
    fputs(".SH ENVIRONMENT\n.TP\n.B ESL_MODEL_PATH\ncolon\\-separated folders searched for "
          "NAME.json model descriptions before the built\\-in catalogue\n",
          out);
    fputs(".SH SEE ALSO\nIyengar et al., Energy Scaling Laws for Diffusion Models (2026); "
          "the docs/ folder of the source tree\n",
          out);
}

void cli_man(const cli_command *cmd, FILE *out)
{
    fprintf(out, ".TH ESL\\-%s 1 \"\" \"esl %s\" \"esl manual\"\n", cmd->name, esl_version());
    fputs(".SH NAME\nesl\\-", out);
    roff(out, cmd->name);
    fputs(" \\- ", out);
    roff(out, cmd->summary);
    fputs("\n.SH SYNOPSIS\n.B esl ", out);
    roff(out, cmd->name);
    fputc('\n', out);
    char *synopsis = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&synopsis, &len);
    if (mem != NULL) {
        cli_synopsis(cmd, mem);
        fclose(mem);
    }
    roff(out, synopsis != NULL ? synopsis : cmd->usage);
    free(synopsis);
    fputs("\n.SH DESCRIPTION\n", out);
    roff(out, cmd->description != NULL ? cmd->description : cmd->summary);
    fputs("\n.SH OPTIONS\n", out);
    const cli_option *all[64];
    size_t n_all = cli_options(cmd->options, all, 64);
    for (size_t i = 0; i < n_all; i++) {
        const cli_option *o = all[i];
        fputs(".TP\n", out);
        if (o->key > ' ' && o->key < 127)
            fprintf(out, ".BR \\-%c \", \" \\-\\-", o->key);
        else
            fputs(".B \\-\\-", out);
        roff(out, o->name);
        if (o->arg != NULL) {
            fputs(" \" \" \\fI", out);
            roff(out, o->arg);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        roff(out, o->help);
        fputc('\n', out);
    }
    fputs(".TP\n.BR \\-h \", \" \\-\\-help\nshow the help and exit\n", out);
    common_sections(out);
}

void cli_man_index(FILE *out)
{
    fprintf(out, ".TH ESL 1 \"\" \"esl %s\" \"esl manual\"\n", esl_version());
    fputs(".SH NAME\nesl \\- count, measure, model and predict the energy of diffusion models\n"
          ".SH SYNOPSIS\n.B esl\n.I COMMAND\n[\\fIOPTIONS\\fR]\n.SH DESCRIPTION\n"
          "esl counts the FLOPs of diffusion\\-model image generation from architectural metadata, "
          "measures GPU energy, fits the energy scaling law of Iyengar et al. (2026) and predicts "
          "the energy, carbon and cost of configurations nobody measured.\n.SH COMMANDS\n",
          out);
    for (size_t i = 0; cli_commands[i] != NULL; i++) {
        fputs(".TP\n.BR esl\\-", out);
        roff(out, cli_commands[i]->name);
        fputs(" (1)\n", out);
        roff(out, cli_commands[i]->summary);
        fputc('\n', out);
    }
    common_sections(out);
}
