package dev.marrow.bindings;

import dev.marrow.bindings.cublas.cublas_h;
import dev.marrow.bindings.cudart.cudart_h;
import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.bindings.nvrtc.nvrtc_h;
import java.lang.foreign.MemorySegment;

/**
 * Turns the status codes of the CUDA runtime, cuBLAS, cuDNN and NVRTC into {@link CudaException}s
 * named and described by the library itself ({@code cudaGetErrorName/String}, {@code
 * cublasGetStatusName/String}, {@code cudnnGetErrorString}, {@code nvrtcGetErrorString}).
 */
public final class CudaStatus {
  private CudaStatus() {}

  /** Checks a CUDA runtime status. */
  public static void runtime(int status, String function) {
    if (status != cudart_h.cudaSuccess()) {
      throw new CudaException(
          function,
          status,
          text(cudart_h.cudaGetErrorName(status)),
          text(cudart_h.cudaGetErrorString(status)));
    }
  }

  /** Checks a cuBLAS status. */
  public static void cublas(int status, String function) {
    if (status != cublas_h.CUBLAS_STATUS_SUCCESS()) {
      throw new CudaException(
          function,
          status,
          text(cublas_h.cublasGetStatusName(status)),
          text(cublas_h.cublasGetStatusString(status)));
    }
  }

  /** Checks a cuDNN status (cuDNN has one string per status; it serves as name and text). */
  public static void cudnn(int status, String function) {
    if (status != cudnn_h.CUDNN_STATUS_SUCCESS()) {
      String text = text(cudnn_h.cudnnGetErrorString(status));
      throw new CudaException(function, status, text, text);
    }
  }

  /** Checks an NVRTC status (like cuDNN, one string per status). */
  public static void nvrtc(int status, String function) {
    if (status != nvrtc_h.NVRTC_SUCCESS()) {
      String text = text(nvrtc_h.nvrtcGetErrorString(status));
      throw new CudaException(function, status, text, text);
    }
  }

  private static String text(MemorySegment cString) {
    return cString.equals(MemorySegment.NULL)
        ? "(no description)"
        : cString.reinterpret(4096).getString(0);
  }
}
