/* cuBLAS v2 (libcublas.so.12 or .so.13): column-major BLAS with transposes and leading dimensions, host
 * pointer mode (alpha, beta and results are host pointers), as NVIDIA's cuBLAS guide defines. */
#include "emulation.h"

#include <stdlib.h>
#include <string.h>

enum {
  CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_NOT_SUPPORTED = 15
};

/* The floats a strided vector or a column-major matrix spans, checked against device memory:
 * a host pointer makes the kernel fault on a GPU, which cuBLAS reports as EXECUTION_FAILED. */
static int vectorOnDevice(const float* x, int n, int inc) {
  return n <= 0 || emu_on_device(x, sizeof(float) * ((size_t) (n - 1) * (inc < 0 ? -inc : inc) + 1));
}

static int matrixOnDevice(const float* x, int rows, int cols, int ld) {
  return rows <= 0 || cols <= 0 || emu_on_device(x, sizeof(float) * ((size_t) ld * (cols - 1) + rows));
}
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };

typedef struct { int mathMode; int pointerMode; void* stream; } Handle;

EXPORT int cublasCreate_v2(Handle** handle) {
  *handle = calloc(1, sizeof(Handle));
  return *handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

EXPORT int cublasDestroy_v2(Handle* handle) {
  if (handle == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  free(handle);
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasGetVersion_v2(Handle* handle, int* version) {
  (void) handle;
  *version = EMU_CUBLAS_VERSION;
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSetStream_v2(Handle* h, void* stream) { h->stream = stream; return 0; }
EXPORT int cublasSetMathMode(Handle* h, int mode) { h->mathMode = mode; return 0; }

/* Only host pointer mode (0) is emulated: Marrow passes scalars from the host. */
EXPORT int cublasSetPointerMode_v2(Handle* h, int mode) {
  if (mode != 0) return CUBLAS_STATUS_NOT_SUPPORTED;
  h->pointerMode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

/* op(X) element (row, col) of a column-major X with leading dimension ld. */
static inline float at(const float* x, int op, int ld, int row, int col) {
  return op == CUBLAS_OP_N ? x[row + (long) col * ld] : x[col + (long) row * ld];
}

/* cublasMath_t: CUBLAS_DEFAULT_MATH 0 is FP32 (since CUDA 11); the deprecated TENSOR_OP_MATH 1 and
 * CUBLAS_TF32_TENSOR_OP_MATH 3 let FP32 GEMMs run on TF32 tensor cores. */
static int tf32Allowed(const Handle* h) {
  return EMU_TENSOR_CORES && (h->mathMode == 1 || h->mathMode == 3);
}

/* C = alpha·op(A)·op(B) + beta·C with C m×n; beta = 0 ignores C's old contents (even NaN).
 * op(A) is first copied column-major so that the inner loop runs down contiguous columns. With
 * tf32, A and B are rounded to TF32 first, as tensor cores read them. */
static int gemm(int tf32, int transa, int transb, int m, int n, int k, float alpha,
    const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  if (transa < 0 || transa > 2 || transb < 0 || transb > 2 || m < 0 || n < 0 || k < 0
      || lda < (transa == CUBLAS_OP_N ? m : k) || lda < 1
      || ldb < (transb == CUBLAS_OP_N ? k : n) || ldb < 1 || ldc < m || ldc < 1) {
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (transa == CUBLAS_OP_C) transa = CUBLAS_OP_T; /* real data: conjugate = transpose */
  if (transb == CUBLAS_OP_C) transb = CUBLAS_OP_T;
  int aRows = transa == CUBLAS_OP_N ? m : k, aCols = transa == CUBLAS_OP_N ? k : m;
  int bRows = transb == CUBLAS_OP_N ? k : n, bCols = transb == CUBLAS_OP_N ? n : k;
  if (!matrixOnDevice(A, aRows, aCols, lda) || !matrixOnDevice(B, bRows, bCols, ldb)
      || !matrixOnDevice(C, m, n, ldc)) {
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  float* a = malloc(sizeof(float) * ((size_t) m * k + 1));
  float* acc = malloc(sizeof(float) * ((size_t) m + 1));
  if (a == NULL || acc == NULL) return CUBLAS_STATUS_ALLOC_FAILED;
  for (int p = 0; p < k; p++)
    for (int i = 0; i < m; i++) {
      float v = at(A, transa, lda, i, p);
      a[i + (long) p * m] = tf32 ? emu_tf32(v) : v;
    }
  for (int j = 0; j < n; j++) {
    memset(acc, 0, sizeof(float) * m);
    for (int p = 0; p < k; p++) {
      float b = at(B, transb, ldb, p, j);
      if (tf32) b = emu_tf32(b);
      const float* col = a + (long) p * m;
      for (int i = 0; i < m; i++) acc[i] += col[i] * b;
    }
    float* c = C + (long) j * ldc;
    for (int i = 0; i < m; i++) c[i] = alpha * acc[i] + (beta == 0 ? 0 : beta * c[i]);
  }
  free(a);
  free(acc);
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSgemm_v2(Handle* h, int transa, int transb, int m, int n, int k,
    const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
    float* C, int ldc) {
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  return gemm(tf32Allowed(h), transa, transb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
}

EXPORT int cublasSgemmStridedBatched(Handle* h, int transa, int transb, int m, int n, int k,
    const float* alpha, const float* A, int lda, long long strideA, const float* B, int ldb,
    long long strideB, const float* beta, float* C, int ldc, long long strideC, int batchCount) {
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (batchCount < 0) return CUBLAS_STATUS_INVALID_VALUE;
  for (int i = 0; i < batchCount; i++) {
    int s = gemm(tf32Allowed(h), transa, transb, m, n, k, *alpha, A + i * strideA, lda,
        B + i * strideB, ldb, *beta, C + i * strideC, ldc);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
  }
  return CUBLAS_STATUS_SUCCESS;
}

/* cudaDataType CUDA_R_32F = 0; cublasComputeType CUBLAS_COMPUTE_32F = 68 (FP32 whatever the math
 * mode), CUBLAS_COMPUTE_32F_FAST_TF32 = 77 (TF32 on tensor cores). */
EXPORT int cublasGemmEx(Handle* h, int transa, int transb, int m, int n, int k,
    const void* alpha, const void* A, int Atype, int lda, const void* B, int Btype, int ldb,
    const void* beta, void* C, int Ctype, int ldc, int computeType, int algo) {
  (void) algo;
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (Atype != 0 || Btype != 0 || Ctype != 0 || (computeType != 68 && computeType != 77)) {
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  return gemm(EMU_TENSOR_CORES && computeType == 77, transa, transb, m, n, k,
      *(const float*) alpha, A, lda, B, ldb, *(const float*) beta, C, ldc);
}

EXPORT int cublasSaxpy_v2(Handle* h, int n, const float* alpha, const float* x, int incx,
    float* y, int incy) {
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!vectorOnDevice(x, n, incx) || !vectorOnDevice(y, n, incy)) {
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  for (int i = 0; i < n; i++) y[(long) i * incy] += *alpha * x[(long) i * incx];
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSscal_v2(Handle* h, int n, const float* alpha, float* x, int incx) {
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!vectorOnDevice(x, n, incx)) return CUBLAS_STATUS_EXECUTION_FAILED;
  for (int i = 0; i < n; i++) x[(long) i * incx] *= *alpha;
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSdot_v2(Handle* h, int n, const float* x, int incx, const float* y, int incy,
    float* result) {
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!vectorOnDevice(x, n, incx) || !vectorOnDevice(y, n, incy)) {
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  double s = 0;
  for (int i = 0; i < n; i++) s += (double) x[(long) i * incx] * y[(long) i * incy];
  *result = (float) s;
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT int cublasSasum_v2(Handle* h, int n, const float* x, int incx, float* result) {
  if (h == NULL) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!vectorOnDevice(x, n, incx)) return CUBLAS_STATUS_EXECUTION_FAILED;
  double s = 0;
  for (int i = 0; i < n; i++) {
    float v = x[(long) i * incx];
    s += v < 0 ? -v : v; /* NaN propagates, as on the device */
  }
  *result = (float) s;
  return CUBLAS_STATUS_SUCCESS;
}

EXPORT const char* cublasGetStatusName(int status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

EXPORT const char* cublasGetStatusString(int status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    default: return "unknown error";
  }
}
