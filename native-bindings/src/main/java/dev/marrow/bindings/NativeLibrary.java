package dev.marrow.bindings;

import java.util.List;

/**
 * A native library Marrow can bind, known by its versioned sonames (the unversioned {@code .so}
 * names exist only with -dev packages, so they are never relied on).
 */
public enum NativeLibrary {
  CUDA_DRIVER("CUDA driver", List.of("libcuda.so.1")),
  CUDA_RUNTIME("CUDA runtime", List.of("libcudart.so.13", "libcudart.so.12")),
  NVRTC("NVRTC", List.of("libnvrtc.so.13", "libnvrtc.so.12")),
  CUBLAS("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12")),
  CUDNN("cuDNN 9", List.of("libcudnn.so.9")),
  OPENBLAS("OpenBLAS (CBLAS)", List.of("libopenblas.so.0", "libopenblas.so", "libcblas.so.3"));

  private final String displayName;
  private final List<String> sonames;

  NativeLibrary(String displayName, List<String> sonames) {
    this.displayName = displayName;
    this.sonames = sonames;
  }

  public String displayName() {
    return displayName;
  }

  /** Candidate file names, preferred first. */
  public List<String> sonames() {
    return sonames;
  }
}
