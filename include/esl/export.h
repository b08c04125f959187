/*
 * esl/export.h - measured runs written for other programs to read: a
 * record or a stored run as JSON (the keys of `esl measure --format json`
 * and `esl runs show --format json`), a record's power trace as CSV, and
 * stored runs as CodeCarbon emissions.csv rows or an OpenMetrics text
 * exposition. The keys, columns and units are listed in docs/esl-runs.md
 * and docs/esl-measure.md.
 *
 * These belong to the run store module (lib/store/export.c), beside the
 * importers of esl/import.h: a reader looking for how a run leaves esl
 * finds it where runs are kept. Nothing here prints on its own: every
 * writer takes the stream or returns the text.
 */
#ifndef ESL_EXPORT_H
#define ESL_EXPORT_H

#include "esl/api.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "esl/exec.h"
#include "esl/meter.h"
#include "esl/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A fresh measurement as one compact JSON object: the record's meter,
 * driver and NVML versions, start (Unix s), duration (s), energy (J and
 * Wh), idle power (W), energy above idle (J), average and peak power (W,
 * null when unknown), flags (names), the devices with the same quantities,
 * "samples" (their count); then "command", "exit_status", "run_id" (null
 * when `run_id` is 0: not stored) and "labels" (an object, in the given
 * order). Doubles are written so they read back bit for bit.
 *
 * @param out     a new string: free() it; NULL on failure
 * @param command the workload's command line; exit_status its status
 * @param labels  n_labels labels, borrowed; may be NULL when n_labels is 0
 * @return ESL_OK; ESL_EINVAL for a NULL record or command; ESL_ENOMEM
 */
ESL_API int esl_record_json(char **out, const esl_record *rec, const char *command,
                            int exit_status, int64_t run_id, const esl_label *labels,
                            size_t n_labels);

/*
 * A stored run as one compact JSON object: the record's keys as
 * esl_record_json writes them, then "id", "started", "command",
 * "exit_status", "run_uuid" (null for a run of schema 1), "labels" and,
 * with `with_trace` 1, "trace": one object per sample with time_s, device,
 * power_w, power_instant_w, energy_j, sm_clock_mhz, temperature_c and
 * utilization_pct (null where the meter did not read it).
 *
 * @param out  a new string: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a run without a record; ESL_ENOMEM
 */
ESL_API int esl_run_json(char **out, const esl_run *run, int with_trace);

/*
 * The record's samples as CSV: a header line time_s, device, power_w,
 * power_instant_w, energy_j, sm_clock_mhz, temperature_c, utilization_pct,
 * then a line per sample, doubles in %.17g, an empty field where the meter
 * did not read the quantity.
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_record_trace_csv(FILE *out, const esl_record *rec);

/*
 * The record as a table for a person (lib/store/text.c), as `esl measure`
 * prints it: meter, command, exit status and duration (s), one line per
 * device and the total (energy, counter and dynamic energy in J, idle,
 * average and peak power in W, a dash where unknown, the flags), then the
 * energy in J and Wh and, when run_id > 0, the line "stored run ID in STORE".
 *
 * @param command  the command line as shown; borrowed
 * @param store    the store's path, needed only when run_id > 0; borrowed
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_record_table(FILE *out, const esl_record *rec, const char *command,
                             int exit_status, int64_t run_id, const char *store);

/*
 * A stored run as text for a person (lib/store/text.c), as `esl runs show`
 * prints it: a "key       value" line each for run, uuid ("-" for a run of
 * schema 1), started, command, exit, meter, duration (s), energy (J and
 * Wh), idle (W), dynamic (J), flags and samples; a "label" line per label
 * and a "device" line per device. Control characters of labels are
 * written as \xNN.
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a run without a
 *         record; ESL_EIO when writing failed
 */
ESL_API int esl_run_text(FILE *out, const esl_run *run);

/*
 * The run's labels on one line, "k=v k=v", values with control
 * characters written as \xNN, cut to fit `size` bytes (a value is cut
 * at about 500 bytes).
 * @param buf  receives the text, always terminated when size > 0
 * @return buf
 */
ESL_API char *esl_run_labels_text(char *buf, size_t size, const esl_run *run);

/* The formats stored runs are exported in. */
typedef enum esl_export_format {
    ESL_EXPORT_CODECARBON = 0, /* emissions.csv rows, the columns of CodeCarbon 2.2 to 2.8 */
    ESL_EXPORT_OPENMETRICS = 1 /* a text exposition: one gauge family per quantity, a sample
                                  per run, labelled run="ID" and label_KEY="VALUE" */
} esl_export_format;

/*
 * Write `n` stored runs to `out` in `fmt`. CodeCarbon rows: the run's end
 * time (UTC), the label "project" (else "esl"), the label
 * "codecarbon_run_id" (else "esl-run-ID"), duration (s), emissions (kg
 * CO2e, from the grid intensity of the label "zone", else WORLD's), energy
 * (kWh), GPU power (W), the country and GPUs; columns esl does not know are
 * empty. OpenMetrics: energy (J, total and above idle), duration (s), idle
 * and average power (W), a quantity that is not finite left out, then
 * "# EOF". Doubles are written in the shortest form that reads back exactly.
 *
 * @param runs  n runs with their records, borrowed
 * @return ESL_OK; ESL_EINVAL for an unknown format or a run without a
 *         record; ESL_EIO when writing failed
 */
ESL_API int esl_runs_export(FILE *out, const esl_run *runs, size_t n, esl_export_format fmt);

/* ---- stored runs listed and shown (lib/store/listing.c) ---- */

/* The forms stored runs are written in for `esl runs`: numbered as the
 * tool's --format table, csv and json. */
typedef enum esl_runs_form {
    ESL_RUNS_TABLE = 0, /* aligned columns for a person */
    ESL_RUNS_CSV = 1,
    ESL_RUNS_JSON = 2   /* esl's JSON layout (esl_json_text) */
} esl_runs_form;

/*
 * Write `n` runs as `esl runs list` prints them. Table: a heading line, then
 * a line per run with id, start, exit status, duration (s), energy, idle
 * power (W), dynamic energy (J), flags ("-" for none) and labels
 * (esl_run_labels_text). CSV: those columns and the command, doubles in
 * %.17g. JSON: an array of the runs' documents (esl_run_json, no trace).
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a run without a
 *         record; ESL_ENOMEM; ESL_EIO when writing failed
 */
ESL_API int esl_runs_list_write(FILE *out, const esl_run *runs, size_t n, esl_runs_form form);

/*
 * Write one run as `esl runs show` prints it: its text (esl_run_text), its
 * trace (esl_record_trace_csv) or its document with the trace
 * (esl_run_json in esl's JSON layout).
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a run without a
 *         record; ESL_ENOMEM; ESL_EIO when writing failed
 */
ESL_API int esl_run_write(FILE *out, const esl_run *run, esl_runs_form form);

/* Told of a run that cannot be a dataset row; `why` is esl_run_row_of's
 * detail, valid during the call. */
typedef void (*esl_run_skip_fn)(void *ctx, const esl_run *run, const char *why);

/*
 * Write `n` runs as rows of the law's dataset (esl_row_write_header, then
 * esl_run_row_of's row of each run), as `esl runs export` does: a run that
 * cannot be a row is left out and passed to `skipped` (may be NULL).
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_EIO when writing failed
 */
ESL_API int esl_runs_rows_write(FILE *out, const esl_run *runs, size_t n, esl_run_skip_fn skipped,
                                void *ctx);

/* ---- a fresh measurement reported (lib/store/measured.c) ---- */

/*
 * The record's document (esl_record_json's keys) indented by two spaces,
 * every double in %.17g, followed by a newline: what `esl measure --format
 * json` prints and what a run the store could not take is kept as. A
 * document that cannot be made is written as {}.
 * @param out  a new string: free() it; NULL on failure
 * @return ESL_OK; ESL_EINVAL for a NULL out; ESL_ENOMEM
 */
ESL_API int esl_record_json_text(char **out, const esl_record *rec, const char *command,
                                 int exit_status, int64_t run_id, const esl_label *labels,
                                 size_t n_labels);

/*
 * Whether the record's energy is doubtful (a flag of ESL_FLAGS_DOUBTFUL: no
 * change, too short, a device lost), and the sentence that says so: "the
 * energy is doubtful (too-short): see docs/measurement.md".
 * @param buf  receives the sentence, "" when not doubtful
 * @return 1 when doubtful, else 0
 */
ESL_API int esl_record_doubt(char *buf, size_t size, const esl_record *rec);

/*
 * Write the windows a workload measured on its control channel as `esl
 * measure --control` prints them. Table: per window a line "window    W of
 * N: k=v ..." (the begin line's labels), its esl_record_table and a blank
 * line; "no window was opened on --control fd:N" when there was none. JSON
 * (json nonzero): an array of the windows' documents as
 * esl_record_json_text writes one. Each window is described with the labels
 * esl_run_window_labels gives it.
 * @param run_ids  c->n_windows ids the windows were stored as, 0 for one
 *                 not stored
 * @param labels   the labels of every window (--label), borrowed
 * @param store    the store's path, for the table's "stored" line
 * @return ESL_OK; ESL_EINVAL for a NULL argument; ESL_ENOMEM; ESL_EIO when
 *         writing failed
 */
ESL_API int esl_windows_write(FILE *out, const esl_exec_control *c, const int64_t *run_ids,
                              const char *command, int exit_status, const esl_label *labels,
                              size_t n_labels, int json, const char *store);

/*
 * Keep a measured run the store could not take in a file of its own, so
 * that its energy is not lost: `text` (esl_record_json_text) is written to
 * STORE.unsaved-START-PID.json beside the store (where 0), or to that name
 * in $TMPDIR, else /tmp (where 1), never half written (esl_outfile). A
 * file already there is never replaced: the next free name -2, -3 ... is
 * taken (two windows of one workload can start in the same second).
 * @param out_path  the file's path: free() it; NULL on failure
 * @param start_unix_s  the run's start, which names the file with the pid
 * @return ESL_OK; ESL_EINVAL for a NULL argument or a path too long; ESL_EIO
 *         with the path and the system's reason (esl_outfile_open,
 *         esl_outfile_commit); ESL_ENOMEM
 */
ESL_API int esl_record_keep(char **out_path, const char *text, const char *store,
                            double start_unix_s, int where);

/* Told of each problem met while measuring, as a sentence ("measure: the
 * run was not stored; its result is kept in FILE"); valid during the call. */
typedef void (*esl_measure_note_fn)(void *ctx, const char *message);

/* How esl_measure_run measures a workload. Zero it, then set. */
typedef struct esl_measure_opts {
    esl_meter *meter;            /* open, its idle baseline set (esl_meter_baseline) */
    esl_store *store;            /* where each run is stored; NULL: not stored */
    const char *store_path;      /* the store's path: the fallback file's name and the
                                    table's "stored" line; needed with a store */
    const esl_label *labels;     /* every run's labels (--label), borrowed */
    size_t n_labels;
    int ctl_fd, ack_fd;          /* the control channel (esl_exec_control); ctl_fd < 0: one
                                    window around the whole workload */
    const char *trace_path;      /* one window: also write its samples here as CSV; NULL: not */
    int json;                    /* esl_measure_write: the documents, else the tables */
    esl_measure_note_fn note;    /* may be NULL */
    void *note_ctx;
} esl_measure_opts;

/* What esl_measure_run measured; released with esl_measure_result_release. */
typedef struct esl_measure_result {
    int started;                 /* 1 when the workload ran: status is its own */
    int not_run;                 /* 1 when it could not be started (nothing was stored) */
    int status;                  /* its exit status, 128+N when signal N killed it */
    int failed;                  /* the status (ESL_E*) that makes a run that went through
                                    fail: the store's refusal (ESL_EIO when the run could not
                                    be kept either), --trace unwritten (ESL_EIO), the meter
                                    failing on the control channel; 0 when none */
    char *command;               /* the command line (esl_run_command) */
    esl_record *record;          /* one window: what it measured */
    int64_t run_id;              /* one window: its run id, 0 when not stored */
    esl_exec_control control;    /* the control channel's windows and protocol errors */
    int64_t *run_ids;            /* each window's run id, 0 when not stored */
} esl_measure_result;

/*
 * Run argv (NULL-terminated) under the meter as `esl measure` does. Without
 * a control channel: one window around the whole workload, stored with the
 * labels (or, when the store refuses it, kept in a file: esl_record_keep,
 * beside the store, then in $TMPDIR), its trace written. With one: the
 * windows the workload opens and closes (esl_exec_run), a window left open
 * closed when it ends, each stored with its labels (esl_run_window_labels)
 * or kept, and a note for each whose energy is doubtful (esl_record_doubt).
 * Every problem is said through opts->note as it happens.
 * @param r  the result, zeroed first; release it even on failure
 * @return ESL_OK once the workload ran (r->failed may still be set);
 *         ESL_EINVAL for a missing argument, or for a trace_path with a
 *         control channel (a trace is one window's); otherwise the failure
 *         that stopped it: of the meter's window, or of the workload's
 *         start (r->not_run), or ESL_ENOMEM
 */
ESL_API int esl_measure_run(esl_measure_result *r, char *const argv[], const esl_measure_opts *o);

/*
 * Write what esl_measure_run measured: one window's table (esl_record_table)
 * or document (esl_record_json_text), or the windows (esl_windows_write).
 * @return ESL_OK; ESL_EINVAL when the workload did not run; the writer's
 *         failure
 */
ESL_API int esl_measure_write(FILE *out, const esl_measure_result *r, const esl_measure_opts *o);

/* Free what a result holds and zero it; NULL is a no-op. */
ESL_API void esl_measure_result_release(esl_measure_result *r);

#ifdef __cplusplus
}
#endif
#endif
