package dev.marrow.engine.backend.cuda;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The NVRTC-compiled element-wise kernels of kernels.cu that no library call covers: strided block
 * copies, products, dropout and the fused optimizer updates. One thread per element.
 */
final class ElementwiseOps {
  private final CudaDevice device;

  ElementwiseOps(CudaDevice device) {
    this.device = device;
  }

  /** src and dst have the same size (any shape); dst = src. */
  void copy(Tensor src, Tensor dst) {
    Backend.requireSameSize(src, dst);
    if (src != dst) {
      device.copy(device.out(dst), device.in(src), dst.size());
    }
  }

  /**
   * {@code dst[dstOffset + b·dstStride + i] (+)= src[srcOffset + b·srcStride + i]} for b in [0,
   * blocks), i in [0, blockLength): flat views of src and dst.
   */
  void copyBlocks(
      Tensor src,
      int srcOffset,
      int srcStride,
      Tensor dst,
      int dstOffset,
      int dstStride,
      int blocks,
      int blockLength,
      boolean accumulate) {
    Backend.requireBlocksInside(src, srcOffset, srcStride, blocks, blockLength, "src");
    Backend.requireBlocksInside(dst, dstOffset, dstStride, blocks, blockLength, "dst");
    long total = (long) blocks * blockLength;
    if (total == 0) {
      return;
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          blocks + " blocks of " + blockLength + " overlap in dst: they cannot all fit in it");
    }
    // src before dst: when they share storage, reading first brings the device copy up to date.
    MemorySegment s = device.in(src);
    boolean overwritesAllOfDst =
        !accumulate && dstOffset == 0 && dstStride == blockLength && total == dst.size();
    MemorySegment d = overwritesAllOfDst ? device.out(dst) : device.inout(dst);
    device.kernels.launch(
        "copy_blocks",
        (int) total,
        new CudaKernels.Args()
            .ptr(s)
            .i(srcOffset)
            .i(srcStride)
            .ptr(d)
            .i(dstOffset)
            .i(dstStride)
            .i(blocks)
            .i(blockLength)
            .i(accumulate ? 1 : 0));
  }

  /** a, b and out have the same size; out (+)= a ⊙ b. */
  void multiply(Tensor a, Tensor b, Tensor out, boolean accumulate) {
    Backend.requireSameSize(a, b);
    Backend.requireSameSize(a, out);
    // Inputs before the output, so that an output aliasing an input is uploaded first.
    MemorySegment aPtr = device.in(a), bPtr = device.in(b);
    MemorySegment outPtr = accumulate ? device.inout(out) : device.out(out);
    device.kernels.launch(
        accumulate ? "multiply_add" : "multiply",
        out.size(),
        new CudaKernels.Args().ptr(aPtr).ptr(bPtr).ptr(outPtr).i(out.size()));
  }

  /** x, y and mask have the same size; mask is a pure function of (seed, index). */
  void dropoutForward(Tensor x, Tensor y, Tensor mask, float rate, long seed) {
    device.kernels.launch(
        "dropout_forward",
        x.size(),
        new CudaKernels.Args()
            .ptr(device.in(x))
            .ptr(device.out(y))
            .ptr(device.out(mask))
            .f(rate)
            .l(seed)
            .i(x.size()));
  }

  /** dy, mask and dx have the same size; dx may be dy. */
  void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
    MemorySegment dxPtr = dx == dy ? device.inout(dx) : device.out(dx);
    device.kernels.launch(
        "multiply",
        dx.size(),
        new CudaKernels.Args().ptr(device.in(dy)).ptr(device.in(mask)).ptr(dxPtr).i(dx.size()));
  }

  /** param, grad and velocity (or null without momentum) have the same size. */
  void sgdUpdate(
      Tensor param,
      Tensor grad,
      Tensor velocity,
      float lr,
      float momentum,
      boolean nesterov,
      float weightDecay) {
    device.kernels.launch(
        "sgd_update",
        param.size(),
        new CudaKernels.Args()
            .ptr(device.inout(param))
            .ptr(device.in(grad))
            .ptr(velocity == null ? null : device.inout(velocity))
            .f(lr)
            .f(momentum)
            .i(nesterov ? 1 : 0)
            .f(weightDecay)
            .i(param.size()));
  }

  /** param, grad, m and v have the same size; step ≥ 1. */
  void adamUpdate(
      Tensor param,
      Tensor grad,
      Tensor m,
      Tensor v,
      float lr,
      float beta1,
      float beta2,
      float epsilon,
      int step,
      float weightDecay,
      boolean decoupledWeightDecay) {
    device.kernels.launch(
        "adam_update",
        param.size(),
        new CudaKernels.Args()
            .ptr(device.inout(param))
            .ptr(device.in(grad))
            .ptr(device.inout(m))
            .ptr(device.inout(v))
            .f(lr)
            .f(beta1)
            .f(beta2)
            .f(epsilon)
            .d(1 - Math.pow(beta1, step))
            .d(1 - Math.pow(beta2, step))
            .f(weightDecay)
            .i(decoupledWeightDecay ? 1 : 0)
            .i(param.size()));
  }
}
