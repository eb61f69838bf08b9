package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cublas;

import dev.marrow.bindings.cublas.cublas_h;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * cuBLAS: the row-major GEMM of dense layers and the BLAS-1 calls (axpy, dot, scal, asum). Owns the
 * cuBLAS handle, on the device's default stream like cuDNN and the kernels.
 */
final class GemmOps implements AutoCloseable {
  private final CudaDevice device;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment handle;
  private final MemorySegment alphaSlot;
  private final MemorySegment betaSlot;

  GemmOps(CudaDevice device, boolean tf32) {
    this.device = device;
    MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
    cublas(cublas_h.cublasCreate_v2(slot), "cublasCreate_v2");
    this.handle = slot.get(ValueLayout.ADDRESS, 0);
    // cuBLAS defaults to FP32 math; TF32 tensor cores are opt-in.
    cublas(
        cublas_h.cublasSetMathMode(
            handle, tf32 ? cublas_h.CUBLAS_TF32_TENSOR_OP_MATH() : cublas_h.CUBLAS_DEFAULT_MATH()),
        "cublasSetMathMode");
    this.alphaSlot = arena.allocate(ValueLayout.JAVA_FLOAT);
    this.betaSlot = arena.allocate(ValueLayout.JAVA_FLOAT);
  }

  /**
   * Row-major {@code C = alpha·op(A)·op(B) + beta·C}: op(A) is (m,k), op(B) is (k,n), C is (m,n);
   * lda, ldb and ldc are the row strides of A, B and C as stored.
   */
  void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Tensor a,
      int aOffset,
      int lda,
      Tensor b,
      int bOffset,
      int ldb,
      float beta,
      Tensor c,
      int cOffset,
      int ldc) {
    // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands, keep the
    // transposes, and the row strides become the column-major leading dimensions.
    boolean overwritesAllOfC = beta == 0 && cOffset == 0 && ldc == n && m * n == c.size();
    MemorySegment cPtr = overwritesAllOfC ? device.out(c) : device.inout(c);
    alphaSlot.set(ValueLayout.JAVA_FLOAT, 0, alpha);
    betaSlot.set(ValueLayout.JAVA_FLOAT, 0, beta);
    cublas(
        cublas_h.cublasSgemm_v2(
            handle,
            transB ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(),
            transA ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(),
            n,
            m,
            k,
            alphaSlot,
            CudaRuntime.offset(device.in(b), bOffset),
            ldb,
            CudaRuntime.offset(device.in(a), aOffset),
            lda,
            betaSlot,
            CudaRuntime.offset(cPtr, cOffset),
            ldc),
        "cublasSgemm_v2");
  }

  /** {@code y += alpha·x}; x and y have the same size. */
  void axpy(float alpha, Tensor x, Tensor y) {
    cublas(
        cublas_h.cublasSaxpy_v2(
            handle, y.size(), device.hostFloat(alpha), device.in(x), 1, device.inout(y), 1),
        "cublasSaxpy_v2");
  }

  /** Σ x² over all of x. */
  float sumOfSquares(Tensor x) {
    MemorySegment p = device.in(x);
    cublas(
        cublas_h.cublasSdot_v2(handle, x.size(), p, 1, p, 1, device.resultSlot()), "cublasSdot_v2");
    return device.readScalar();
  }

  /** {@code x *= alpha} over all of x; alpha = 0 writes zeros. */
  void scale(Tensor x, float alpha) {
    if (alpha == 0) { // writes zeros even over NaN, which scal by 0 would keep
      CudaRuntime.memset(device.out(x), 4L * x.size());
    } else {
      cublas(
          cublas_h.cublasSscal_v2(handle, x.size(), device.hostFloat(alpha), device.inout(x), 1),
          "cublasSscal_v2");
    }
  }

  /** Σ |terms[i]| over {@code n} floats of device memory (the loss kernels' terms are ≥ 0). */
  float sum(MemorySegment terms, int n) {
    cublas(cublas_h.cublasSasum_v2(handle, n, terms, 1, device.resultSlot()), "cublasSasum_v2");
    return device.readScalar();
  }

  @Override
  public void close() {
    cublas(cublas_h.cublasDestroy_v2(handle), "cublasDestroy_v2");
    arena.close();
  }
}
