/*
 * test_data.c - the dataset reader: FLOPs per row from the FLOP engine,
 * optional columns, filters, and every error a dataset can produce, each
 * naming the file, line and column.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "esl/esl.h"
#include "core/internal.h"

#define HEAD "model,gpu,dtype,cfg,height,width,steps,prompts,energy_j\n"

static int parse(esl_dataset **out, const char *text)
{
    return esl_dataset_parse(out, text, strlen(text), "t.csv", NULL);
}

static void rows_and_flops(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    assert_int_equal(parse(&ds, HEAD "flux-dev,A100,fp16,1,1024,1024,50,100,9.8e6\r\n"
                                     "\n"
                                     "sd2,A4000,fp32,0,512,768,25,3,1234.5\n"),
                     ESL_OK);
    assert_int_equal(ds->n_rows, 2);
    const esl_row *r = &ds->rows[0];
    assert_string_equal(r->model, "flux-dev");
    assert_int_equal(r->cfg, 1);
    assert_int_equal(r->line, 2);
    assert_int_equal(ds->rows[1].line, 4); /* the blank line still counts */
    assert_true(r->present & ESL_ROW_ENERGY);
    assert_int_equal(r->batch_size, 1);

    /* FLOPs_cfg is N * T * denoise * 2^cfg from the FLOP engine. */
    esl_model *m;
    assert_int_equal(esl_catalog_find(&m, "flux-dev"), ESL_OK);
    esl_request req = {.height = 1024, .width = 1024, .steps = 50, .prompts = 100, .cfg = 1};
    esl_flops f;
    assert_int_equal(esl_flops_count(&f, m, &req, ESL_CONVENTION_PAPER), ESL_OK);
    assert_true(r->flops_cfg == f.flops_cfg);
    assert_true(r->flops_cfg == 100.0 * 50 * 2 * (double)f.denoise_flops_per_step);
    esl_model_free(m);
    esl_dataset_free(ds);
}

static void optional_columns(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    assert_int_equal(parse(&ds, "source,energy_kind,batch_size,model,gpu,dtype,cfg,height,width,"
                                "steps,prompts,energy_j,duration_s,idle_w\n"
                                "\"lab, run 3\",dynamic,4,sd2,A100,fp16,0,512,512,10,8,50,2.5,60\n"
                                ",,,sd2,A100,fp16,0,512,512,10,8,50,,\n"),
                     ESL_OK);
    const esl_row *r = &ds->rows[0];
    assert_string_equal(r->source, "lab, run 3");
    assert_int_equal(r->energy_kind, ESL_ENERGY_DYNAMIC);
    assert_int_equal(r->batch_size, 4);
    assert_true(r->duration_s == 2.5 && r->idle_w == 60);
    assert_int_equal(ds->rows[1].present, ESL_ROW_ENERGY);
    assert_null(ds->rows[1].source);
    esl_dataset_free(ds);
}

static void configs_without_energy(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    esl_data_opts o = {.no_energy = 1};
    const char *text = "model,gpu,dtype,cfg,height,width,steps,prompts\nsd2,A100,fp16,0,512,512,10,1\n";
    assert_int_equal(esl_dataset_parse(&ds, text, strlen(text), "c.csv", &o), ESL_OK);
    assert_int_equal(ds->rows[0].present & ESL_ROW_ENERGY, 0);
    esl_dataset_free(ds);
    assert_int_equal(parse(&ds, text), ESL_EINVAL);
    assert_string_equal(esl_error_last(), "t.csv:1: missing column 'energy_j'");
}

static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int status;
        const char *message;
    } cases[] = {
        {"", ESL_EPARSE, "t.csv: empty input: a header line is required"},
        {"model,gpu,dtype,cfg,height,width,steps,energy_j\n", ESL_EINVAL,
         "t.csv:1: missing column 'prompts'"},
        {"model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,color\n", ESL_EINVAL,
         "t.csv:1: unknown column 'color' (known: model, gpu, dtype, cfg, height, width, steps, "
         "prompts, energy_j, batch_size, energy_kind, duration_s, idle_w, source, num_gpus)"},
        {"model,gpu,model\n", ESL_EINVAL, "t.csv:1: column 'model' appears twice"},
        {HEAD "sd2,A100,fp16,0,512,512,-3,1,5\n", ESL_EINVAL,
         "t.csv:2: column 'steps': '-3' is not a positive integer"},
        {HEAD "sd2,A100,fp16,0,512,512,ten,1,5\n", ESL_EPARSE,
         "t.csv:2: column 'steps': 'ten' is not an integer"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,lots\n", ESL_EPARSE,
         "t.csv:2: column 'energy_j': 'lots' is not a finite number"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,0\n", ESL_EINVAL,
         "t.csv:2: column 'energy_j': '0' is not a positive number"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,-4.5\n", ESL_EINVAL,
         "t.csv:2: column 'energy_j': '-4.5' is not a positive number"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1,nan\n", ESL_EPARSE,
         "t.csv:2: column 'energy_j': 'nan' is not a finite number"},
        {HEAD "sd2,A100,fp16,2,512,512,10,1,5\n", ESL_EINVAL,
         "t.csv:2: column 'cfg': '2' is not 0 or 1"},
        {HEAD "sd2,A100,fp16,0,512,512,10,1\n", ESL_EPARSE, "t.csv:2: 8 fields, the header has 9"},
        {HEAD "sd2,,fp16,0,512,512,10,1,5\n", ESL_EINVAL, "t.csv:2: column 'gpu' is empty"},
        {HEAD "\nflux,A100,fp16,0,512,512,10,1,5\n", ESL_ENOTFOUND,
         "t.csv:3: column 'model': unknown model 'flux' (known: auraflow, cogview4-6b, flux-dev, "
         "kandinsky-2-2, kandinsky-3, lumina-image-2, qwen-image, sd15, sd2, sd3-medium, sd35-large, "
         "sdxl, sdxl-turbo, ssd-1b, stable-cascade)"},
        {HEAD "sd2,A100,fp16,0,500,512,10,1,5\n", ESL_EINVAL, NULL},
        {HEAD "sd2,A100,\"fp16,0,512,512,10,1,5\n", ESL_EPARSE,
         "t.csv: a quoted field is not closed at the end of the input"},
        {HEAD "sd2,A100,fp\"16,0,512,512,10,1,5\n", ESL_EPARSE, NULL},
        {"model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,energy_kind\n"
         "sd2,A100,fp16,0,512,512,10,1,5,peak\n", ESL_EINVAL,
         "t.csv:2: column 'energy_kind': 'peak' is not 'total' or 'dynamic'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        esl_dataset *ds = (esl_dataset *)1;
        int rc = parse(&ds, cases[i].text);
        if (rc != cases[i].status)
            fail_msg("case %zu: status %d (%s)", i, rc, esl_error_last());
        assert_null(ds);
        if (cases[i].message != NULL)
            assert_string_equal(esl_error_last(), cases[i].message);
        else
            assert_true(strncmp(esl_error_last(), "t.csv:2: ", 9) == 0);
    }
}

static void where(void **state)
{
    (void)state;
    esl_dataset *ds = NULL, *sub = NULL;
    assert_int_equal(esl_dataset_builtin(&ds, ESL_CONVENTION_PAPER), ESL_OK);
    assert_int_equal(ds->n_rows, 280);
    assert_int_equal(esl_dataset_where(&sub, ds, "model=flux-dev,qwen-image"), ESL_OK);
    assert_int_equal(sub->n_rows, 120);
    esl_dataset_free(sub);
    assert_int_equal(esl_dataset_where(&sub, ds, "dtype=fp32"), ESL_OK);
    assert_int_equal(sub->n_rows, 120);
    esl_dataset_free(sub);
    assert_int_equal(esl_dataset_where(&sub, ds, "gpu=H100"), ESL_ENOTFOUND);
    assert_string_equal(esl_error_last(), "builtin:paper_a100.csv: no row has gpu 'H100' (present: A100)");
    assert_int_equal(esl_dataset_where(&sub, ds, "color=red"), ESL_EINVAL);
    assert_int_equal(esl_dataset_where(&sub, ds, "model="), ESL_EINVAL);
    esl_dataset_free(ds);
}

static void load_missing_file(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    /* a missing file is bad input (exit 2), like a missing model or trace */
    assert_int_equal(esl_dataset_load(&ds, "/nonexistent/d.csv", NULL), ESL_ENOTFOUND);
    assert_string_equal(esl_error_last(), "/nonexistent/d.csv: cannot open: No such file or directory");
    assert_int_equal(esl_dataset_load(&ds, ESL_TEST_DATA, NULL), ESL_EINVAL);
    assert_string_equal(esl_error_last(), ESL_TEST_DATA ": is a directory, not a CSV file");
    assert_null(ds);
}

/* A UTF-8 byte order mark before the header (spreadsheets write one) is
 * not part of the first column's name. */
static void byte_order_mark(void **state)
{
    (void)state;
    esl_dataset *ds = NULL;
    assert_int_equal(parse(&ds, "\xEF\xBB\xBF" HEAD "sd2,A4000,fp32,0,512,768,25,3,1234.5\n"), ESL_OK);
    assert_int_equal(ds->n_rows, 1);
    assert_string_equal(ds->rows[0].model, "sd2");
    esl_dataset_free(ds);
    /* only at the very start: elsewhere it is still an unknown column */
    assert_int_equal(parse(&ds, "model,\xEF\xBB\xBFgpu,dtype,cfg,height,width,steps,prompts,energy_j\n"),
                     ESL_EINVAL);
}

static void grid(void **state)
{
    (void)state;
    esl_grid g;
    assert_true(esl_grid_count() >= 21);
    assert_int_equal(esl_grid_find(&g, "world"), ESL_OK);
    assert_string_equal(g.zone, "WORLD");
    assert_true(g.gco2e_per_kwh == 473.05 && g.year == 2024);
    assert_int_equal(esl_grid_find(&g, "XX"), ESL_ENOTFOUND);
    esl_footprint fp;
    esl_footprint_of(&fp, 3.6e6, 1.5, 400, 0.2);
    assert_true(fabs(fp.facility_energy_j - 5.4e6) < 1e-6);
    assert_true(fabs(fp.gco2e - 600) < 1e-9 && fabs(fp.cost - 0.3) < 1e-12);
}

/*
 * The reader counts each model and image size's work once: 10^4 generated
 * rows over four models, 7 x 7 sizes, 5 step counts and CFG on/off repeat
 * about two thousand configurations but only 196 (model, size) pairs, and
 * every pair is counted exactly once (the counter is esl__data_work_builds,
 * core/internal.h). Sampled rows carry the same work as esl_row_set_work
 * gives them directly, whatever their steps and CFG.
 */
static void work_counted_once_per_configuration(void **state)
{
    (void)state;
    static const char *const models[] = {"flux-dev", "qwen-image", "sd2", "sd35-large"};
    enum { ROWS = 10000, KEYS = 4 * 7 * 7 * 5 * 2 };
    size_t cap = 128 + (size_t)ROWS * 64, len = 0;
    char *text = malloc(cap);
    unsigned char *seen = calloc(2 * KEYS, 1);
    assert_non_null(text);
    assert_non_null(seen);
    len += (size_t)snprintf(text, cap, HEAD);
    uint64_t x = 12345;
    size_t distinct = 0, configurations = 0;
    for (int i = 0; i < ROWS; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        unsigned v = (unsigned)(x >> 33);
        unsigned m = v % 4, h = v / 4 % 7, w = v / 28 % 7, st = v / 196 % 5, cfg = v / 980 % 2;
        unsigned n = 1u + v / 1960 % 50;
        unsigned key = (((m * 7 + h) * 7 + w) * 5 + st) * 2 + cfg;
        unsigned size_key = (m * 7 + h) * 7 + w;
        distinct += !seen[size_key];
        seen[size_key] = 1;
        configurations += !seen[KEYS + key];
        seen[KEYS + key] = 1;
        len += (size_t)snprintf(text + len, cap - len, "%s,A100,fp16,%u,%u,%u,%u,%u,%u.5\n",
                                models[m], cfg, 256 + 128 * h, 256 + 128 * w, 10 + 10 * st, n,
                                1000 + i);
    }
    size_t before = esl__data_work_builds();
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_parse(&ds, text, len, "gen.csv", NULL), ESL_OK);
    assert_int_equal(ds->n_rows, ROWS);
    assert_true(configurations > 1000);
    assert_int_equal(distinct, 4 * 7 * 7);
    assert_int_equal(esl__data_work_builds() - before, distinct);
    for (size_t i = 0; i < ds->n_rows; i += 97) {
        const esl_row *r = &ds->rows[i];
        esl_model *m = NULL;
        assert_int_equal(esl_catalog_find(&m, r->model), ESL_OK);
        esl_row direct = *r;
        assert_int_equal(esl_row_set_work(&direct, m, ESL_CONVENTION_PAPER), ESL_OK);
        assert_true(direct.flops_cfg == r->flops_cfg);
        assert_true(direct.text_flops == r->text_flops);
        assert_true(direct.denoise_flops == r->denoise_flops);
        assert_true(direct.decode_flops == r->decode_flops);
        assert_true(direct.denoise_params == r->denoise_params);
        assert_true(direct.denoise_ops == r->denoise_ops);
        assert_true(direct.denoise_attn_share == r->denoise_attn_share);
        assert_int_equal(direct.cfg_batched, r->cfg_batched);
        assert_true(direct.plan_linear_flops == r->plan_linear_flops);
        assert_true(direct.plan_attn_flops == r->plan_attn_flops);
        assert_true(direct.plan_conv_flops == r->plan_conv_flops);
        assert_true(direct.plan_misc_flops == r->plan_misc_flops);
        assert_true(direct.plan_text_flops == r->plan_text_flops);
        assert_true(direct.plan_decode_flops == r->plan_decode_flops);
        assert_int_equal(direct.flops_exact, r->flops_exact);
        esl_model_free(m);
    }
    esl_dataset_free(ds);
    free(seen);
    free(text);
}

/* The reference: the shortest of %.15g, %.16g, %.17g that reads back. */
static const char *shortest_ref(char buf[32], double x)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, 32, "%.*g", digits, x);
        if (digits == 17 || strtod(buf, NULL) == x)
            break;
    }
    return buf;
}

/*
 * esl_format_double writes what trying %.15g, %.16g and %.17g with
 * snprintf and strtod writes: random bit patterns, random magnitudes from
 * 1e-8 to 1e20, short decimals (0.1, 2.5e6: ties and exact values),
 * integers, values next to powers of ten and to rounding ties.
 */
static void shortest_numbers(void **state)
{
    (void)state;
    uint64_t x = 42;
    char got[32], want[32];
    for (long i = 0; i < 600000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        double v;
        switch (i % 6) {
        case 0: { /* any finite double */
            uint64_t bits = x ^ (x >> 29);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                v = 1.0;
            break;
        }
        case 1: /* uniform in the log from 1e-8 to 1e20 */
            v = pow(10.0, -8.0 + 28.0 * (double)(x >> 11) / 9007199254740992.0);
            break;
        case 2: /* decimals of a few digits */
            v = (double)(x >> 44) / pow(10.0, (double)((x >> 8) % 12)) * pow(10.0, (double)((x >> 4) % 9));
            break;
        case 3: /* integers */
            v = (double)(x >> (11 + (x & 31)));
            break;
        case 4: { /* neighbours of powers of ten */
            double p = pow(10.0, (double)((int)((x >> 8) % 30) - 6));
            v = nextafter(p, (x & 1) ? 0.0 : INFINITY);
            break;
        }
        default: { /* near a tie at 15 or 16 digits: d.dd..d5 x 10^e, nudged */
            double base = (double)((x >> 12) % 1000000000000000u) + 0.5;
            v = base * pow(10.0, (double)((int)((x >> 4) % 20) - 18));
            for (int k = (int)(x % 3); k > 0; k--)
                v = nextafter(v, (x & 8) ? 0.0 : INFINITY);
            break;
        }
        }
        if (i % 12 == 7)
            v = -v;
        esl_format_double(got, v);
        shortest_ref(want, v);
        if (strcmp(got, want) != 0)
            fail_msg("%.17g: wrote '%s', printf and strtod give '%s'", v, got, want);
    }
    double special[] = {0.0, -0.0, 1.0, 0.1, 0.5, 1e15, 1e16, 9.999999999999999e16, 1e17,
                        123456789012345.6, 1e-4, 9.9999999999999e-5, 3.6e6, 5e-324, 1.7976931348623157e308};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        assert_string_equal(esl_format_double(got, special[i]), shortest_ref(want, special[i]));
}

/*
 * Per-row checks survive the size-level cache: two rows of one model and
 * size, the second with so many steps that one image's FLOPs overflow int64,
 * read the first and fail on the second with the engine's message.
 */
static void steps_overflow_checked_per_row(void **state)
{
    (void)state;
    const char *csv = HEAD "flux-dev,A100,fp16,0,1024,1024,28,1,100\n"
                           "flux-dev,A100,fp16,1,1024,1024,9000000000000000,1,100\n";
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_parse(&ds, csv, strlen(csv), "big.csv", NULL), ESL_ERANGE);
    assert_null(ds);
    assert_non_null(strstr(esl_error_last(), "big.csv:3: "));
    assert_non_null(strstr(esl_error_last(), "overflow 64-bit integers at 9000000000000000 steps"));
}

/*
 * Numbers read by the reader's own decimal path equal strtod's to the bit:
 * energies written with %.Ng and %.Ne for every N, fixed-point ones, long
 * digit strings and large or small exponents (the last go through strtod).
 */
static void reals_read_as_strtod(void **state)
{
    (void)state;
    enum { ROWS = 4000 };
    size_t cap = 128 + (size_t)ROWS * 96, len = 0;
    char *text = malloc(cap);
    char (*cells)[48] = malloc(ROWS * sizeof *cells);
    assert_non_null(text);
    assert_non_null(cells);
    len += (size_t)snprintf(text, cap, "%s", HEAD);
    uint64_t x = 987654321;
    for (int i = 0; i < ROWS; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        double mant = (double)(x >> 11) / 9007199254740992.0 + 1e-3;
        int e = (int)((x >> 3) % 60) - 30, digits = 1 + (int)((x >> 20) % 19);
        double v = mant * pow(10.0, e);
        switch (i % 4) {
        case 0: snprintf(cells[i], sizeof cells[i], "%.*g", digits, v); break;
        case 1: snprintf(cells[i], sizeof cells[i], "%.*e", digits, v); break;
        case 2: snprintf(cells[i], sizeof cells[i], "%.*f", digits % 8, v * 1e6 + 1); break;
        default: snprintf(cells[i], sizeof cells[i], "%llu.%llu", (unsigned long long)(x >> 40),
                          (unsigned long long)(x >> 45)); break;
        }
        len += (size_t)snprintf(text + len, cap - len, "sd2,A100,fp16,0,512,512,10,1,%s\n",
                                cells[i]);
    }
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_parse(&ds, text, len, "reals.csv", NULL), ESL_OK);
    assert_int_equal(ds->n_rows, ROWS);
    for (int i = 0; i < ROWS; i++) {
        double want = strtod(cells[i], NULL);
        if (memcmp(&want, &ds->rows[i].energy_j, sizeof want) != 0)
            fail_msg("'%s' read as %.17g, strtod gives %.17g", cells[i], ds->rows[i].energy_j, want);
    }
    esl_dataset_free(ds);
    free(cells);
    free(text);
}

/*
 * Plain lines are split at their commas without libcsv; lines with quotes,
 * blanks or carriage returns, the lines of a quoted field that spans line
 * ends, and lines cut across read chunks go through libcsv. Both paths give
 * the same rows.
 */
static void plain_and_quoted_lines_agree(void **state)
{
    (void)state;
    const char *text = "model,gpu,dtype,cfg,height,width,steps,prompts,energy_j,source\n"
                       "sd2,A100,fp16,0,512,512,20,1,100,\"a\nb,c\nd\"\n"
                       "sd2,A100,fp16,0,512,512,20,2,200,plain\n"
                       "sd2, A100 ,fp16,0,512,512,20,3,300,\"q\"\"x\"\n"
                       "sd2,A100,fp16,0,512,512,20,4,400,\r\n";
    esl_dataset *ds = NULL;
    assert_int_equal(esl_dataset_parse(&ds, text, strlen(text), "t.csv", NULL), ESL_OK);
    assert_int_equal(ds->n_rows, 4);
    assert_string_equal(ds->rows[0].source, "a\nb,c\nd");
    assert_int_equal(ds->rows[1].line, 5);
    assert_string_equal(ds->rows[1].source, "plain");
    assert_string_equal(ds->rows[2].gpu, "A100");
    assert_string_equal(ds->rows[2].source, "q\"x");
    assert_null(ds->rows[3].source);
    assert_int_equal(ds->rows[3].prompts, 4);
    esl_dataset_free(ds);

    /* 4000 lines (> the reader's 64 KiB chunks): some lines are cut between
     * chunks; every other one is quoted. The file and the same text with
     * every line quoted must read the same. */
    size_t cap = 4000 * 96 + 128, a = 0, b = 0;
    char *plain = malloc(cap), *quoted = malloc(cap);
    assert_non_null(plain);
    assert_non_null(quoted);
    a += (size_t)snprintf(plain, cap, HEAD);
    b += (size_t)snprintf(quoted, cap, HEAD);
    for (int i = 0; i < 4000; i++) {
        const char *fmt = i % 2 ? "\"sd2\",A4000,fp32,%d,%d,512,%d,%d,%d.25\n"
                                : "sd2,A4000,fp32,%d,%d,512,%d,%d,%d.25\n";
        a += (size_t)snprintf(plain + a, cap - a, fmt, i % 2, 256 + 128 * (i % 5), 10 + i % 7,
                              1 + i % 11, 1000 + i);
        b += (size_t)snprintf(quoted + b, cap - b, "\"sd2\",A4000,fp32,%d,%d,512,%d,%d,%d.25\n",
                              i % 2, 256 + 128 * (i % 5), 10 + i % 7, 1 + i % 11, 1000 + i);
    }
    FILE *fp = tmpfile();
    assert_non_null(fp);
    assert_int_equal(fwrite(plain, 1, a, fp), a);
    rewind(fp);
    esl_dataset *x = NULL, *y = NULL;
    assert_int_equal(esl_dataset_read(&x, fp, "plain.csv", NULL), ESL_OK);
    fclose(fp);
    assert_int_equal(esl_dataset_parse(&y, quoted, b, "quoted.csv", NULL), ESL_OK);
    assert_int_equal(x->n_rows, 4000);
    assert_int_equal(y->n_rows, 4000);
    for (size_t i = 0; i < 4000; i++) {
        const esl_row *p = &x->rows[i], *q = &y->rows[i];
        assert_string_equal(p->model, q->model);
        assert_string_equal(p->gpu, q->gpu);
        assert_string_equal(p->dtype, q->dtype);
        assert_int_equal(p->cfg, q->cfg);
        assert_int_equal(p->height, q->height);
        assert_int_equal(p->steps, q->steps);
        assert_int_equal(p->prompts, q->prompts);
        assert_true(p->energy_j == q->energy_j);
        assert_true(p->flops_cfg == q->flops_cfg);
        assert_int_equal(p->line, q->line);
    }
    esl_dataset_free(x);
    esl_dataset_free(y);
    free(plain);
    free(quoted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_and_flops),   cmocka_unit_test(optional_columns),
        cmocka_unit_test(configs_without_energy), cmocka_unit_test(errors),
        cmocka_unit_test(where),            cmocka_unit_test(load_missing_file),
        cmocka_unit_test(byte_order_mark),
        cmocka_unit_test(grid), cmocka_unit_test(work_counted_once_per_configuration),
        cmocka_unit_test(plain_and_quoted_lines_agree),
        cmocka_unit_test(steps_overflow_checked_per_row), cmocka_unit_test(reals_read_as_strtod),
        cmocka_unit_test(shortest_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
