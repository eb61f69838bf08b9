package dev.marrow.bindings;

/**
 * A CUDA, cuBLAS, cuDNN or NVRTC call returned an error status. Carries the function, the status
 * code and name, and the library's own description of it.
 */
public final class CudaException extends RuntimeException {
  private final String function;
  private final int status;
  private final String statusName;

  public CudaException(String function, int status, String statusName, String description) {
    super(function + " failed: " + statusName + " (" + status + "): " + description);
    this.function = function;
    this.status = status;
    this.statusName = statusName;
  }

  public String function() {
    return function;
  }

  public int status() {
    return status;
  }

  public String statusName() {
    return statusName;
  }
}
