/* cuDNN 9 legacy API (libcudnn.so.9; in the CUDA 13 flavour each of libcudnn_graph, _ops and _cnn
 * is built from this file, behind the cudnn_shim.c libcudnn.so.9) on host memory, following the cuDNN API reference: float
 * NCHW tensors with explicit strides, cross-correlation with padding/stride/dilation, pooling,
 * activations, softmax, batch norm with saved mean and inverse variance. Every output is
 * y = alpha·result + beta·y, with beta = 0 ignoring y's old contents. */
#include "emulation.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
  CUDNN_STATUS_SUCCESS = 0, CUDNN_STATUS_NOT_INITIALIZED = 1001, CUDNN_STATUS_BAD_PARAM = 2000,
  CUDNN_STATUS_NOT_SUPPORTED = 3000
};
enum { CUDNN_DATA_FLOAT = 0, CUDNN_TENSOR_NCHW = 0, CUDNN_CROSS_CORRELATION = 1 };
enum { POOL_MAX = 0, POOL_AVG_INCLUDE = 1, POOL_AVG_EXCLUDE = 2, POOL_MAX_DETERMINISTIC = 3 };
enum { ACT_SIGMOID = 0, ACT_RELU = 1, ACT_TANH = 2 };
#define BN_MIN_EPSILON 0.0 /* cuDNN 9's CUDNN_BN_MIN_EPSILON */

typedef struct { void* stream; } Handle;
typedef struct { int n, c, h, w, ns, cs, hs, ws, set; } TensorDesc;
typedef struct { int k, c, h, w, set; } FilterDesc;
typedef struct { int padH, padW, strideH, strideW, dilH, dilW, mode, set, mathType; } ConvDesc;
typedef struct { int mode, nanOpt, wh, ww, padH, padW, strideH, strideW, set; } PoolDesc;
typedef struct { int mode, nanOpt; double coef; int set; } ActDesc;
enum { CUDNN_NOT_PROPAGATE_NAN = 0, CUDNN_PROPAGATE_NAN = 1 };
/* cudnnMathType_t */
enum { DEFAULT_MATH = 0, TENSOR_OP_MATH = 1, TENSOR_OP_MATH_ALLOW_CONVERSION = 2, FMA_MATH = 3 };

#define CHECK(cond) do { if (!(cond)) return CUDNN_STATUS_BAD_PARAM; } while (0)

static inline long idx(const TensorDesc* d, int n, int c, int h, int w) {
  return (long) n * d->ns + (long) c * d->cs + (long) h * d->hs + (long) w * d->ws;
}

/* Data pointers must lie in device memory for the whole extent their descriptor gives: on a GPU a
 * host pointer makes the kernel fault, which cuDNN reports as EXECUTION_FAILED. */
enum { CUDNN_STATUS_EXECUTION_FAILED = 5000 };
#define ON_DEVICE(p, bytes) \
  do { if (!emu_on_device((p), (bytes))) return CUDNN_STATUS_EXECUTION_FAILED; } while (0)

static inline size_t tensorBytes(const TensorDesc* d) {
  return sizeof(float) * (size_t) (idx(d, d->n - 1, d->c - 1, d->h - 1, d->w - 1) + 1);
}

static inline size_t filterBytes(const FilterDesc* f) {
  return sizeof(float) * (size_t) f->k * f->c * f->h * f->w;
}

static inline void blend(float* y, float value, float alpha, float beta) {
  *y = alpha * value + (beta == 0 ? 0 : beta * *y);
}

/* ---- handle, version, errors ---------------------------------------------------------------- */

EXPORT int cudnnCreate(Handle** h) { *h = calloc(1, sizeof(Handle)); return 0; }
EXPORT int cudnnDestroy(Handle* h) { if (!h) return CUDNN_STATUS_BAD_PARAM; free(h); return 0; }
EXPORT int cudnnSetStream(Handle* h, void* s) { h->stream = s; return 0; }
EXPORT size_t cudnnGetVersion(void) { return EMU_CUDNN_VERSION; }

EXPORT const char* cudnnGetErrorString(int status) {
  switch (status) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case 1008: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    default: return "CUDNN_STATUS_UNKNOWN";
  }
}

/* ---- descriptors ------------------------------------------------------------------------------ */

#define DESCRIPTOR(Type, name)                                                                  \
  EXPORT int cudnnCreate##name##Descriptor(Type** d) { *d = calloc(1, sizeof(Type)); return 0; } \
  EXPORT int cudnnDestroy##name##Descriptor(Type* d) { free(d); return 0; }
DESCRIPTOR(TensorDesc, Tensor)
DESCRIPTOR(FilterDesc, Filter)
DESCRIPTOR(ConvDesc, Convolution)
DESCRIPTOR(PoolDesc, Pooling)
DESCRIPTOR(ActDesc, Activation)

EXPORT int cudnnSetTensor4dDescriptorEx(TensorDesc* d, int dataType, int n, int c, int h, int w,
    int ns, int cs, int hs, int ws) {
  CHECK(d && dataType == CUDNN_DATA_FLOAT && n > 0 && c > 0 && h > 0 && w > 0);
  CHECK(ns > 0 && cs > 0 && hs > 0 && ws > 0);
  *d = (TensorDesc) {n, c, h, w, ns, cs, hs, ws, 1};
  return 0;
}

/* Note the order: (format, dataType) here, (dataType, format) for filters. */
EXPORT int cudnnSetTensor4dDescriptor(TensorDesc* d, int format, int dataType, int n, int c,
    int h, int w) {
  if (format != CUDNN_TENSOR_NCHW) return CUDNN_STATUS_NOT_SUPPORTED;
  return cudnnSetTensor4dDescriptorEx(d, dataType, n, c, h, w, c * h * w, h * w, w, 1);
}

EXPORT int cudnnSetFilter4dDescriptor(FilterDesc* d, int dataType, int format, int k, int c,
    int h, int w) {
  CHECK(d && dataType == CUDNN_DATA_FLOAT && k > 0 && c > 0 && h > 0 && w > 0);
  if (format != CUDNN_TENSOR_NCHW) return CUDNN_STATUS_NOT_SUPPORTED;
  *d = (FilterDesc) {k, c, h, w, 1};
  return 0;
}

EXPORT int cudnnSetConvolution2dDescriptor(ConvDesc* d, int padH, int padW, int u, int v,
    int dilH, int dilW, int mode, int computeType) {
  CHECK(d && padH >= 0 && padW >= 0 && u > 0 && v > 0 && dilH > 0 && dilW > 0);
  CHECK(computeType == CUDNN_DATA_FLOAT);
  if (mode != CUDNN_CROSS_CORRELATION) return CUDNN_STATUS_NOT_SUPPORTED;
  *d = (ConvDesc) {padH, padW, u, v, dilH, dilW, mode, 1, DEFAULT_MATH};
  return 0;
}

EXPORT int cudnnSetConvolutionMathType(ConvDesc* d, int mathType) {
  CHECK(d && mathType >= 0 && mathType <= 3);
  d->mathType = mathType;
  return 0;
}

/* Every math type but FMA lets cuDNN run an FP32 convolution on TF32 tensor cores (sm_80+):
 * DEFAULT_MATH included, which is why FP32 must ask for FMA. */
static int convTf32(const ConvDesc* cd) { return EMU_TENSOR_CORES && cd->mathType != FMA_MATH; }

static inline float operand(int tf32, float v) { return tf32 ? emu_tf32(v) : v; }

/* Tests only: the math type of the last convolution run (-1 before the first). Exported by the
 * library that runs convolutions (libcudnn_cnn in the CUDA 13 flavour's split cuDNN). */
static int lastMathType = -1;
#ifndef EMU_CUDNN_WITHOUT_CONVOLUTION
EXPORT int marrow_emulation_convolution_math_type(void) { return lastMathType; }
#endif

EXPORT int cudnnGetConvolution2dForwardOutputDim(const ConvDesc* cd, const TensorDesc* x,
    const FilterDesc* w, int* n, int* c, int* h, int* wo) {
  CHECK(cd && cd->set && x && x->set && w && w->set && x->c == w->c);
  *n = x->n;
  *c = w->k;
  *h = 1 + (x->h + 2 * cd->padH - ((w->h - 1) * cd->dilH + 1)) / cd->strideH;
  *wo = 1 + (x->w + 2 * cd->padW - ((w->w - 1) * cd->dilW + 1)) / cd->strideW;
  return 0;
}

static int checkConv(const TensorDesc* x, const FilterDesc* w, const ConvDesc* cd,
    const TensorDesc* y) {
  int n, c, h, wo;
  int s = cudnnGetConvolution2dForwardOutputDim(cd, x, w, &n, &c, &h, &wo);
  if (s) return s;
  CHECK(y && y->set && y->n == n && y->c == c && y->h == h && y->w == wo);
  return 0;
}

/* im2col + GEMM, whose workspace is one image's column matrix. Forward has one algorithm (0);
 * backward data and filter have two, as cuDNN lists them: algorithm 0, faster and
 * non-deterministic (it accumulates in an order that changes from call to call, as atomics do),
 * then algorithm 1, deterministic. */
static size_t columnBytes(const FilterDesc* w, const TensorDesc* y) {
  return sizeof(float) * (size_t) w->c * w->h * w->w * y->h * y->w;
}

/* cudnnConvolution*AlgoPerf_t: {int algo; int status; float time; size_t memory;
 * int determinism; int mathType; int reserved[3]} — 48 bytes with padding. */
static void perf(char* r, int algo, float time, size_t memory, int deterministic, int math) {
  memset(r, 0, 48);
  memcpy(r, &algo, 4);
  memcpy(r + 8, &time, 4);
  memcpy(r + 16, &memory, 8);
  memcpy(r + 24, &deterministic, 4);
  memcpy(r + 28, &math, 4);
}

#define ALGORITHM_QUERY(name, X, W, Y, ALGORITHMS)                                              \
  EXPORT int name(Handle* h, const void* a, const void* b, const ConvDesc* cd, const void* c,  \
      int requested, int* returned, void* results) {                                           \
    CHECK(h && requested > 0);                                                                 \
    const TensorDesc* x = X; const FilterDesc* w = W; const TensorDesc* y = Y;                 \
    int s = checkConv(x, w, cd, y);                                                            \
    if (s) return s;                                                                           \
    size_t bytes = columnBytes(w, y);                                                          \
    if (ALGORITHMS == 1) {                                                                     \
      perf(results, 0, 1.0f, bytes, 1, cd->mathType);                                          \
      *returned = 1;                                                                           \
    } else {                                                                                   \
      perf(results, 0, 0.5f, bytes, 0, cd->mathType);                                          \
      if (requested > 1) perf((char*) results + 48, 1, 1.0f, bytes, 1, cd->mathType);         \
      *returned = requested > 1 ? 2 : 1;                                                       \
    }                                                                                          \
    return 0;                                                                                  \
  }
ALGORITHM_QUERY(cudnnGetConvolutionForwardAlgorithm_v7, a, b, c, 1)
ALGORITHM_QUERY(cudnnGetConvolutionBackwardDataAlgorithm_v7, c, a, b, 2)
ALGORITHM_QUERY(cudnnGetConvolutionBackwardFilterAlgorithm_v7, a, c, b, 2)

/* Changes at every call of a non-deterministic algorithm: where its accumulation starts. */
static unsigned atomicsOrder;

#define WORKSPACE_QUERY(name, X, W, Y, ALGORITHMS)                                              \
  EXPORT int name(Handle* h, const void* a, const void* b, const ConvDesc* cd, const void* c,  \
      int algo, size_t* size) {                                                                \
    CHECK(h && algo >= 0 && algo < ALGORITHMS);                                                \
    const TensorDesc* x = X; const FilterDesc* w = W; const TensorDesc* y = Y;                 \
    int s = checkConv(x, w, cd, y);                                                            \
    if (s) return s;                                                                           \
    *size = columnBytes(w, y);                                                                 \
    return 0;                                                                                  \
  }
WORKSPACE_QUERY(cudnnGetConvolutionForwardWorkspaceSize, a, b, c, 1)
WORKSPACE_QUERY(cudnnGetConvolutionBackwardDataWorkspaceSize, c, a, b, 2)
WORKSPACE_QUERY(cudnnGetConvolutionBackwardFilterWorkspaceSize, a, c, b, 2)

/* ---- convolution ------------------------------------------------------------------------------ */

/* Input row of tap (r) for output row oh, or -1 in the padding. */
static inline int tap(int o, int k, int stride, int pad, int dil, int size) {
  int i = o * stride - pad + k * dil;
  return i >= 0 && i < size ? i : -1;
}

/* col[q][p], q = (c, r, s), p = (oh, ow): image n of x unfolded. */
static void im2col(const TensorDesc* xd, const float* x, int n, const FilterDesc* w,
    const ConvDesc* cd, const TensorDesc* yd, float* col) {
  int tf32 = convTf32(cd);
  int pixels = yd->h * yd->w;
  for (int c = 0; c < w->c; c++)
    for (int r = 0; r < w->h; r++)
      for (int s = 0; s < w->w; s++) {
        float* row = col + (long) ((c * w->h + r) * w->w + s) * pixels;
        for (int oh = 0; oh < yd->h; oh++) {
          int ih = tap(oh, r, cd->strideH, cd->padH, cd->dilH, xd->h);
          for (int ow = 0; ow < yd->w; ow++) {
            int iw = tap(ow, s, cd->strideW, cd->padW, cd->dilW, xd->w);
            row[oh * yd->w + ow] = ih < 0 || iw < 0 ? 0 : operand(tf32, x[idx(xd, n, c, ih, iw)]);
          }
        }
      }
}

EXPORT int cudnnConvolutionForward(Handle* h, const float* alpha, const TensorDesc* xd,
    const float* x, const FilterDesc* wd, const float* w, const ConvDesc* cd, int algo,
    void* workspace, size_t workspaceBytes, const float* beta, const TensorDesc* yd, float* y) {
  CHECK(h && algo == 0);
  int s = checkConv(xd, wd, cd, yd);
  if (s) return s;
  CHECK(workspaceBytes >= columnBytes(wd, yd) && workspace);
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(w, filterBytes(wd));
  ON_DEVICE(y, tensorBytes(yd));
  ON_DEVICE(workspace, workspaceBytes);
  lastMathType = cd->mathType;
  int tf32 = convTf32(cd);
  float* col = workspace;
  int q = wd->c * wd->h * wd->w, pixels = yd->h * yd->w;
  float* acc = malloc(sizeof(float) * pixels);
  for (int n = 0; n < xd->n; n++) {
    im2col(xd, x, n, wd, cd, yd, col);
    for (int f = 0; f < wd->k; f++) {
      memset(acc, 0, sizeof(float) * pixels);
      for (int j = 0; j < q; j++) {
        float v = operand(tf32, w[(long) f * q + j]);
        const float* row = col + (long) j * pixels;
        for (int p = 0; p < pixels; p++) acc[p] += v * row[p];
      }
      for (int p = 0; p < pixels; p++) {
        blend(&y[idx(yd, n, f, p / yd->w, p % yd->w)], acc[p], *alpha, *beta);
      }
    }
  }
  free(acc);
  return 0;
}

EXPORT int cudnnConvolutionBackwardData(Handle* h, const float* alpha, const FilterDesc* wd,
    const float* w, const TensorDesc* dyd, const float* dy, const ConvDesc* cd, int algo,
    void* workspace, size_t workspaceBytes, const float* beta, const TensorDesc* dxd, float* dx) {
  CHECK(h && (algo == 0 || algo == 1));
  int s = checkConv(dxd, wd, cd, dyd);
  if (s) return s;
  CHECK(workspaceBytes >= columnBytes(wd, dyd) && workspace);
  ON_DEVICE(w, filterBytes(wd));
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(dx, tensorBytes(dxd));
  ON_DEVICE(workspace, workspaceBytes);
  lastMathType = cd->mathType;
  int tf32 = convTf32(cd);
  unsigned start = algo == 0 ? atomicsOrder++ : 0;
  float* dcol = workspace;
  int q = wd->c * wd->h * wd->w, pixels = dyd->h * dyd->w;
  long plane = (long) dxd->c * dxd->h * dxd->w;
  float* image = malloc(sizeof(float) * plane);
  for (int n = 0; n < dxd->n; n++) {
    memset(dcol, 0, columnBytes(wd, dyd));
    for (int fi = 0; fi < wd->k; fi++) {
      int f = (int) ((fi + start) % wd->k);
      for (int j = 0; j < q; j++) {
        float v = operand(tf32, w[(long) f * q + j]);
        float* row = dcol + (long) j * pixels;
        for (int p = 0; p < pixels; p++)
          row[p] += v * operand(tf32, dy[idx(dyd, n, f, p / dyd->w, p % dyd->w)]);
      }
    }
    memset(image, 0, sizeof(float) * plane);
    for (int c = 0; c < wd->c; c++)
      for (int r = 0; r < wd->h; r++)
        for (int t = 0; t < wd->w; t++) {
          const float* row = dcol + (long) ((c * wd->h + r) * wd->w + t) * pixels;
          for (int oh = 0; oh < dyd->h; oh++) {
            int ih = tap(oh, r, cd->strideH, cd->padH, cd->dilH, dxd->h);
            if (ih < 0) continue;
            for (int ow = 0; ow < dyd->w; ow++) {
              int iw = tap(ow, t, cd->strideW, cd->padW, cd->dilW, dxd->w);
              if (iw >= 0) image[((long) c * dxd->h + ih) * dxd->w + iw] += row[oh * dyd->w + ow];
            }
          }
        }
    for (int c = 0; c < dxd->c; c++)
      for (int i = 0; i < dxd->h; i++)
        for (int j = 0; j < dxd->w; j++)
          blend(&dx[idx(dxd, n, c, i, j)], image[((long) c * dxd->h + i) * dxd->w + j], *alpha,
              *beta);
  }
  free(image);
  return 0;
}

EXPORT int cudnnConvolutionBackwardFilter(Handle* h, const float* alpha, const TensorDesc* xd,
    const float* x, const TensorDesc* dyd, const float* dy, const ConvDesc* cd, int algo,
    void* workspace, size_t workspaceBytes, const float* beta, const FilterDesc* dwd, float* dw) {
  CHECK(h && (algo == 0 || algo == 1));
  int s = checkConv(xd, dwd, cd, dyd);
  if (s) return s;
  CHECK(workspaceBytes >= columnBytes(dwd, dyd) && workspace);
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(dw, filterBytes(dwd));
  ON_DEVICE(workspace, workspaceBytes);
  lastMathType = cd->mathType;
  int tf32 = convTf32(cd);
  unsigned start = algo == 0 ? atomicsOrder++ : 0;
  float* col = workspace;
  int q = dwd->c * dwd->h * dwd->w, pixels = dyd->h * dyd->w;
  /* Algorithm 1 sums the images in double, in order; algorithm 0 in float, starting at a
   * different image each call. */
  double* sum = calloc((size_t) dwd->k * q, sizeof(double));
  float* fsum = calloc((size_t) dwd->k * q, sizeof(float));
  float* dyImage = malloc(sizeof(float) * pixels);
  for (int ni = 0; ni < xd->n; ni++) {
    int n = (int) ((ni + start) % xd->n);
    im2col(xd, x, n, dwd, cd, dyd, col);
    for (int f = 0; f < dwd->k; f++) {
      for (int p = 0; p < pixels; p++)
        dyImage[p] = operand(tf32, dy[idx(dyd, n, f, p / dyd->w, p % dyd->w)]);
      for (int j = 0; j < q; j++) {
        const float* row = col + (long) j * pixels;
        float dot = 0;
        for (int p = 0; p < pixels; p++) dot += dyImage[p] * row[p];
        sum[(long) f * q + j] += dot;
        fsum[(long) f * q + j] += dot;
      }
    }
  }
  for (long i = 0; i < (long) dwd->k * q; i++)
    blend(&dw[i], algo == 0 ? fsum[i] : (float) sum[i], *alpha, *beta);
  free(fsum);
  free(sum);
  free(dyImage);
  return 0;
}

/* db[c] = alpha·Σ_{n,h,w} dy + beta·db[c]; db is 1×C×1×1. */
EXPORT int cudnnConvolutionBackwardBias(Handle* h, const float* alpha, const TensorDesc* dyd,
    const float* dy, const float* beta, const TensorDesc* dbd, float* db) {
  CHECK(h && dyd && dbd && dbd->n == 1 && dbd->c == dyd->c && dbd->h == 1 && dbd->w == 1);
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(db, tensorBytes(dbd));
  for (int c = 0; c < dyd->c; c++) {
    double s = 0;
    for (int n = 0; n < dyd->n; n++)
      for (int i = 0; i < dyd->h; i++)
        for (int j = 0; j < dyd->w; j++) s += dy[idx(dyd, n, c, i, j)];
    blend(&db[idx(dbd, 0, c, 0, 0)], (float) s, *alpha, *beta);
  }
  return 0;
}

/* C = alpha·A + beta·C, A broadcast over every dimension where it has size 1. */
EXPORT int cudnnAddTensor(Handle* h, const float* alpha, const TensorDesc* ad, const float* a,
    const float* beta, const TensorDesc* cdd, float* c) {
  CHECK(h && ad && cdd);
  CHECK((ad->n == 1 || ad->n == cdd->n) && (ad->c == 1 || ad->c == cdd->c));
  CHECK((ad->h == 1 || ad->h == cdd->h) && (ad->w == 1 || ad->w == cdd->w));
  ON_DEVICE(a, tensorBytes(ad));
  ON_DEVICE(c, tensorBytes(cdd));
  for (int n = 0; n < cdd->n; n++)
    for (int ch = 0; ch < cdd->c; ch++)
      for (int i = 0; i < cdd->h; i++)
        for (int j = 0; j < cdd->w; j++) {
          float v = a[idx(ad, ad->n == 1 ? 0 : n, ad->c == 1 ? 0 : ch, ad->h == 1 ? 0 : i,
              ad->w == 1 ? 0 : j)];
          blend(&c[idx(cdd, n, ch, i, j)], v, *alpha, *beta);
        }
  return 0;
}

/* ---- pooling ---------------------------------------------------------------------------------- */

EXPORT int cudnnSetPooling2dDescriptor(PoolDesc* d, int mode, int nanOpt, int wh, int ww,
    int padH, int padW, int strideH, int strideW) {
  CHECK(d && mode >= 0 && mode <= 3 && (nanOpt == 0 || nanOpt == 1) && wh > 0 && ww > 0);
  CHECK(padH >= 0 && padW >= 0 && strideH > 0 && strideW > 0);
  *d = (PoolDesc) {mode, nanOpt, wh, ww, padH, padW, strideH, strideW, 1};
  return 0;
}

static int checkPool(const PoolDesc* p, const TensorDesc* x, const TensorDesc* y) {
  CHECK(p && p->set && x && y && x->n == y->n && x->c == y->c);
  CHECK(y->h == 1 + (x->h + 2 * p->padH - p->wh) / p->strideH);
  CHECK(y->w == 1 + (x->w + 2 * p->padW - p->ww) / p->strideW);
  return 0;
}

/* The window of output (oh, ow) clipped to the input: rows [*h0, *h1), columns [*w0, *w1). */
static void window(const PoolDesc* p, const TensorDesc* x, int oh, int ow, int* h0, int* h1,
    int* w0, int* w1) {
  int hs = oh * p->strideH - p->padH, ws = ow * p->strideW - p->padW;
  *h0 = hs < 0 ? 0 : hs;
  *w0 = ws < 0 ? 0 : ws;
  *h1 = hs + p->wh > x->h ? x->h : hs + p->wh;
  *w1 = ws + p->ww > x->w ? x->w : ws + p->ww;
}

static int divisor(const PoolDesc* p, int h0, int h1, int w0, int w1) {
  return p->mode == POOL_AVG_INCLUDE ? p->wh * p->ww : (h1 - h0) * (w1 - w0);
}

EXPORT int cudnnPoolingForward(Handle* h, const PoolDesc* p, const float* alpha,
    const TensorDesc* xd, const float* x, const float* beta, const TensorDesc* yd, float* y) {
  CHECK(h);
  int s = checkPool(p, xd, yd);
  if (s) return s;
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(y, tensorBytes(yd));
  for (int n = 0; n < yd->n; n++)
    for (int c = 0; c < yd->c; c++)
      for (int oh = 0; oh < yd->h; oh++)
        for (int ow = 0; ow < yd->w; ow++) {
          int h0, h1, w0, w1;
          window(p, xd, oh, ow, &h0, &h1, &w0, &w1);
          int isMax = p->mode == POOL_MAX || p->mode == POOL_MAX_DETERMINISTIC;
          double acc = isMax ? -INFINITY : 0;
          int sawNan = 0;
          for (int i = h0; i < h1; i++)
            for (int j = w0; j < w1; j++) {
              float v = x[idx(xd, n, c, i, j)];
              sawNan |= isnan(v);
              acc = isMax ? (v > acc ? v : acc) : acc + v;
            }
          if (!isMax) acc /= divisor(p, h0, h1, w0, w1);
          /* A max window with a NaN: NaN when propagating, else the maximum of the rest. */
          if (isMax && sawNan && p->nanOpt == CUDNN_PROPAGATE_NAN) acc = NAN;
          blend(&y[idx(yd, n, c, oh, ow)], (float) acc, *alpha, *beta);
        }
  return 0;
}

/* Max pooling routes each output's gradient to one maximum of its window. Which of several equal
 * maxima cuDNN picks is not documented; the emulation takes the last in row-major order (the CPU
 * takes the first), so that no test relies on an order cuDNN does not promise. */
EXPORT int cudnnPoolingBackward(Handle* h, const PoolDesc* p, const float* alpha,
    const TensorDesc* yd, const float* y, const TensorDesc* dyd, const float* dy,
    const TensorDesc* xd, const float* x, const float* beta, const TensorDesc* dxd, float* dx) {
  (void) y;
  CHECK(h && dyd && dxd);
  int s = checkPool(p, xd, yd);
  if (s) return s;
  ON_DEVICE(y, tensorBytes(yd));
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(dx, tensorBytes(dxd));
  long size = (long) xd->n * xd->c * xd->h * xd->w;
  float* grad = calloc(size, sizeof(float));
  for (int n = 0; n < yd->n; n++)
    for (int c = 0; c < yd->c; c++)
      for (int oh = 0; oh < yd->h; oh++)
        for (int ow = 0; ow < yd->w; ow++) {
          int h0, h1, w0, w1;
          window(p, xd, oh, ow, &h0, &h1, &w0, &w1);
          float g = dy[idx(dyd, n, c, oh, ow)];
          long base = ((long) n * xd->c + c) * xd->h;
          if (p->mode == POOL_MAX || p->mode == POOL_MAX_DETERMINISTIC) {
            int bi = h0, bj = w0;
            for (int i = h0; i < h1; i++)
              for (int j = w0; j < w1; j++)
                if (x[idx(xd, n, c, i, j)] >= x[idx(xd, n, c, bi, bj)]) bi = i, bj = j;
            grad[(base + bi) * xd->w + bj] += g;
          } else {
            float share = g / divisor(p, h0, h1, w0, w1);
            for (int i = h0; i < h1; i++)
              for (int j = w0; j < w1; j++) grad[(base + i) * xd->w + j] += share;
          }
        }
  for (int n = 0; n < xd->n; n++)
    for (int c = 0; c < xd->c; c++)
      for (int i = 0; i < xd->h; i++)
        for (int j = 0; j < xd->w; j++)
          blend(&dx[idx(dxd, n, c, i, j)], grad[(((long) n * xd->c + c) * xd->h + i) * xd->w + j],
              *alpha, *beta);
  free(grad);
  return 0;
}

/* ---- activations and softmax ------------------------------------------------------------------ */

EXPORT int cudnnSetActivationDescriptor(ActDesc* d, int mode, int nanOpt, double coef) {
  CHECK(d && (nanOpt == 0 || nanOpt == 1));
  if (mode != ACT_SIGMOID && mode != ACT_RELU && mode != ACT_TANH) {
    return CUDNN_STATUS_NOT_SUPPORTED;
  }
  *d = (ActDesc) {mode, nanOpt, coef, 1};
  return 0;
}

static int sameShape(const TensorDesc* a, const TensorDesc* b) {
  return a && b && a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w;
}

#define FOR_EACH(d) \
  for (int n = 0; n < (d)->n; n++) for (int c = 0; c < (d)->c; c++) \
    for (int i = 0; i < (d)->h; i++) for (int j = 0; j < (d)->w; j++)

EXPORT int cudnnActivationForward(Handle* h, const ActDesc* a, const float* alpha,
    const TensorDesc* xd, const float* x, const float* beta, const TensorDesc* yd, float* y) {
  CHECK(h && a && a->set && sameShape(xd, yd));
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(y, tensorBytes(yd));
  FOR_EACH(xd) {
    float v = x[idx(xd, n, c, i, j)];
    float r = a->mode == ACT_RELU ? (v > 0 || (isnan(v) && a->nanOpt) ? v : 0)
        : a->mode == ACT_SIGMOID ? 1 / (1 + expf(-v)) : tanhf(v);
    blend(&y[idx(yd, n, c, i, j)], r, *alpha, *beta);
  }
  return 0;
}

/* dx = dy·f'(x): relu from x's sign, sigmoid and tanh from y (y(1 − y), 1 − y²). */
EXPORT int cudnnActivationBackward(Handle* h, const ActDesc* a, const float* alpha,
    const TensorDesc* yd, const float* y, const TensorDesc* dyd, const float* dy,
    const TensorDesc* xd, const float* x, const float* beta, const TensorDesc* dxd, float* dx) {
  CHECK(h && a && a->set && sameShape(xd, yd) && sameShape(dyd, yd) && sameShape(dxd, yd));
  ON_DEVICE(y, tensorBytes(yd));
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(dx, tensorBytes(dxd));
  FOR_EACH(yd) {
    float yv = y[idx(yd, n, c, i, j)];
    float d = a->mode == ACT_RELU ? (x[idx(xd, n, c, i, j)] > 0 ? 1 : 0)
        : a->mode == ACT_SIGMOID ? yv * (1 - yv) : 1 - yv * yv;
    blend(&dx[idx(dxd, n, c, i, j)], dy[idx(dyd, n, c, i, j)] * d, *alpha, *beta);
  }
  return 0;
}

/* Instance mode: one softmax over C·H·W per image; algorithm 1 (accurate) subtracts the max. */
EXPORT int cudnnSoftmaxForward(Handle* h, int algo, int mode, const float* alpha,
    const TensorDesc* xd, const float* x, const float* beta, const TensorDesc* yd, float* y) {
  CHECK(h && sameShape(xd, yd));
  if (algo != 1 || mode != 0) return CUDNN_STATUS_NOT_SUPPORTED;
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(y, tensorBytes(yd));
  for (int n = 0; n < xd->n; n++) {
    float max = -INFINITY;
    for (int c = 0; c < xd->c; c++) for (int i = 0; i < xd->h; i++) for (int j = 0; j < xd->w; j++)
      max = fmaxf(max, x[idx(xd, n, c, i, j)]);
    double sum = 0;
    for (int c = 0; c < xd->c; c++) for (int i = 0; i < xd->h; i++) for (int j = 0; j < xd->w; j++)
      sum += exp((double) x[idx(xd, n, c, i, j)] - max);
    for (int c = 0; c < xd->c; c++) for (int i = 0; i < xd->h; i++) for (int j = 0; j < xd->w; j++)
      blend(&y[idx(yd, n, c, i, j)], (float) (exp((double) x[idx(xd, n, c, i, j)] - max) / sum),
          *alpha, *beta);
  }
  return 0;
}

EXPORT int cudnnSoftmaxBackward(Handle* h, int algo, int mode, const float* alpha,
    const TensorDesc* yd, const float* y, const TensorDesc* dyd, const float* dy,
    const float* beta, const TensorDesc* dxd, float* dx) {
  CHECK(h && sameShape(yd, dyd) && sameShape(yd, dxd));
  if (algo != 1 || mode != 0) return CUDNN_STATUS_NOT_SUPPORTED;
  ON_DEVICE(y, tensorBytes(yd));
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(dx, tensorBytes(dxd));
  for (int n = 0; n < yd->n; n++) {
    double dot = 0;
    for (int c = 0; c < yd->c; c++) for (int i = 0; i < yd->h; i++) for (int j = 0; j < yd->w; j++)
      dot += (double) dy[idx(dyd, n, c, i, j)] * y[idx(yd, n, c, i, j)];
    for (int c = 0; c < yd->c; c++) for (int i = 0; i < yd->h; i++) for (int j = 0; j < yd->w; j++)
      blend(&dx[idx(dxd, n, c, i, j)],
          (float) (y[idx(yd, n, c, i, j)] * (dy[idx(dyd, n, c, i, j)] - dot)), *alpha, *beta);
  }
  return 0;
}

/* ---- batch normalisation (spatial: statistics per channel over N·H·W) ------------------------- */

static int checkBn(int mode, const TensorDesc* xd, const TensorDesc* pd, double epsilon) {
  if (mode != 1) return CUDNN_STATUS_NOT_SUPPORTED;
  CHECK(xd && pd && pd->n == 1 && pd->c == xd->c && pd->h == 1 && pd->w == 1);
  CHECK(epsilon >= BN_MIN_EPSILON);
  return 0;
}

static void channelStats(const TensorDesc* xd, const float* x, int c, double* mean, double* var) {
  long m = (long) xd->n * xd->h * xd->w;
  double s = 0, sq = 0;
  for (int n = 0; n < xd->n; n++)
    for (int i = 0; i < xd->h; i++)
      for (int j = 0; j < xd->w; j++) s += x[idx(xd, n, c, i, j)];
  *mean = s / m;
  for (int n = 0; n < xd->n; n++)
    for (int i = 0; i < xd->h; i++)
      for (int j = 0; j < xd->w; j++) {
        double d = x[idx(xd, n, c, i, j)] - *mean;
        sq += d * d;
      }
  *var = sq / m; /* biased: what normalises the batch */
}

/* "The same epsilon value should be used in forward and backward functions" (cuDNN API reference,
 * cudnnBatchNormalizationBackward): the forward's epsilon is kept per saved-mean buffer, and a
 * backward that reads those saved statistics with another epsilon is refused. */
typedef struct { const float* savedMean; double epsilon; } SavedEpsilon;
static SavedEpsilon savedEpsilons[256];
static unsigned savedEpsilonNext;

static void rememberEpsilon(const float* savedMean, double epsilon) {
  for (unsigned i = 0; i < 256; i++) {
    if (savedEpsilons[i].savedMean == savedMean) {
      savedEpsilons[i].epsilon = epsilon;
      return;
    }
  }
  savedEpsilons[savedEpsilonNext++ % 256] = (SavedEpsilon) {savedMean, epsilon};
}

static int sameEpsilon(const float* savedMean, double epsilon) {
  for (unsigned i = 0; i < 256; i++) {
    if (savedEpsilons[i].savedMean == savedMean) return savedEpsilons[i].epsilon == epsilon;
  }
  return 1; /* statistics this emulation did not save: nothing to compare with */
}

/* Running statistics: r = (1 − f)·r + f·batch, with the unbiased variance (cuDNN's reference). */
EXPORT int cudnnBatchNormalizationForwardTraining(Handle* h, int mode, const float* alpha,
    const float* beta, const TensorDesc* xd, const float* x, const TensorDesc* yd, float* y,
    const TensorDesc* pd, const float* scale, const float* bias, double factor,
    float* runningMean, float* runningVar, double epsilon, float* saveMean, float* saveInvVar) {
  CHECK(h && sameShape(xd, yd));
  int s = checkBn(mode, xd, pd, epsilon);
  if (s) return s;
  size_t channels = tensorBytes(pd);
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(y, tensorBytes(yd));
  ON_DEVICE(scale, channels);
  ON_DEVICE(bias, channels);
  if (runningMean && runningVar) {
    ON_DEVICE(runningMean, channels);
    ON_DEVICE(runningVar, channels);
  }
  if (saveMean && saveInvVar) {
    ON_DEVICE(saveMean, channels);
    ON_DEVICE(saveInvVar, channels);
  }
  long m = (long) xd->n * xd->h * xd->w;
  for (int c = 0; c < xd->c; c++) {
    double mean, var;
    channelStats(xd, x, c, &mean, &var);
    double inv = 1 / sqrt(var + epsilon);
    for (int n = 0; n < xd->n; n++)
      for (int i = 0; i < xd->h; i++)
        for (int j = 0; j < xd->w; j++)
          blend(&y[idx(yd, n, c, i, j)],
              (float) (scale[c] * (x[idx(xd, n, c, i, j)] - mean) * inv + bias[c]), *alpha, *beta);
    if (runningMean && runningVar) {
      runningMean[c] = (float) ((1 - factor) * runningMean[c] + factor * mean);
      runningVar[c] = (float) ((1 - factor) * runningVar[c]
          + factor * (m > 1 ? var * m / (m - 1) : var));
    }
    if (saveMean && saveInvVar) {
      saveMean[c] = (float) mean;
      saveInvVar[c] = (float) inv;
    }
  }
  if (saveMean && saveInvVar) rememberEpsilon(saveMean, epsilon);
  return 0;
}

EXPORT int cudnnBatchNormalizationForwardInference(Handle* h, int mode, const float* alpha,
    const float* beta, const TensorDesc* xd, const float* x, const TensorDesc* yd, float* y,
    const TensorDesc* pd, const float* scale, const float* bias, const float* mean,
    const float* var, double epsilon) {
  CHECK(h && sameShape(xd, yd));
  int s = checkBn(mode, xd, pd, epsilon);
  if (s) return s;
  size_t channels = tensorBytes(pd);
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(y, tensorBytes(yd));
  ON_DEVICE(scale, channels);
  ON_DEVICE(bias, channels);
  ON_DEVICE(mean, channels);
  ON_DEVICE(var, channels);
  FOR_EACH(xd) {
    double inv = 1 / sqrt((double) var[c] + epsilon);
    blend(&y[idx(yd, n, c, i, j)],
        (float) (scale[c] * (x[idx(xd, n, c, i, j)] - mean[c]) * inv + bias[c]), *alpha, *beta);
  }
  return 0;
}

/* With x̂ = (x − mean)·invStd over M = N·H·W values: dBias = Σdy, dScale = Σdy·x̂,
 * dx = scale·invStd/M · (M·dy − dBias − x̂·dScale). Saved statistics are used when given, else
 * recomputed from x with epsilon. */
EXPORT int cudnnBatchNormalizationBackward(Handle* h, int mode, const float* alphaData,
    const float* betaData, const float* alphaParam, const float* betaParam, const TensorDesc* xd,
    const float* x, const TensorDesc* dyd, const float* dy, const TensorDesc* dxd, float* dx,
    const TensorDesc* pd, const float* scale, float* dScale, float* dBias, double epsilon,
    const float* savedMean, const float* savedInvVar) {
  CHECK(h && sameShape(xd, dyd) && sameShape(xd, dxd));
  int s = checkBn(mode, xd, pd, epsilon);
  if (s) return s;
  CHECK(!(savedMean && savedInvVar) || sameEpsilon(savedMean, epsilon));
  size_t channels = tensorBytes(pd);
  ON_DEVICE(x, tensorBytes(xd));
  ON_DEVICE(dy, tensorBytes(dyd));
  ON_DEVICE(dx, tensorBytes(dxd));
  ON_DEVICE(scale, channels);
  ON_DEVICE(dScale, channels);
  ON_DEVICE(dBias, channels);
  if (savedMean && savedInvVar) {
    ON_DEVICE(savedMean, channels);
    ON_DEVICE(savedInvVar, channels);
  }
  long m = (long) xd->n * xd->h * xd->w;
  for (int c = 0; c < xd->c; c++) {
    double mean, inv;
    if (savedMean && savedInvVar) {
      mean = savedMean[c];
      inv = savedInvVar[c];
    } else {
      double var;
      channelStats(xd, x, c, &mean, &var);
      inv = 1 / sqrt(var + epsilon);
    }
    double sumDy = 0, sumDyXhat = 0;
    for (int n = 0; n < xd->n; n++)
      for (int i = 0; i < xd->h; i++)
        for (int j = 0; j < xd->w; j++) {
          double g = dy[idx(dyd, n, c, i, j)];
          sumDy += g;
          sumDyXhat += g * (x[idx(xd, n, c, i, j)] - mean) * inv;
        }
    for (int n = 0; n < xd->n; n++)
      for (int i = 0; i < xd->h; i++)
        for (int j = 0; j < xd->w; j++) {
          double xhat = (x[idx(xd, n, c, i, j)] - mean) * inv;
          double g = scale[c] * inv / m * (m * dy[idx(dyd, n, c, i, j)] - sumDy - xhat * sumDyXhat);
          blend(&dx[idx(dxd, n, c, i, j)], (float) g, *alphaData, *betaData);
        }
    blend(&dScale[c], (float) sumDyXhat, *alphaParam, *betaParam);
    blend(&dBias[c], (float) sumDy, *alphaParam, *betaParam);
  }
  return 0;
}
