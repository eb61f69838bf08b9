package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * cuDNN max and average pooling, forward and backward; geometries with asymmetric padding take the
 * {@link AsymmetricPadding} detour. Keras' average, which leaves padding out of the divisor, cannot
 * take it as it is (explicit padding would be counted): it averages whole zero-padded windows and
 * rescales each output by window size / window positions inside the image.
 */
final class PoolingOps {
  private final CudaDevice device;
  private final Cudnn cudnn;
  private final AsymmetricPadding padding;
  private final ElementwiseOps elementwise;

  /** Per geometry: window size / positions inside the image, per output (N,C,OH,OW). */
  private final Map<ConvGeometry, Tensor> rescale = new HashMap<>();

  /** Per geometry: the rescaled upstream gradient (N,C,OH,OW). */
  private final Map<ConvGeometry, Tensor> rescaledGrad = new HashMap<>();

  PoolingOps(
      CudaDevice device, Cudnn cudnn, AsymmetricPadding padding, ElementwiseOps elementwise) {
    this.device = device;
    this.cudnn = cudnn;
    this.padding = padding;
    this.elementwise = elementwise;
  }

  /** x is (N,C,H,W), y is (N,C,OH,OW). */
  void forward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    if (averageExcludingAsymmetricPadding(mode, g)) {
      forward(PoolMode.AVERAGE_INCLUDE_PADDING, g, x, y);
      elementwise.multiply(y, rescale(g), y, false);
      return;
    }
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
    if (averageExcludingAsymmetricPadding(mode, g)) {
      // y = s ⊙ whole-window average, so dx is the whole-window average's backward of s ⊙ dy.
      Tensor scaled =
          rescaledGrad.computeIfAbsent(
              g, k -> Tensor.onDevice(dy.shape(), device.newBuffer(dy.size())));
      elementwise.multiply(dy, rescale(g), scaled, false);
      backward(PoolMode.AVERAGE_INCLUDE_PADDING, g, x, y, scaled, dx);
      return;
    }
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

  private static boolean averageExcludingAsymmetricPadding(PoolMode mode, ConvGeometry g) {
    return mode == PoolMode.AVERAGE_EXCLUDE_PADDING && !AsymmetricPadding.symmetric(g);
  }

  // s (N,C,OH,OW): kh·kw / the positions of output (oh, ow)'s window inside the H×W image.
  private Tensor rescale(ConvGeometry g) {
    return rescale.computeIfAbsent(
        g,
        k -> {
          int plane = g.outH() * g.outW();
          Tensor s = Tensor.zeros(Shape.of(g.n() * g.c() * plane));
          float[] v = s.array();
          for (int oh = 0; oh < g.outH(); oh++) {
            int top = oh * g.strideH() - g.padTop();
            int rows = Math.min(top + g.kh(), g.h()) - Math.max(top, 0);
            for (int ow = 0; ow < g.outW(); ow++) {
              int left = ow * g.strideW() - g.padLeft();
              int cols = Math.min(left + g.kw(), g.w()) - Math.max(left, 0);
              v[oh * g.outW() + ow] = (float) (g.kh() * g.kw()) / Math.max(1, rows * cols);
            }
          }
          for (int p = 1; p < g.n() * g.c(); p++) {
            System.arraycopy(v, 0, v, p * plane, plane);
          }
          return s;
        });
  }

  /** What explicit padding must hold for the window results to stay the same (NaN: none does). */
  private static float padValue(PoolMode mode) {
    return switch (mode) {
      case MAX -> Float.NEGATIVE_INFINITY; // never a window's maximum
      case AVERAGE_INCLUDE_PADDING -> 0f; // counted, as zeros
      case AVERAGE_EXCLUDE_PADDING -> Float.NaN; // the divisor would count it: rescaled above
    };
  }
}
