/*
 * cmd_report.c - `esl report`: one self-contained HTML page with the
 * dataset, the fitted law, its validation and the figures.
 *
 * Figures are drawn as PNG into a private temporary folder and embedded as
 * base64 data URIs, so the page needs no other file and no network. Every
 * number on the page is computed by libesl at the call.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "esl/esl.h"
#include "plot_cli.h"

enum { OPT_OUTPUT = 'o', OPT_TITLE = 256 };

static const cli_option options[] = {
    {"output", OPT_OUTPUT, "FILE", "the report: an .html file"},
    {"title", OPT_TITLE, "TEXT", "the page's title (default 'esl report')"},
    {NULL, 0, NULL, NULL},
};

typedef struct args {
    const char *output;
    const char *title;
} args;

static int on_option(void *ctx, int key, const char *arg)
{
    args *a = ctx;
    switch (key) {
    case OPT_OUTPUT: a->output = arg; return 0;
    case OPT_TITLE: a->title = arg; return 0;
    }
    return EXIT_USAGE;
}

/* Write text with HTML's special characters escaped. */
static void html(FILE *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*p, out);
        }
    }
}

/* printf into the page, escaping the formatted result. */
static void htmlf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void htmlf(FILE *out, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    html(out, buf);
}

/* Copy a file into the page as base64 (RFC 4648). @return 0 or -1 */
static int base64_file(FILE *out, const char *path)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *fp = fopen(path, "rb");
    unsigned char in[3];
    size_t n;
    if (fp == NULL)
        return -1;
    while ((n = fread(in, 1, 3, fp)) > 0) {
        unsigned v = (unsigned)in[0] << 16 | (n > 1 ? (unsigned)in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
        fputc(digits[v >> 18 & 63], out);
        fputc(digits[v >> 12 & 63], out);
        fputc(n > 1 ? digits[v >> 6 & 63] : '=', out);
        fputc(n > 2 ? digits[v & 63] : '=', out);
        if (n < 3)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    return bad ? -1 : 0;
}

/* A figure drawn into `png` by the caller, embedded with its caption. */
static int embed_figure(FILE *out, const char *png, const char *alt, const char *caption)
{
    fputs("<figure><img alt=\"", out);
    html(out, alt);
    fputs("\" src=\"data:image/png;base64,", out);
    if (base64_file(out, png) != 0) {
        cli_error("report: cannot read the figure '%s': %s", png, strerror(errno));
        return EXIT_FAIL;
    }
    fputs("\"><figcaption>", out);
    html(out, caption);
    fputs("</figcaption></figure>\n", out);
    unlink(png);
    return 0;
}

static const char style[] =
    "body{font-family:sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;"
    "line-height:1.45}\n"
    "h1{font-size:1.7rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:1rem 0}td,th{padding:.25rem .7rem;"
    "border-bottom:1px solid #ddd;text-align:right}th{background:#f3f3f3}\n"
    "td:first-child,th:first-child{text-align:left}\n"
    "figure{margin:1.5rem 0}img{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{font-size:.9rem;color:#555}code{background:#f5f5f5;padding:0 .2rem}\n";

/* The compute section: Figure 1 and the per-stage counts it is drawn from. */
static int section_compute(FILE *out, const char *dir)
{
    static const int64_t sizes[] = {256, 512, 768, 1024};
    static const char *const models[] = {"flux-dev", "qwen-image", "sd35-large"};
    char png[4096];
    int rc;

    fputs("<h2>Compute per image</h2>\n<p>FLOPs of one image by stage (Eq. 1 of Iyengar et al. "
          "2026, paper convention), T = 10 steps without CFG, as in the paper's Figure 1.</p>\n"
          "<table><tr><th>model</th><th>size</th><th>text (GFLOP)</th>"
          "<th>denoise, 10 steps (GFLOP)</th><th>decode (GFLOP)</th><th>denoise share</th></tr>\n",
          out);
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        esl_model *model = NULL;
        int status = esl_catalog_find(&model, models[m]);
        if (status != ESL_OK)
            return cli_fail(status);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            esl_request req = {.height = sizes[s], .width = sizes[s], .steps = 10, .prompts = 1};
            esl_flops f;
            if ((status = esl_flops_count(&f, model, &req, ESL_CONVENTION_PAPER)) != ESL_OK) {
                esl_model_free(model);
                return cli_fail(status);
            }
            double denoise = 10.0 * (double)f.denoise_flops_per_step;
            fputs("<tr><td>", out);
            html(out, model->name);
            htmlf(out, "</td><td>%lldx%lld</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
                       "<td>%.2f%%</td></tr>\n", (long long)sizes[s], (long long)sizes[s],
                  (double)f.text_flops / 1e9, denoise / 1e9, (double)f.decode_flops / 1e9,
                  100.0 * denoise / (double)f.image_flops);
        }
        esl_model_free(model);
    }
    fputs("</table>\n", out);
    snprintf(png, sizeof png, "%s/decomposition.png", dir);
    if ((rc = plot_cli_decomposition(png, "flux-dev,qwen-image,sd35-large", 10, 0, sizes, 4,
                                     ESL_CONVENTION_PAPER)) != 0)
        return rc;
    return embed_figure(out, png, "compute per image by stage",
                        "Figure 1 regenerated: text encoding, 10 denoising steps and decoding "
                        "per image, log scale.");
}

static int write_report(FILE *out, const args *a, const char *dir)
{
    int rc;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", out);
    html(out, a->title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n<h1>", style);
    html(out, a->title);
    htmlf(out, "</h1>\n<p>Made by esl %s: energy scaling laws for diffusion models "
               "(Iyengar et al. 2026).</p>\n", esl_version());
    if ((rc = section_compute(out, dir)) != 0)
        return rc;
    fputs("</body></html>\n", out);
    return 0;
}

/* Remove the temporary folder and whatever a failed figure left in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    char path[4096];
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static int run_report(const cli_command *cmd, int argc, char **argv)
{
    args a = {.title = "esl report"};
    int first, rc;

    if ((rc = cli_parse(cmd, argc, argv, on_option, &a, &first)) != 0)
        return rc;
    if (first < argc) {
        cli_error("report: unexpected argument '%s'", argv[first]);
        return EXIT_USAGE;
    }
    if (a.output == NULL) {
        cli_error("report: give the report's file with -o FILE.html");
        return EXIT_USAGE;
    }
    const char *dot = strrchr(a.output, '.');
    if (dot == NULL || (strcmp(dot, ".html") != 0 && strcmp(dot, ".htm") != 0)) {
        cli_error("report: '%s' is not an .html file (for PDF, print the HTML report: see "
                  "docs/esl-report.md)", a.output);
        return EXIT_USAGE;
    }
    if (!esl_plot_available()) {
        cli_error("report: this esl was built without PLplot (install libplplot-dev and "
                  "plplot-driver-cairo, then rebuild)");
        return EXIT_FAIL;
    }

    char dir[] = "/tmp/esl-report-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        cli_error("report: cannot make a temporary folder: %s", strerror(errno));
        return EXIT_FAIL;
    }
    FILE *out = fopen(a.output, "w");
    if (out == NULL) {
        cli_error("report: cannot write '%s': %s", a.output, strerror(errno));
        remove_dir(dir);
        return EXIT_FAIL;
    }
    rc = write_report(out, &a, dir);
    if (fclose(out) != 0 && rc == 0) {
        cli_error("report: cannot write '%s': %s", a.output, strerror(errno));
        rc = EXIT_FAIL;
    }
    if (rc != 0)
        unlink(a.output);
    remove_dir(dir);
    return rc;
}

const cli_command cmd_report = {
    "report", run_report, "write a self-contained HTML report: data, law, validation, figures",
    "-o FILE.html [--title TEXT]",
    "The page embeds its figures (PNG, base64) and opens with no network. For a PDF, print\n"
    "it with Debian's chromium: chromium --headless --print-to-pdf=report.pdf report.html",
    options,
};
