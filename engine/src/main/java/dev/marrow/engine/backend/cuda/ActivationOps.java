package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Element-wise activations and row-wise softmax: relu, sigmoid, tanh and softmax through cuDNN, the
 * kinds cuDNN's legacy API lacks through kernels.cu's activation_forward/backward.
 */
final class ActivationOps {
  private final CudaDevice device;
  private final Cudnn cudnn;

  ActivationOps(CudaDevice device, Cudnn cudnn) {
    this.device = device;
    this.cudnn = cudnn;
  }

  private static int cudnnMode(Activation kind) {
    return switch (kind) {
      case RELU -> cudnn_h.CUDNN_ACTIVATION_RELU();
      case SIGMOID -> cudnn_h.CUDNN_ACTIVATION_SIGMOID();
      case TANH -> cudnn_h.CUDNN_ACTIVATION_TANH();
      default -> throw new IllegalArgumentException(kind + " has no cuDNN mode");
    };
  }

  /**
   * The code of kernels.cu's activation_forward/backward, or 0 for the kinds cuDNN runs. cuDNN's
   * legacy activation API has no gelu, silu, softplus or leaky ReLU; it has ELU, but one kernel
   * family for the five keeps their definitions (slope, thresholds) in one place.
   */
  private static int kernelActivation(Activation kind) {
    return switch (kind) {
      case LEAKY_RELU -> 1;
      case ELU -> 2;
      case GELU -> 3;
      case SILU -> 4;
      case SOFTPLUS -> 5;
      default -> 0;
    };
  }

  /** x and y have the same size (any shape) and may be the same tensor. */
  void forward(Activation kind, Tensor x, Tensor y) {
    if (kind == Activation.SOFTMAX) {
      throw new IllegalArgumentException("softmax is row-wise: use softmaxForward");
    }
    Backend.requireSameSize(x, y);
    if (kind == Activation.LINEAR) {
      if (x != y) {
        device.copy(device.out(y), device.in(x), y.size());
      }
      return;
    }
    if (kernelActivation(kind) != 0) {
      MemorySegment xPtr = x == y ? device.inout(y) : device.in(x);
      device.kernels.launch(
          "activation_forward",
          x.size(),
          new CudaKernels.Args()
              .i(kernelActivation(kind))
              .ptr(xPtr)
              .ptr(x == y ? xPtr : device.out(y))
              .i(x.size()));
      return;
    }
    MemorySegment d = cudnn.tensor(1, x.size(), 1, 1);
    MemorySegment yPtr = x == y ? device.inout(y) : device.out(y);
    cudnn(
        cudnn_h.cudnnActivationForward(
            cudnn.handle,
            cudnn.activation(cudnnMode(kind)),
            device.one,
            d,
            device.in(x),
            device.zero,
            d,
            yPtr),
        "cudnnActivationForward");
  }

  /** x (or null), y (or null), dy and dx have the same size; dx may be dy. */
  void backward(Activation kind, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    if (kind == Activation.LINEAR) {
      Backend.requireSameSize(dy, dx);
      if (dx != dy) {
        device.copy(device.out(dx), device.in(dy), dx.size());
      }
      return;
    }
    if (kernelActivation(kind) != 0) {
      boolean fromInput = kind.backwardNeedsInput();
      MemorySegment dyPtr = dx == dy ? device.inout(dx) : device.in(dy);
      device.kernels.launch(
          "activation_backward",
          dy.size(),
          new CudaKernels.Args()
              .i(kernelActivation(kind))
              .ptr(fromInput ? device.in(x) : null)
              .ptr(fromInput ? null : device.in(y))
              .ptr(dyPtr)
              .ptr(dx == dy ? dyPtr : device.out(dx))
              .i(dy.size()));
      return;
    }
    MemorySegment d = cudnn.tensor(1, y.size(), 1, 1);
    MemorySegment yPtr = device.in(y);
    MemorySegment dxPtr = dx == dy ? device.inout(dx) : device.out(dx);
    // For relu, sigmoid and tanh the derivative is a function of y (and relu's x > 0 exactly where
    // y > 0), so y stands in for cuDNN's x argument: callers need not keep x for them.
    cudnn(
        cudnn_h.cudnnActivationBackward(
            cudnn.handle,
            cudnn.activation(cudnnMode(kind)),
            device.one,
            d,
            yPtr,
            d,
            device.in(dy),
            d,
            yPtr,
            device.zero,
            d,
            dxPtr),
        "cudnnActivationBackward");
  }

  /** x and y are (rows, cols) and may be the same tensor. */
  void softmaxForward(Tensor x, Tensor y, int rows, int cols) {
    MemorySegment d = cudnn.tensor(rows, cols, 1, 1);
    MemorySegment yPtr = x == y ? device.inout(y) : device.out(y);
    cudnn(
        cudnn_h.cudnnSoftmaxForward(
            cudnn.handle,
            cudnn_h.CUDNN_SOFTMAX_ACCURATE(),
            cudnn_h.CUDNN_SOFTMAX_MODE_INSTANCE(),
            device.one,
            d,
            device.in(x),
            device.zero,
            d,
            yPtr),
        "cudnnSoftmaxForward");
  }

  /** y, dy and dx are (rows, cols); dx may be dy. */
  void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
    MemorySegment d = cudnn.tensor(rows, cols, 1, 1);
    MemorySegment dxPtr = dx == dy ? device.inout(dx) : device.out(dx);
    cudnn(
        cudnn_h.cudnnSoftmaxBackward(
            cudnn.handle,
            cudnn_h.CUDNN_SOFTMAX_ACCURATE(),
            cudnn_h.CUDNN_SOFTMAX_MODE_INSTANCE(),
            device.one,
            d,
            device.in(y),
            d,
            device.in(dy),
            device.zero,
            d,
            dxPtr),
        "cudnnSoftmaxBackward");
  }
}
