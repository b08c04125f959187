/*
 * workload.cu - the synthetic diffusion workload on a GPU: libesl_gpu.so.
 *
 * Executes a layer plan (lib/gpu/plan.c) with random weights: every GEMM with
 * its real shape through cublasGemmEx, attention as two strided-batched GEMMs
 * (Q K^T with K transposed, then P V) around a row-softmax kernel, norms and
 * activations as simple row and element kernels, and convolutions as
 * implicit GEMM: an im2col kernel writes the [M = B H W, K = c_in k^2] patch
 * matrix (in row chunks when it would be large) and one GEMM multiplies it by
 * the [K, c_out] filter; 1x1 convolutions skip im2col. Precisions: fp16 and
 * bf16 storage with FP32 accumulation (CUBLAS_COMPUTE_32F), fp32 with TF32
 * off (CUBLAS_COMPUTE_32F, pedantic math) or on (CUBLAS_COMPUTE_32F_FAST_TF32).
 *
 * Weights and inputs come from a seeded hash generator run on the GPU.
 * Weights live in one arena that each GEMM walks through (wrapping when it is
 * smaller than the whole model), so consecutive layers read different
 * weights as a real network does; activations read a fixed random input and
 * write a scratch output, which keeps values bounded at any depth. The timed
 * loop - N prompt runs of text encoders, T denoiser passes, decoder - only
 * enqueues work on one stream between two CUDA events: no host round-trip.
 *
 * Built only when CMake finds CUDA, loaded by libesl with dlopen; it links
 * nothing of libesl and reports failures through the module interface.
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "esl/bench.h"
#include "esl/error.h"
#include "gpu/module.h"

namespace {

/* Largest temporary matrices (elements) before work is split in chunks. */
const size_t kScoresCap = size_t(1) << 28;
const size_t kIm2colCap = size_t(1) << 28;

struct failure {
    int status;
    char *msg;
    size_t len;
};

int fail(failure *f, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, f->len, fmt, ap);
    va_end(ap);
    f->status = status;
    return status;
}

#define CU(call)                                                                     \
    do {                                                                             \
        cudaError_t e_ = (call);                                                     \
        if (e_ != cudaSuccess)                                                       \
            return fail(w->err, e_ == cudaErrorMemoryAllocation ? ESL_ENOMEM : ESL_EDEVICE, \
                        "%s failed: %s", #call, cudaGetErrorString(e_));             \
    } while (0)

#define BLAS(call)                                                                   \
    do {                                                                             \
        cublasStatus_t s_ = (call);                                                  \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                             \
            return fail(w->err, ESL_EDEVICE, "%s failed: %s", #call,                 \
                        cublasGetStatusString(s_));                                  \
    } while (0)

/* ---- kernels, templated on the storage type ---- */

__device__ inline float to_f(float x) { return x; }
__device__ inline float to_f(__half x) { return __half2float(x); }
__device__ inline float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T> __device__ inline T from_f(float x);
template <> __device__ inline float from_f<float>(float x) { return x; }
template <> __device__ inline __half from_f<__half>(float x) { return __float2half(x); }
template <> __device__ inline __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16(x); }

/* Uniform values in [-scale, scale) from a 64-bit hash of (seed, index). */
template <typename T>
__global__ void fill_random(T *x, size_t n, uint64_t seed, float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        float u = (float)(z >> 40) * (1.0f / 16777216.0f); /* [0, 1) */
        x[i] = from_f<T>((2.0f * u - 1.0f) * scale);
    }
}

/* Block-wide reduction of one float (sum or max) over 256 threads. */
template <bool Max>
__device__ float block_reduce(float v, float *shared)
{
    for (int o = 16; o > 0; o >>= 1) {
        float other = __shfl_xor_sync(0xffffffffu, v, o);
        v = Max ? fmaxf(v, other) : v + other;
    }
    if ((threadIdx.x & 31) == 0)
        shared[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < (blockDim.x >> 5) ? shared[threadIdx.x] : (Max ? -INFINITY : 0.0f);
        for (int o = 16; o > 0; o >>= 1) {
            float other = __shfl_xor_sync(0xffffffffu, v, o);
            v = Max ? fmaxf(v, other) : v + other;
        }
        if (threadIdx.x == 0)
            shared[0] = v;
    }
    __syncthreads();
    float r = shared[0];
    __syncthreads();
    return r;
}

/* Numerically stable softmax of each row, in place; one block per row. */
template <typename T>
__global__ void softmax_rows(T *x, size_t rows, size_t cols)
{
    __shared__ float shared[32];
    for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
        T *row = x + r * cols;
        float m = -INFINITY;
        for (size_t c = threadIdx.x; c < cols; c += blockDim.x)
            m = fmaxf(m, to_f(row[c]));
        m = block_reduce<true>(m, shared);
        float s = 0.0f;
        for (size_t c = threadIdx.x; c < cols; c += blockDim.x)
            s += __expf(to_f(row[c]) - m);
        s = block_reduce<false>(s, shared);
        float inv = 1.0f / s;
        for (size_t c = threadIdx.x; c < cols; c += blockDim.x)
            row[c] = from_f<T>(__expf(to_f(row[c]) - m) * inv);
    }
}

/* Normalise each row to zero mean and unit variance, in place. */
template <typename T>
__global__ void norm_rows(T *x, size_t rows, size_t cols)
{
    __shared__ float shared[32];
    for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
        T *row = x + r * cols;
        float s = 0.0f, q = 0.0f;
        for (size_t c = threadIdx.x; c < cols; c += blockDim.x) {
            float v = to_f(row[c]);
            s += v;
            q += v * v;
        }
        s = block_reduce<false>(s, shared);
        q = block_reduce<false>(q, shared);
        float mean = s / (float)cols;
        float inv = rsqrtf(fmaxf(q / (float)cols - mean * mean, 0.0f) + 1e-5f);
        for (size_t c = threadIdx.x; c < cols; c += blockDim.x)
            row[c] = from_f<T>((to_f(row[c]) - mean) * inv);
    }
}

/* GELU (tanh form), element-wise in place. */
template <typename T>
__global__ void gelu(T *x, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float v = to_f(x[i]);
        x[i] = from_f<T>(0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v))));
    }
}

/* im2col of a k x k, stride 1, same-padding convolution over an NHWC input
 * [images, h, w, c]: rows [row0, row0 + nrows) of the [images h w, c k^2]
 * patch matrix. */
template <typename T>
__global__ void im2col(T *out, const T *in, size_t row0, size_t nrows, int h, int w, int c, int k)
{
    size_t kk = (size_t)c * k * k, total = nrows * kk;
    int pad = k / 2;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t row = row0 + i / kk, col = i % kk;
        size_t img = row / ((size_t)h * w);
        int y = (int)(row / w % h), x = (int)(row % w);
        int ch = (int)(col % c), tap = (int)(col / c);
        int yy = y + tap / k - pad, xx = x + tap % k - pad;
        out[i] = (yy < 0 || yy >= h || xx < 0 || xx >= w)
                     ? from_f<T>(0.0f)
                     : in[((img * h + yy) * w + xx) * c + ch];
    }
}

/* ---- the workload ---- */

struct workload {
    failure *err;
    const esl_workload *plan;
    esl_dtype dtype;
    cudaDataType_t type;
    cublasComputeType_t compute;
    size_t elem;
    cudaStream_t stream;
    cublasHandle_t blas;
    int sms;
    char *weights; size_t weights_n; size_t cursor;
    char *in; size_t in_n;          /* fixed random inputs */
    char *out; size_t out_n;        /* outputs, norms and activations */
    char *scores; size_t scores_n;  /* attention probabilities */
    char *cols; size_t cols_n;      /* im2col patches */
};

int grid_for(const workload *w, size_t n)
{
    size_t blocks = (n + 255) / 256, cap = (size_t)w->sms * 32;
    return (int)(blocks < 1 ? 1 : blocks > cap ? cap : blocks);
}

template <typename T>
int launch_sweep(workload *w, const esl_workload_op *op)
{
    T *x = (T *)(op->kind == ESL_KERNEL_SOFTMAX ? w->scores : w->out);
    size_t rows = (size_t)op->rows, cols = (size_t)op->cols;
    int rowgrid = (int)(rows < (size_t)w->sms * 64 ? rows : (size_t)w->sms * 64);
    if (op->kind == ESL_KERNEL_SOFTMAX) {
        /* Same chunking as the score GEMM: rows of one chunk at a time. */
        size_t per = w->scores_n / cols;
        for (size_t r0 = 0; r0 < rows; r0 += per) {
            size_t n = rows - r0 < per ? rows - r0 : per;
            softmax_rows<T><<<(int)(n < (size_t)rowgrid ? n : rowgrid), 256, 0, w->stream>>>(x, n, cols);
        }
    } else if (op->kind == ESL_KERNEL_NORM) {
        norm_rows<T><<<rowgrid, 256, 0, w->stream>>>(x, rows, cols);
    } else {
        gelu<T><<<grid_for(w, rows * cols), 256, 0, w->stream>>>(x, rows * cols);
    }
    CU(cudaGetLastError());
    return ESL_OK;
}

int sweep(workload *w, const esl_workload_op *op)
{
    switch (w->dtype) {
    case ESL_DTYPE_FP16: return launch_sweep<__half>(w, op);
    case ESL_DTYPE_BF16: return launch_sweep<__nv_bfloat16>(w, op);
    default: return launch_sweep<float>(w, op);
    }
}

/* The next k x n weight matrix from the arena. */
const void *next_weights(workload *w, size_t count)
{
    if (w->cursor + count > w->weights_n)
        w->cursor = 0;
    const void *p = w->weights + w->cursor * w->elem;
    w->cursor += count;
    return p;
}

/* Row-major C[m,n] = A[m,k] B[k,n], as column-major C^T = B^T A^T. */
int gemm(workload *w, const void *a, const void *b, void *c, int64_t m, int64_t n, int64_t k)
{
    const float one = 1.0f, zero = 0.0f;
    BLAS(cublasGemmEx(w->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)m, (int)k, &one, b, w->type,
                      (int)n, a, w->type, (int)k, &zero, c, w->type, (int)n, w->compute,
                      CUBLAS_GEMM_DEFAULT));
    return ESL_OK;
}

/* Attention products over `batch` image-heads, chunked so that the score
 * matrices fit kScoresCap elements. */
int attention(workload *w, const esl_workload_op *op)
{
    const float one = 1.0f, zero = 0.0f;
    int64_t batch = op->batch;
    if (op->role == ESL_ROLE_SCORES) {
        /* S[nq, nk] = Q[nq, d] K[nk, d]^T: column-major S^T = K Q^T. */
        int64_t nq = op->m, nk = op->n, d = op->k;
        int64_t per = (int64_t)(kScoresCap / (size_t)(nq * nk));
        per = per < 1 ? 1 : per;
        const char *q = w->in, *kmat = w->in + (size_t)(batch * nq * d) * w->elem;
        for (int64_t b0 = 0; b0 < batch; b0 += per) {
            int n = (int)(batch - b0 < per ? batch - b0 : per);
            BLAS(cublasGemmStridedBatchedEx(
                w->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)nk, (int)nq, (int)d, &one,
                kmat + (size_t)(b0 * nk * d) * w->elem, w->type, (int)d, nk * d,
                q + (size_t)(b0 * nq * d) * w->elem, w->type, (int)d, nq * d, &zero, w->scores,
                w->type, (int)nk, nq * nk, n, w->compute, CUBLAS_GEMM_DEFAULT));
        }
    } else {
        /* O[nq, d] = P[nq, nk] V[nk, d]: column-major O^T = V^T P^T. */
        int64_t nq = op->m, d = op->n, nk = op->k;
        int64_t per = (int64_t)(kScoresCap / (size_t)(nq * nk));
        per = per < 1 ? 1 : per;
        for (int64_t b0 = 0; b0 < batch; b0 += per) {
            int n = (int)(batch - b0 < per ? batch - b0 : per);
            BLAS(cublasGemmStridedBatchedEx(
                w->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)d, (int)nq, (int)nk, &one,
                w->in + (size_t)(b0 * nk * d) * w->elem, w->type, (int)d, nk * d, w->scores,
                w->type, (int)nk, nq * nk, &zero, w->out + (size_t)(b0 * nq * d) * w->elem,
                w->type, (int)d, nq * d, n, w->compute, CUBLAS_GEMM_DEFAULT));
        }
    }
    return ESL_OK;
}

template <typename T>
int conv_t(workload *w, const esl_workload_op *op)
{
    size_t kk = (size_t)op->k, m = (size_t)op->m;
    const void *filt = next_weights(w, kk * (size_t)op->n);
    if (op->conv_k == 1)
        return gemm(w, w->in, filt, w->out, op->m, op->n, op->k);
    size_t per = kIm2colCap / kk;
    for (size_t r0 = 0; r0 < m; r0 += per) {
        size_t rows = m - r0 < per ? m - r0 : per;
        im2col<T><<<grid_for(w, rows * kk), 256, 0, w->stream>>>(
            (T *)w->cols, (const T *)w->in, r0, rows, (int)op->conv_h, (int)op->conv_w,
            (int)op->conv_c_in, (int)op->conv_k);
        CU(cudaGetLastError());
        int rc = gemm(w, w->cols, filt, w->out + r0 * (size_t)op->n * w->elem, (int64_t)rows,
                      op->n, op->k);
        if (rc != ESL_OK)
            return rc;
    }
    return ESL_OK;
}

int conv(workload *w, const esl_workload_op *op)
{
    switch (w->dtype) {
    case ESL_DTYPE_FP16: return conv_t<__half>(w, op);
    case ESL_DTYPE_BF16: return conv_t<__nv_bfloat16>(w, op);
    default: return conv_t<float>(w, op);
    }
}

int run_op(workload *w, const esl_workload_op *op)
{
    switch (op->kind) {
    case ESL_KERNEL_GEMM:
        if (op->role == ESL_ROLE_SCORES || op->role == ESL_ROLE_VALUES)
            return attention(w, op);
        return gemm(w, w->in, next_weights(w, (size_t)(op->k * op->n)), w->out, op->m, op->n,
                    op->k);
    case ESL_KERNEL_CONV: return conv(w, op);
    default: return sweep(w, op);
    }
}

/* One pass of a stage: every operation of its terms, `count` times each. */
int run_stage(workload *w, esl_stage stage)
{
    const esl_workload *p = w->plan;
    for (size_t t = 0; t < p->n_terms; t++) {
        if (p->terms[t].stage != stage)
            continue;
        for (size_t o = p->terms[t].first_op; o < p->terms[t].first_op + p->terms[t].n_ops; o++)
            for (int64_t r = 0; r < p->ops[o].count; r++) {
                int rc = run_op(w, &p->ops[o]);
                if (rc != ESL_OK)
                    return rc;
            }
    }
    return ESL_OK;
}

int run_prompt(workload *w)
{
    int rc = run_stage(w, ESL_STAGE_TEXT);
    for (int64_t s = 0; rc == ESL_OK && s < w->plan->passes[ESL_STAGE_DENOISE]; s++)
        rc = run_stage(w, ESL_STAGE_DENOISE);
    return rc == ESL_OK ? run_stage(w, ESL_STAGE_DECODE) : rc;
}

/* Buffer sizes (elements) the plan needs. */
void size_buffers(workload *w, size_t *weights_total, size_t *weights_max)
{
    const esl_workload *p = w->plan;
    *weights_total = *weights_max = 0;
    for (size_t i = 0; i < p->n_ops; i++) {
        const esl_workload_op *op = &p->ops[i];
        size_t m = (size_t)op->m, n = (size_t)op->n, k = (size_t)op->k, b = (size_t)op->batch;
        size_t in = 0, out = 0, scores = 0, cols = 0, wts = 0;
        switch (op->kind) {
        case ESL_KERNEL_GEMM:
            if (op->role == ESL_ROLE_SCORES) {
                in = b * (m + n) * k;
                size_t per = kScoresCap / (m * n);
                scores = (per < 1 ? 1 : per < b ? per : b) * m * n;
            } else if (op->role == ESL_ROLE_VALUES) {
                in = b * k * n;
                out = b * m * n;
            } else {
                in = m * k, out = m * n, wts = k * n;
            }
            break;
        case ESL_KERNEL_CONV:
            in = (size_t)(op->m * op->conv_c_in), out = m * n, wts = k * n;
            if (op->conv_k != 1)
                cols = (kIm2colCap / k < m ? kIm2colCap / k : m) * k;
            break;
        case ESL_KERNEL_SOFTMAX:
            break;
        default:
            out = (size_t)(op->rows * op->cols);
        }
        if (in > w->in_n) w->in_n = in;
        if (out > w->out_n) w->out_n = out;
        if (scores > w->scores_n) w->scores_n = scores;
        if (cols > w->cols_n) w->cols_n = cols;
        if (wts > *weights_max) *weights_max = wts;
        *weights_total += wts * (size_t)op->count;
    }
}

template <typename T>
int fill(workload *w, void *x, size_t n, uint64_t seed, float scale)
{
    if (n == 0)
        return ESL_OK;
    fill_random<T><<<grid_for(w, n), 256, 0, w->stream>>>((T *)x, n, seed, scale);
    CU(cudaGetLastError());
    return ESL_OK;
}

int fill_any(workload *w, void *x, size_t n, uint64_t seed, float scale)
{
    switch (w->dtype) {
    case ESL_DTYPE_FP16: return fill<__half>(w, x, n, seed, scale);
    case ESL_DTYPE_BF16: return fill<__nv_bfloat16>(w, x, n, seed, scale);
    default: return fill<float>(w, x, n, seed, scale);
    }
}

int setup(workload *w, const esl_bench_opts *opts, esl_bench_result *out)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorInsufficientDriver)
        return fail(w->err, ESL_ENODEV,
                    "no GPU or CUDA driver: cudaGetDeviceCount: %s (no NVIDIA driver, or one "
                    "older than this build's CUDA %d.%d)",
                    cudaGetErrorString(e), CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    if (e != cudaSuccess)
        return fail(w->err, ESL_ENODEV, "no GPU or CUDA driver: cudaGetDeviceCount: %s",
                    cudaGetErrorString(e));
    if (count == 0)
        return fail(w->err, ESL_ENODEV, "no GPU: the CUDA driver sees no device");
    cudaDeviceProp prop;
    CU(cudaSetDevice(0));
    CU(cudaGetDeviceProperties(&prop, 0));
    snprintf(out->device, sizeof out->device, "%s", prop.name);
    out->cc_major = prop.major;
    out->cc_minor = prop.minor;
    w->sms = prop.multiProcessorCount;
    if (w->dtype == ESL_DTYPE_BF16 && prop.major < 8)
        return fail(w->err, ESL_EUNSUPPORTED, "%s (compute capability %d.%d) has no bf16 GEMMs",
                    prop.name, prop.major, prop.minor);
    if (w->dtype == ESL_DTYPE_TF32 && prop.major < 8)
        return fail(w->err, ESL_EUNSUPPORTED, "%s (compute capability %d.%d) has no TF32",
                    prop.name, prop.major, prop.minor);

    CU(cudaStreamCreate(&w->stream));
    BLAS(cublasCreate(&w->blas));
    BLAS(cublasSetStream(w->blas, w->stream));
    BLAS(cublasSetMathMode(w->blas, w->dtype == ESL_DTYPE_FP32 ? CUBLAS_PEDANTIC_MATH
                                                               : CUBLAS_DEFAULT_MATH));

    size_t weights_total, weights_max;
    size_buffers(w, &weights_total, &weights_max);
    CU(cudaMalloc(&w->in, (w->in_n ? w->in_n : 1) * w->elem));
    CU(cudaMalloc(&w->out, (w->out_n ? w->out_n : 1) * w->elem));
    CU(cudaMalloc(&w->scores, (w->scores_n ? w->scores_n : 1) * w->elem));
    CU(cudaMalloc(&w->cols, (w->cols_n ? w->cols_n : 1) * w->elem));
    /* Distinct weights for the whole model when they fit in 60% of what is
     * left, else an arena the layers wrap around in. */
    size_t free_b = 0, total_b = 0;
    CU(cudaMemGetInfo(&free_b, &total_b));
    size_t budget = free_b / 10 * 6 / w->elem;
    w->weights_n = weights_total < budget ? weights_total : budget;
    if (w->weights_n < weights_max)
        w->weights_n = weights_max;
    CU(cudaMalloc(&w->weights, (w->weights_n ? w->weights_n : 1) * w->elem));

    uint64_t seed = opts->seed;
    int rc;
    if ((rc = fill_any(w, w->weights, w->weights_n, seed, 0.02f)) != ESL_OK ||
        (rc = fill_any(w, w->in, w->in_n, seed ^ 0x5bd1e995ull, 1.0f)) != ESL_OK ||
        (rc = fill_any(w, w->out, w->out_n, seed ^ 0x27d4eb2full, 1.0f)) != ESL_OK)
        return rc;
    CU(cudaStreamSynchronize(w->stream));
    return ESL_OK;
}

void teardown(workload *w)
{
    cudaFree(w->weights);
    cudaFree(w->in);
    cudaFree(w->out);
    cudaFree(w->scores);
    cudaFree(w->cols);
    if (w->blas)
        cublasDestroy(w->blas);
    if (w->stream)
        cudaStreamDestroy(w->stream);
}

int timed(workload *w, const esl_bench_opts *opts, esl_bench_result *out)
{
    cudaEvent_t start, stop;
    int rc;
    /* Warm-up: every shape once (cuBLAS picks its kernels), then extra
     * denoiser passes; none of it is timed. */
    if (opts->warmup > 0) {
        if ((rc = run_stage(w, ESL_STAGE_TEXT)) != ESL_OK ||
            (rc = run_stage(w, ESL_STAGE_DECODE)) != ESL_OK)
            return rc;
        for (int i = 0; i < opts->warmup; i++)
            if ((rc = run_stage(w, ESL_STAGE_DENOISE)) != ESL_OK)
                return rc;
    }
    CU(cudaStreamSynchronize(w->stream));
    CU(cudaEventCreate(&start));
    CU(cudaEventCreate(&stop));
    /* The caller's hook (an energy meter's window) brackets the loop with
     * the GPU idle: its reason, if it fails, is the caller's to report. */
    if (opts->on_loop != NULL && (rc = opts->on_loop(opts->loop_ctx, 0)) != ESL_OK) {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        return rc;
    }
    CU(cudaEventRecord(start, w->stream));
    rc = ESL_OK;
    for (int64_t i = 0; rc == ESL_OK && i < w->plan->config.request.prompts; i++)
        rc = run_prompt(w);
    cudaError_t rec = cudaEventRecord(stop, w->stream);
    cudaError_t sync = rec == cudaSuccess ? cudaEventSynchronize(stop) : rec;
    int end_rc = opts->on_loop != NULL ? opts->on_loop(opts->loop_ctx, 1) : ESL_OK;
    CU(sync);
    if (rc == ESL_OK && end_rc != ESL_OK) {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        return end_rc;
    }
    float ms = 0;
    CU(cudaEventElapsedTime(&ms, start, stop));
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    if (rc != ESL_OK)
        return rc;
    CU(cudaGetLastError());
    out->duration_s = ms / 1e3;
    out->exec_flops = w->plan->exec_flops;
    out->paper_flops = w->plan->paper_flops;
    return ESL_OK;
}

} /* namespace */

extern "C" __attribute__((visibility("default"))) int esl_gpu_module_abi(void)
{
    return ESL_GPU_ABI;
}

extern "C" __attribute__((visibility("default"))) int
esl_gpu_module_run(esl_bench_result *out, const esl_workload *plan, const esl_bench_opts *opts,
                   char *err, size_t err_len)
{
    failure f = {ESL_OK, err, err_len};
    workload w;
    memset(&w, 0, sizeof w);
    w.err = &f;
    w.plan = plan;
    w.dtype = plan->config.dtype;
    w.elem = w.dtype == ESL_DTYPE_FP16 || w.dtype == ESL_DTYPE_BF16 ? 2 : 4;
    switch (w.dtype) {
    case ESL_DTYPE_FP16: w.type = CUDA_R_16F; w.compute = CUBLAS_COMPUTE_32F; break;
    case ESL_DTYPE_BF16: w.type = CUDA_R_16BF; w.compute = CUBLAS_COMPUTE_32F; break;
    case ESL_DTYPE_FP32: w.type = CUDA_R_32F; w.compute = CUBLAS_COMPUTE_32F; break;
    case ESL_DTYPE_TF32: w.type = CUDA_R_32F; w.compute = CUBLAS_COMPUTE_32F_FAST_TF32; break;
    }
    memset(out, 0, sizeof *out);
    int rc = setup(&w, opts, out);
    if (rc == ESL_OK)
        rc = timed(&w, opts, out);
    teardown(&w);
    return rc;
}
