package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * cuDNN convolution, forward and backward, and the bias calls of dense and convolution layers.
 * Algorithms and workspace sizes come from {@link Cudnn#convolution}, cached per geometry;
 * geometries with asymmetric padding take the {@link AsymmetricPadding} detour.
 */
final class ConvolutionOps {
  /** Workspace a convolution algorithm may use (cuDNN's ranking is followed below this). */
  private static final long WORKSPACE_LIMIT = 256L << 20;

  private final CudaDevice device;
  private final Cudnn cudnn;
  private final AsymmetricPadding padding;

  ConvolutionOps(CudaDevice device, Cudnn cudnn, AsymmetricPadding padding) {
    this.device = device;
    this.cudnn = cudnn;
    this.padding = padding;
  }

  /** x is (N,C,H,W), w is (F,C,KH,KW), bias is (F) or null, y is (N,F,OH,OW). */
  void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    padding.run(
        g,
        x,
        0f,
        null,
        (h, xh, unused) -> {
          Cudnn.Convolution c = cudnn.convolution(h, WORKSPACE_LIMIT);
          MemorySegment ws = device.workspace(c.workspaceBytes());
          MemorySegment yPtr = device.out(y);
          cudnn(
              cudnn_h.cudnnConvolutionForward(
                  cudnn.handle,
                  device.one,
                  c.x(),
                  device.in(xh),
                  c.w(),
                  device.in(w),
                  c.conv(),
                  c.forwardAlgo(),
                  ws,
                  c.workspaceBytes(),
                  device.zero,
                  c.y(),
                  yPtr),
              "cudnnConvolutionForward");
          if (bias != null) {
            cudnn(
                cudnn_h.cudnnAddTensor(
                    cudnn.handle, device.one, c.bias(), device.in(bias), device.one, c.y(), yPtr),
                "cudnnAddTensor");
          }
        });
  }

  /** w is (F,C,KH,KW), dy is (N,F,OH,OW), dx is (N,C,H,W) and overwritten. */
  void backwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    padding.run(
        g,
        null,
        0f,
        dx,
        (h, unused, dxh) -> {
          Cudnn.Convolution c = cudnn.convolution(h, WORKSPACE_LIMIT);
          MemorySegment ws = device.workspace(c.workspaceBytes());
          cudnn(
              cudnn_h.cudnnConvolutionBackwardData(
                  cudnn.handle,
                  device.one,
                  c.w(),
                  device.in(w),
                  c.y(),
                  device.in(dy),
                  c.conv(),
                  c.backwardDataAlgo(),
                  ws,
                  c.workspaceBytes(),
                  device.zero,
                  c.x(),
                  device.out(dxh)),
              "cudnnConvolutionBackwardData");
        });
  }

  /** x is (N,C,H,W), dy is (N,F,OH,OW), dw is (F,C,KH,KW): dw = beta·dw + ∂loss/∂w. */
  void backwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    padding.run(
        g,
        x,
        0f,
        null,
        (h, xh, unused) -> {
          Cudnn.Convolution c = cudnn.convolution(h, WORKSPACE_LIMIT);
          MemorySegment ws = device.workspace(c.workspaceBytes());
          MemorySegment dwPtr = beta == 0 ? device.out(dw) : device.inout(dw);
          cudnn(
              cudnn_h.cudnnConvolutionBackwardFilter(
                  cudnn.handle,
                  device.one,
                  c.x(),
                  device.in(xh),
                  c.y(),
                  device.in(dy),
                  c.conv(),
                  c.backwardFilterAlgo(),
                  ws,
                  c.workspaceBytes(),
                  device.hostFloat(beta),
                  c.w(),
                  dwPtr),
              "cudnnConvolutionBackwardFilter");
        });
  }

  /** dy is (N,F,OH,OW), db is (F): db = beta·db + Σ over batch and pixels of dy. */
  void backwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta) {
    biasGrad(dy, db, g.n(), g.f(), g.outH() * g.outW(), beta);
  }

  /** y is (rows, cols), bias is (cols): y[r, c] += bias[c]. */
  void biasAdd(Tensor y, Tensor bias, int rows, int cols) {
    cudnn(
        cudnn_h.cudnnAddTensor(
            cudnn.handle,
            device.one,
            cudnn.tensor(1, cols, 1, 1),
            device.in(bias),
            device.one,
            cudnn.tensor(rows, cols, 1, 1),
            device.inout(y)),
        "cudnnAddTensor");
  }

  /** dy is (rows, cols), dBias is (cols): dBias = beta·dBias + Σ_r dy[r, ·]. */
  void biasGrad(Tensor dy, Tensor dBias, int rows, int cols, float beta) {
    biasGrad(dy, dBias, rows, cols, 1, beta);
  }

  // dy viewed as (n, c, pixels, 1); cuDNN sums over everything but c.
  private void biasGrad(Tensor dy, Tensor db, int n, int c, int pixels, float beta) {
    MemorySegment dbPtr = beta == 0 ? device.out(db) : device.inout(db);
    cudnn(
        cudnn_h.cudnnConvolutionBackwardBias(
            cudnn.handle,
            device.one,
            cudnn.tensor(n, c, pixels, 1),
            device.in(dy),
            device.hostFloat(beta),
            cudnn.tensor(1, c, 1, 1),
            dbPtr),
        "cudnnConvolutionBackwardBias");
  }
}
