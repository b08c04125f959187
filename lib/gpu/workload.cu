/*
 * workload.cu - the synthetic diffusion workload on a GPU: libesl_gpu.so.
 *
 * Executes a workload (lib/gpu/plan.c): the exact-convention layer plan of a
 * model, layer by layer, with random weights. Linear layers are one
 * cublasGemmEx with their real shape over all images of the pass, the bias an
 * element pass; attention is two strided-batched GEMMs (Q K^T with K
 * transposed, then P V) over images x heads around a row-softmax kernel
 * (linear attention: K^T V then Q (K^T V), and element passes for the ReLU
 * and the normalisation); convolutions are implicit GEMM: an im2col kernel
 * (any kernel size, stride, channel groups and temporal taps) writes the
 * patch matrix group by group, in row chunks when it would be large, and one
 * strided-batched GEMM per chunk multiplies every group by its filter; a
 * dense 1x1 stride-1 convolution is one GEMM on its input. Norms,
 * activations and the other element passes are one element kernel each.
 * Precisions: fp16 and bf16 storage with FP32 accumulation
 * (CUBLAS_COMPUTE_32F); fp32 as PyTorch runs it by default, linear layers and
 * attention in true FP32 (CUBLAS_COMPUTE_32F, default math mode) and
 * convolutions on TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32, as cuDNN
 * with torch.backends.cudnn.allow_tf32), or strictly everything in FP32
 * (esl_bench_config.strict_fp32); tf32 runs every GEMM in TF32.
 *
 * Memory: activation buffers (input, output, attention scores, im2col
 * patches) are allocated once, each sized to the largest layer's need
 * (scores and patches capped at 2^28 elements, work split in chunks above
 * that), and every layer reuses them. Weights live in one arena: the whole
 * model's distinct weights when they fit in 60% of the free GPU memory, else
 * an arena as large as that (never smaller than the largest layer's weights)
 * that consecutive layers walk through and wrap around in. Values come from
 * a seeded hash generator run on the GPU; layers read a fixed random input
 * and write a scratch output, which keeps values bounded at any depth. The
 * timed loop - N prompt runs of text encoders, T denoiser passes, decoder -
 * only enqueues work on one stream between two CUDA events: no host
 * round-trip.
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

/* GELU (tanh form), element-wise in place: activations. */
template <typename T>
__global__ void gelu(T *x, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float v = to_f(x[i]);
        x[i] = from_f<T>(0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v))));
    }
}

/* x * a + c, element-wise in place: norms, modulation, residual adds. */
template <typename T>
__global__ void scale_shift(T *x, size_t n, float a, float c)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] = from_f<T>(to_f(x[i]) * a + c);
}

/* x[i] += bias[i % width]: the bias of a linear layer or convolution. */
template <typename T>
__global__ void add_bias(T *x, size_t n, const T *bias, size_t width)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        x[i] = from_f<T>(to_f(x[i]) + to_f(bias[i % width]));
}

/* Geometry of a convolution as implicit GEMM. */
struct conv_shape {
    int h_in, w_in, h_out, w_out;
    int c;        /* input channels x temporal taps */
    int groups, kh, kw, stride;
};

/* im2col over an NHWC input [images, h_in, w_in, c]: rows [row0, row0 +
 * nrows) of the patch matrix, group-major: out[g][row][tap cg + ch], for
 * output positions row = (image, y, x) and cg = c / groups channels per
 * group; same padding (kernel / 2), zeros outside the image. */
template <typename T>
__global__ void im2col(T *out, const T *in, size_t row0, size_t nrows, conv_shape s)
{
    size_t cg = (size_t)(s.c / s.groups), kg = cg * s.kh * s.kw;
    size_t per_group = nrows * kg, total = per_group * s.groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        size_t g = i / per_group, rem = i % per_group;
        size_t row = row0 + rem / kg, col = rem % kg;
        size_t img = row / ((size_t)s.h_out * s.w_out);
        int y = (int)(row / s.w_out % s.h_out), x = (int)(row % s.w_out);
        int ch = (int)(col % cg), tap = (int)(col / cg);
        int yy = y * s.stride + tap / s.kw - s.kh / 2, xx = x * s.stride + tap % s.kw - s.kw / 2;
        out[i] = (yy < 0 || yy >= s.h_in || xx < 0 || xx >= s.w_in)
                     ? from_f<T>(0.0f)
                     : in[((img * s.h_in + yy) * s.w_in + xx) * s.c + g * cg + ch];
    }
}

/* ---- the workload ---- */

struct workload {
    failure *err;
    const esl_workload *plan;
    esl_dtype dtype;
    cudaDataType_t type;
    cublasComputeType_t compute;      /* linear layers and attention */
    cublasComputeType_t compute_conv; /* convolutions (implicit GEMM) */
    size_t elem;
    cudaStream_t stream;
    cublasHandle_t blas;
    int sms;
    char *weights; size_t weights_n; size_t cursor;
    char *in; size_t in_n;          /* fixed random inputs */
    char *out; size_t out_n;        /* outputs and element passes */
    char *scores; size_t scores_n;  /* attention probabilities, linear attention's K^T V */
    char *cols; size_t cols_n;      /* im2col patches */
};

int grid_for(const workload *w, size_t n)
{
    size_t blocks = (n + 255) / 256, cap = (size_t)w->sms * 32;
    return (int)(blocks < 1 ? 1 : blocks > cap ? cap : blocks);
}

/* One element pass over n elements at x: GELU for activations, an affine
 * map otherwise; a bias add when bias is not NULL. */
template <typename T>
int launch_elements(workload *w, void *x, size_t n, int act, const void *bias, size_t width)
{
    if (n == 0)
        return ESL_OK;
    if (bias != NULL)
        add_bias<T><<<grid_for(w, n), 256, 0, w->stream>>>((T *)x, n, (const T *)bias, width);
    else if (act)
        gelu<T><<<grid_for(w, n), 256, 0, w->stream>>>((T *)x, n);
    else
        scale_shift<T><<<grid_for(w, n), 256, 0, w->stream>>>((T *)x, n, 0.999f, 0.001f);
    CU(cudaGetLastError());
    return ESL_OK;
}

int elements(workload *w, void *x, size_t n, int act, const void *bias = NULL, size_t width = 1)
{
    switch (w->dtype) {
    case ESL_DTYPE_FP16: return launch_elements<__half>(w, x, n, act, bias, width);
    case ESL_DTYPE_BF16: return launch_elements<__nv_bfloat16>(w, x, n, act, bias, width);
    default: return launch_elements<float>(w, x, n, act, bias, width);
    }
}

template <typename T>
int launch_softmax(workload *w, size_t rows, size_t cols)
{
    int grid = (int)(rows < (size_t)w->sms * 64 ? rows : (size_t)w->sms * 64);
    softmax_rows<T><<<grid, 256, 0, w->stream>>>((T *)w->scores, rows, cols);
    CU(cudaGetLastError());
    return ESL_OK;
}

int softmax(workload *w, size_t rows, size_t cols)
{
    switch (w->dtype) {
    case ESL_DTYPE_FP16: return launch_softmax<__half>(w, rows, cols);
    case ESL_DTYPE_BF16: return launch_softmax<__nv_bfloat16>(w, rows, cols);
    default: return launch_softmax<float>(w, rows, cols);
    }
}

/* The next `count` weights from the arena. */
const void *next_weights(workload *w, size_t count)
{
    if (w->cursor + count > w->weights_n)
        w->cursor = 0;
    const void *p = w->weights + w->cursor * w->elem;
    w->cursor += count;
    return p;
}

/* Row-major C[m,n] = A[m,k] B[k,n], as column-major C^T = B^T A^T, in the
 * compute type of the layer kind it serves. */
int gemm_as(workload *w, cublasComputeType_t compute, const void *a, const void *b, void *c,
            int64_t m, int64_t n, int64_t k)
{
    const float one = 1.0f, zero = 0.0f;
    BLAS(cublasGemmEx(w->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)n, (int)m, (int)k, &one, b, w->type,
                      (int)n, a, w->type, (int)k, &zero, c, w->type, (int)n, compute,
                      CUBLAS_GEMM_DEFAULT));
    return ESL_OK;
}

int gemm(workload *w, const void *a, const void *b, void *c, int64_t m, int64_t n, int64_t k)
{
    return gemm_as(w, w->compute, a, b, c, m, n, k);
}

/* Score chunk: how many image-heads' q x kv scores fit kScoresCap. */
size_t heads_per_chunk(size_t bh, size_t q, size_t kv)
{
    size_t per = kScoresCap / (q * kv);
    return per < 1 ? 1 : per < bh ? per : bh;
}

/* Softmax attention over bh = images x heads: per chunk of image-heads,
 * S = Q K^T, row softmax, O = P V. Q lies at `in`, K (and V) after it. */
int attention(workload *w, const esl_layer *l, int64_t images)
{
    const float one = 1.0f, zero = 0.0f;
    int64_t bh = images * l->heads, nq = l->q_len, nk = l->kv_len, d = l->head_dim;
    int64_t per = (int64_t)heads_per_chunk((size_t)bh, (size_t)nq, (size_t)nk);
    const char *q = w->in, *kv = w->in + (size_t)(bh * nq * d) * w->elem;
    for (int64_t b0 = 0; b0 < bh; b0 += per) {
        int n = (int)(bh - b0 < per ? bh - b0 : per);
        /* S[nq, nk] = Q[nq, d] K[nk, d]^T: column-major S^T = K Q^T. */
        BLAS(cublasGemmStridedBatchedEx(
            w->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)nk, (int)nq, (int)d, &one,
            kv + (size_t)(b0 * nk * d) * w->elem, w->type, (int)d, nk * d,
            q + (size_t)(b0 * nq * d) * w->elem, w->type, (int)d, nq * d, &zero, w->scores,
            w->type, (int)nk, nq * nk, n, w->compute, CUBLAS_GEMM_DEFAULT));
        int rc = softmax(w, (size_t)(n * nq), (size_t)nk);
        if (rc != ESL_OK)
            return rc;
        /* O[nq, d] = P[nq, nk] V[nk, d]: column-major O^T = V^T P^T. */
        BLAS(cublasGemmStridedBatchedEx(
            w->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)d, (int)nq, (int)nk, &one,
            kv + (size_t)(b0 * nk * d) * w->elem, w->type, (int)d, nk * d, w->scores, w->type,
            (int)nk, nq * nk, &zero, w->out + (size_t)(b0 * nq * d) * w->elem, w->type, (int)d,
            nq * d, n, w->compute, CUBLAS_GEMM_DEFAULT));
    }
    return ESL_OK;
}

/* ReLU linear attention over bh image-heads of n tokens: ReLU on Q and K,
 * KV[d, d+1] = K^T V' (V' = V with a column of ones), O'[n, d+1] = Q KV,
 * then the normalising division, the last two as element passes. Q, K and
 * V' lie one after another at `in`; KV in the scores buffer. */
int linear_attention(workload *w, const esl_layer *l, int64_t images)
{
    const float one = 1.0f, zero = 0.0f;
    int64_t bh = images * l->heads, n = l->q_len, d = l->head_dim;
    char *q = w->in, *k = q + (size_t)(bh * n * d) * w->elem, *v = k + (size_t)(bh * n * d) * w->elem;
    int rc = elements(w, q, (size_t)(2 * bh * n * d), 1);
    if (rc != ESL_OK)
        return rc;
    /* Row-major KV = K^T V': column-major KV^T[d+1, d] = V'^T K. */
    BLAS(cublasGemmStridedBatchedEx(w->blas, CUBLAS_OP_N, CUBLAS_OP_T, (int)(d + 1), (int)d, (int)n,
                                    &one, v, w->type, (int)(d + 1), n * (d + 1), k, w->type, (int)d,
                                    n * d, &zero, w->scores, w->type, (int)(d + 1), d * (d + 1),
                                    (int)bh, w->compute, CUBLAS_GEMM_DEFAULT));
    /* Row-major O' = Q KV: column-major O'^T[d+1, n] = KV^T Q^T. */
    BLAS(cublasGemmStridedBatchedEx(w->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)(d + 1), (int)n, (int)d,
                                    &one, w->scores, w->type, (int)(d + 1), d * (d + 1), q, w->type,
                                    (int)d, n * d, &zero, w->out, w->type, (int)(d + 1), n * (d + 1),
                                    (int)bh, w->compute, CUBLAS_GEMM_DEFAULT));
    return elements(w, w->out, (size_t)(bh * n * (d + 1)), 0);
}

/* The implicit-GEMM shape of a convolution layer over `images` images. */
conv_shape conv_geometry(const esl_layer *l)
{
    conv_shape s;
    s.h_out = (int)l->h_out, s.w_out = (int)l->w_out;
    s.stride = (int)(l->stride > 0 ? l->stride : 1);
    s.h_in = s.h_out * s.stride, s.w_in = s.w_out * s.stride;
    s.c = (int)(l->c_in * (l->kt > 0 ? l->kt : 1));
    s.groups = (int)(l->groups > 0 ? l->groups : 1);
    s.kh = (int)l->kh, s.kw = (int)l->kw;
    return s;
}

/* Rows of one im2col chunk: as many output positions as fit kIm2colCap. */
size_t conv_rows_per_chunk(const conv_shape &s, size_t m)
{
    size_t per = kIm2colCap / ((size_t)s.c * s.kh * s.kw);
    return per < 1 ? 1 : per < m ? per : m;
}

template <typename T>
int conv_t(workload *w, const esl_layer *l, int64_t images)
{
    const float one = 1.0f, zero = 0.0f;
    conv_shape s = conv_geometry(l);
    size_t m = (size_t)images * s.h_out * s.w_out, c_out = (size_t)l->c_out;
    size_t kg = (size_t)(s.c / s.groups) * s.kh * s.kw, ng = c_out / (size_t)s.groups;
    const void *filt = next_weights(w, kg * c_out);
    int rc;
    if (s.kh == 1 && s.kw == 1 && s.stride == 1 && s.groups == 1) {
        if ((rc = gemm_as(w, w->compute_conv, w->in, filt, w->out, (int64_t)m, (int64_t)c_out,
                          s.c)) != ESL_OK)
            return rc;
    } else {
        size_t per = conv_rows_per_chunk(s, m);
        for (size_t r0 = 0; r0 < m; r0 += per) {
            size_t rows = m - r0 < per ? m - r0 : per;
            im2col<T><<<grid_for(w, rows * kg * s.groups), 256, 0, w->stream>>>(
                (T *)w->cols, (const T *)w->in, r0, rows, s);
            CU(cudaGetLastError());
            /* Per group g: C_g[rows, ng] = A_g[rows, kg] B_g[kg, ng]. */
            BLAS(cublasGemmStridedBatchedEx(
                w->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)ng, (int)rows, (int)kg, &one, filt, w->type,
                (int)ng, (long long)(kg * ng), w->cols, w->type, (int)kg, (long long)(rows * kg),
                &zero, w->out + r0 * c_out * w->elem, w->type, (int)ng, (long long)(rows * ng),
                s.groups, w->compute_conv, CUBLAS_GEMM_DEFAULT));
        }
    }
    if (l->bias)
        return elements(w, w->out, m * c_out, 0, next_weights(w, c_out), c_out);
    return ESL_OK;
}

int conv(workload *w, const esl_layer *l, int64_t images)
{
    switch (w->dtype) {
    case ESL_DTYPE_FP16: return conv_t<__half>(w, l, images);
    case ESL_DTYPE_BF16: return conv_t<__nv_bfloat16>(w, l, images);
    default: return conv_t<float>(w, l, images);
    }
}

/* One instance of a layer over the op's images. */
int run_op(workload *w, const esl_workload_op *op)
{
    const esl_layer *l = op->layer;
    int64_t b = op->batch;
    switch (op->kind) {
    case ESL_KERNEL_GEMM: {
        int rc = gemm(w, w->in, next_weights(w, (size_t)(l->k * l->n)), w->out, b * l->m, l->n, l->k);
        if (rc != ESL_OK || !l->bias)
            return rc;
        return elements(w, w->out, (size_t)(b * l->m * l->n), 0, next_weights(w, (size_t)l->n),
                        (size_t)l->n);
    }
    case ESL_KERNEL_ATTENTION:
        return l->linear_attention ? linear_attention(w, l, b) : attention(w, l, b);
    case ESL_KERNEL_CONV: return conv(w, l, b);
    case ESL_KERNEL_ELEMENTWISE:
        return elements(w, w->out, (size_t)(b * l->elements), l->kind == ESL_LAYER_ACT);
    }
    return fail(w->err, ESL_EINVAL, "unknown kernel %d", (int)op->kind);
}

/* One pass of a stage: every layer of its components, `count` times each. */
int run_stage(workload *w, esl_stage stage)
{
    const esl_workload *p = w->plan;
    for (size_t o = 0; o < p->n_ops; o++) {
        if (p->ops[o].stage != stage)
            continue;
        for (int64_t r = 0; r < p->ops[o].layer->count; r++) {
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

/* Buffer sizes (elements): each buffer as large as the largest layer needs;
 * the weights of the whole model and of its largest layer. */
void size_buffers(workload *w, size_t *weights_total, size_t *weights_max)
{
    const esl_workload *p = w->plan;
    *weights_total = *weights_max = 0;
    for (size_t i = 0; i < p->n_ops; i++) {
        const esl_layer *l = p->ops[i].layer;
        size_t b = (size_t)p->ops[i].batch;
        size_t in = 0, out = 0, scores = 0, cols = 0, wts = 0;
        switch (p->ops[i].kind) {
        case ESL_KERNEL_GEMM:
            in = b * (size_t)(l->m * l->k), out = b * (size_t)(l->m * l->n);
            wts = (size_t)(l->k * l->n + (l->bias ? l->n : 0));
            break;
        case ESL_KERNEL_ATTENTION: {
            size_t bh = b * (size_t)l->heads, q = (size_t)l->q_len, kv = (size_t)l->kv_len;
            size_t d = (size_t)l->head_dim;
            if (l->linear_attention) {
                in = bh * q * (3 * d + 1), out = bh * q * (d + 1), scores = bh * d * (d + 1);
            } else {
                in = bh * (q + kv) * d, out = bh * q * d;
                scores = heads_per_chunk(bh, q, kv) * q * kv;
            }
            break;
        }
        case ESL_KERNEL_CONV: {
            conv_shape s = conv_geometry(l);
            size_t m = b * (size_t)s.h_out * s.w_out, kk = (size_t)s.c * s.kh * s.kw;
            in = b * (size_t)s.h_in * s.w_in * s.c, out = m * (size_t)l->c_out;
            if (!(s.kh == 1 && s.kw == 1 && s.stride == 1 && s.groups == 1))
                cols = conv_rows_per_chunk(s, m) * kk;
            wts = kk / (size_t)s.groups * (size_t)l->c_out + (l->bias ? (size_t)l->c_out : 0);
            break;
        }
        case ESL_KERNEL_ELEMENTWISE:
            out = b * (size_t)l->elements;
            break;
        }
        if (in > w->in_n) w->in_n = in;
        if (out > w->out_n) w->out_n = out;
        if (scores > w->scores_n) w->scores_n = scores;
        if (cols > w->cols_n) w->cols_n = cols;
        if (wts > *weights_max) *weights_max = wts;
        *weights_total += wts * (size_t)l->count;
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
    /* the meter checks by this id that it reads the GPU the loop runs on */
    if (cudaDeviceGetPCIBusId(out->pci_bus_id, (int)sizeof out->pci_bus_id, 0) != cudaSuccess)
        out->pci_bus_id[0] = '\0';
    out->cc_major = prop.major;
    out->cc_minor = prop.minor;
    w->sms = prop.multiProcessorCount;
    if (w->dtype == ESL_DTYPE_BF16 && prop.major < 8)
        return fail(w->err, ESL_EUNSUPPORTED, "%s (compute capability %d.%d) has no bf16 GEMMs",
                    prop.name, prop.major, prop.minor);
    if (w->dtype == ESL_DTYPE_TF32 && prop.major < 8)
        return fail(w->err, ESL_EUNSUPPORTED, "%s (compute capability %d.%d) has no TF32",
                    prop.name, prop.major, prop.minor);
    /* PyTorch's fp32 default: cuDNN convolutions on TF32 tensor cores where
     * the GPU has them (compute capability 8.0 on). */
    w->compute_conv = w->compute;
    if (w->dtype == ESL_DTYPE_FP32 && !w->plan->config.strict_fp32 && prop.major >= 8)
        w->compute_conv = CUBLAS_COMPUTE_32F_FAST_TF32;

    CU(cudaStreamCreate(&w->stream));
    BLAS(cublasCreate(&w->blas));
    BLAS(cublasSetStream(w->blas, w->stream));
    /* The default math mode never uses fewer mantissa bits than the compute
     * type asks for, so CUBLAS_COMPUTE_32F stays true FP32 (TF32 only with
     * CUBLAS_COMPUTE_32F_FAST_TF32). cuBLAS documents the pedantic mode as
     * meant for numerical studies and possibly slower; fp32 inference
     * (PyTorch with TF32 off) runs in the default mode. */
    BLAS(cublasSetMathMode(w->blas, CUBLAS_DEFAULT_MATH));

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
