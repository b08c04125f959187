/*
 * measure.c - a workload run on the GPU under an energy meter: the meter's
 * window opened and closed by the workload's loop hook (so allocation,
 * random weights and warm-up stay outside it), the GPU the loop ran on
 * checked against the one the meter read, joules per TFLOP from the
 * window's energy, and the run stored with the labels of a dataset row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "esl/bench.h"

typedef struct window {
    esl_meter *meter;
    esl_record *record;
} window;

/* The workload's loop hook: the meter's window is the timed loop. */
static int on_loop(void *ctx, int end)
{
    window *w = ctx;
    return end ? esl_window_end(w->meter, &w->record) : esl_window_begin(w->meter);
}

/* The `esl bench` command line that makes the same run. */
static char *command_line(const esl_workload *p, const esl_bench_opts *o)
{
    const esl_bench_config *c = &p->config;
    char buf[1024];
    snprintf(buf, sizeof buf,
             "esl bench --model %s --height %lld --width %lld --steps %lld%s --dtype %s "
             "--prompts %lld --batch %lld --seed %llu --warmup %d%s",
             p->model->name, (long long)c->request.height, (long long)c->request.width,
             (long long)c->request.steps, c->request.cfg ? " --cfg" : "", esl_dtype_name(c->dtype),
             (long long)c->request.prompts, (long long)c->batch, (unsigned long long)o->seed,
             o->warmup, c->strict_fp32 && c->dtype == ESL_DTYPE_FP32 ? " --strict-fp32" : "");
    return esl__strdup(buf);
}

int esl_bench_measure(esl_bench_measured *out, const esl_workload *plan,
                      const esl_bench_opts *opts, esl_meter *meter, esl_store *store,
                      const esl_label *extra, size_t n_extra)
{
    memset(out, 0, sizeof *out);
    if (n_extra > ESL_BENCH_MAX_EXTRA_LABELS)
        return esl__fail(ESL_EINVAL, "more than %d extra labels", ESL_BENCH_MAX_EXTRA_LABELS);
    window w = {meter, NULL};
    esl_bench_opts bo = *opts;
    bo.on_loop = on_loop;
    bo.loop_ctx = &w;
    int rc = esl_bench_run(&out->result, plan, &bo);
    if (rc != ESL_OK) {
        esl_record_free(w.record);
        return rc;
    }
    out->record = w.record;
    /* The loop ran on CUDA device 0: the meter must have read that GPU. */
    if (out->result.pci_bus_id[0] != '\0' && esl_meter_find_pci(meter, out->result.pci_bus_id) < 0) {
        const esl_device_info *d = esl_meter_device(meter, 0);
        return esl__fail(ESL_EINVAL,
                         "the workload ran on %s (PCI %s) but the meter read %s (PCI %s): set "
                         "CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER or --gpus so that they agree",
                         out->result.device, out->result.pci_bus_id, d ? d->name : "no GPU",
                         d && d->pci_bus_id[0] ? d->pci_bus_id : "unknown");
    }
    esl_dtype dtype = plan->config.dtype;
    if ((rc = esl_bench_efficiency_compute(&out->total, &out->result, dtype,
                                            out->record->energy_j)) != ESL_OK ||
        (rc = esl_bench_efficiency_compute(&out->dynamic, &out->result, dtype,
                                            out->record->dynamic_j)) != ESL_OK)
        return rc;
    if ((out->command = command_line(plan, opts)) == NULL)
        return esl__fail(ESL_ENOMEM, "out of memory");
    esl_bench_labels_init(&out->labels, plan, &out->result);
    if (store == NULL)
        return ESL_OK;
    esl_label labels[12 + ESL_BENCH_MAX_EXTRA_LABELS]; /* keys unique; the store sorts them */
    memcpy(labels, out->labels.labels, out->labels.n * sizeof *labels);
    for (size_t i = 0; i < n_extra; i++)
        labels[out->labels.n + i] = extra[i];
    return esl_store_put(store, &out->run_id, out->record, out->command, 0, labels,
                         out->labels.n + n_extra);
}

void esl_bench_measured_release(esl_bench_measured *r)
{
    if (r == NULL)
        return;
    esl_record_free(r->record);
    free(r->command);
    memset(r, 0, sizeof *r);
}
