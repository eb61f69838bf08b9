package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * cuDNN max and average pooling, forward and backward; geometries with asymmetric padding take the
 * {@link AsymmetricPadding} detour.
 */
final class PoolingOps {
  private final CudaDevice device;
  private final Cudnn cudnn;
  private final AsymmetricPadding padding;

  PoolingOps(CudaDevice device, Cudnn cudnn, AsymmetricPadding padding) {
    this.device = device;
    this.cudnn = cudnn;
    this.padding = padding;
  }

  /** x is (N,C,H,W), y is (N,C,OH,OW). */
  void forward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    padding.run(
        g,
        x,
        padValue(mode),
        null,
        (h, xh, unused) ->
            cudnn(
                cudnn_h.cudnnPoolingForward(
                    cudnn.handle,
                    cudnn.pooling(mode, h),
                    device.one,
                    cudnn.tensor(h.n(), h.c(), h.h(), h.w()),
                    device.in(xh),
                    device.zero,
                    cudnn.tensor(h.n(), h.c(), h.outH(), h.outW()),
                    device.out(y)),
                "cudnnPoolingForward"));
  }

  /** x and dx are (N,C,H,W), y and dy (N,C,OH,OW); dx is overwritten. */
  void backward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    padding.run(
        g,
        x,
        padValue(mode),
        dx,
        (h, xh, dxh) -> {
          MemorySegment xd = cudnn.tensor(h.n(), h.c(), h.h(), h.w());
          MemorySegment yd = cudnn.tensor(h.n(), h.c(), h.outH(), h.outW());
          cudnn(
              cudnn_h.cudnnPoolingBackward(
                  cudnn.handle,
                  cudnn.pooling(mode, h),
                  device.one,
                  yd,
                  device.in(y),
                  yd,
                  device.in(dy),
                  xd,
                  device.in(xh),
                  device.zero,
                  xd,
                  device.out(dxh)),
              "cudnnPoolingBackward");
        });
  }

  /** What explicit padding must hold for the window results to stay the same (NaN: none does). */
  private static float padValue(PoolMode mode) {
    return switch (mode) {
      case MAX -> Float.NEGATIVE_INFINITY; // never a window's maximum
      case AVERAGE_INCLUDE_PADDING -> 0f; // counted, as zeros
      case AVERAGE_EXCLUDE_PADDING -> Float.NaN; // the divisor would count the padding
    };
  }
}
