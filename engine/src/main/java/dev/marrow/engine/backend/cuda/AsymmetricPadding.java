package dev.marrow.engine.backend.cuda;

import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one detour for geometries cuDNN's symmetric padding cannot express (TensorFlow's asymmetric
 * 'same' padding, PyTorch-style geometries whose last rows are dropped): the input is padded
 * explicitly into a buffer, the operation runs on it with no padding of its own, and a gradient
 * computed for the padded input is cropped back. Convolution and pooling, forward and backward, all
 * go through {@link #run}.
 */
final class AsymmetricPadding {
  /** An operation on a geometry cuDNN can express, with the input and input gradient to use. */
  interface Op {
    void run(ConvGeometry g, Tensor x, Tensor dx);
  }

  private final CudaDevice device;

  /** Explicitly padded inputs (slot 0) and their gradients (slot 1), per geometry. */
  private final Map<List<Object>, Tensor> buffers = new HashMap<>();

  AsymmetricPadding(CudaDevice device) {
    this.device = device;
  }

  /**
   * Runs {@code op} on {@code g}, {@code x} and {@code dx} themselves when cuDNN can express {@code
   * g}; else on the unpadded geometry, with x (when not null) padded by {@code padValue} and a
   * padded gradient buffer (when dx is not null) cropped into dx afterwards. x is (N,C,H,W), dx the
   * same; the padded ones are (N,C,H',W') with H', W' what the output needs. A NaN padValue says
   * that no explicit padding gives the operation's result (the op then needs symmetric padding).
   */
  void run(ConvGeometry g, Tensor x, float padValue, Tensor dx, Op op) {
    if (symmetric(g)) {
      op.run(g, x, dx);
      return;
    }
    if (Float.isNaN(padValue)) {
      throw new UnsupportedOperationException(
          "this operation needs top/left and bottom/right padding alike on CUDA: " + g);
    }
    ConvGeometry u = unpadded(g);
    Tensor dPadded = dx == null ? null : buffer(g, u, 1);
    op.run(u, x == null ? null : pad(g, u, x, padValue), dPadded);
    if (dx != null) {
      crop(g, u, dPadded, dx);
    }
  }

  /**
   * True when cuDNN's symmetric padding (top = bottom, left = right) gives the geometry's output
   * size.
   */
  static boolean symmetric(ConvGeometry g) {
    return ConvGeometry.outputSize(
                g.h(), g.kh(), g.strideH(), g.padTop(), g.padTop(), g.dilationH())
            == g.outH()
        && ConvGeometry.outputSize(
                g.w(), g.kw(), g.strideW(), g.padLeft(), g.padLeft(), g.dilationW())
            == g.outW();
  }

  /** The same operation on an input padded explicitly, with no padding of its own. */
  private static ConvGeometry unpadded(ConvGeometry g) {
    int ph = (g.outH() - 1) * g.strideH() + g.dilationH() * (g.kh() - 1) + 1;
    int pw = (g.outW() - 1) * g.strideW() + g.dilationW() * (g.kw() - 1) + 1;
    return new ConvGeometry(
        g.n(),
        g.c(),
        ph,
        pw,
        g.f(),
        g.kh(),
        g.kw(),
        g.strideH(),
        g.strideW(),
        0,
        0,
        g.dilationH(),
        g.dilationW(),
        g.outH(),
        g.outW());
  }

  private Tensor buffer(ConvGeometry g, ConvGeometry u, int slot) {
    return buffers.computeIfAbsent(
        List.of(g, slot),
        k -> {
          Shape s = Shape.of(g.n(), g.c(), u.h(), u.w());
          return Tensor.onDevice(s, device.newBuffer(s.size()));
        });
  }

  // x (N,C,H,W) into p (N,C,H',W') at (padTop, padLeft), the border filled with value.
  private Tensor pad(ConvGeometry g, ConvGeometry u, Tensor x, float value) {
    Tensor p = buffer(g, u, 0);
    device.kernels.launch(
        "pad_planes",
        p.size(),
        new CudaKernels.Args()
            .ptr(device.in(x))
            .ptr(device.out(p))
            .i(g.n() * g.c())
            .i(g.h())
            .i(g.w())
            .i(g.padTop())
            .i(g.padLeft())
            .i(u.h())
            .i(u.w())
            .f(value));
    return p;
  }

  // padded (N,C,H',W') cropped at (padTop, padLeft) into dx (N,C,H,W).
  private void crop(ConvGeometry g, ConvGeometry u, Tensor padded, Tensor dx) {
    device.kernels.launch(
        "crop_planes",
        dx.size(),
        new CudaKernels.Args()
            .ptr(device.in(padded))
            .ptr(device.out(dx))
            .i(g.n() * g.c())
            .i(g.h())
            .i(g.w())
            .i(g.padTop())
            .i(g.padLeft())
            .i(u.h())
            .i(u.w()));
  }
}
