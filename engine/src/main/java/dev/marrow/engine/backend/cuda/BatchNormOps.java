package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * cuDNN spatial batch normalisation. Every call views x as (N, C, spatial, 1): the statistics are
 * per channel, over the batch and the spatial positions; gamma, beta and the statistics are (C).
 */
final class BatchNormOps {
  private final CudaDevice device;
  private final Cudnn cudnn;

  BatchNormOps(CudaDevice device, Cudnn cudnn) {
    this.device = device;
    this.cudnn = cudnn;
  }

  /** x and y are (N,C,spatial); the running statistics are updated, the saved ones overwritten. */
  void forwardTraining(
      int n,
      int c,
      int spatial,
      Tensor x,
      Tensor gamma,
      Tensor beta,
      Tensor runningMean,
      Tensor runningVar,
      float factor,
      float epsilon,
      Tensor savedMean,
      Tensor savedInvStd,
      Tensor y) {
    MemorySegment xd = cudnn.tensor(n, c, spatial, 1);
    cudnn(
        cudnn_h.cudnnBatchNormalizationForwardTraining(
            cudnn.handle,
            cudnn_h.CUDNN_BATCHNORM_SPATIAL(),
            device.one,
            device.zero,
            xd,
            device.in(x),
            xd,
            device.out(y),
            cudnn.tensor(1, c, 1, 1),
            device.in(gamma),
            device.in(beta),
            factor,
            device.inout(runningMean),
            device.inout(runningVar),
            epsilon,
            device.out(savedMean),
            device.out(savedInvStd)),
        "cudnnBatchNormalizationForwardTraining");
  }

  /** x and y are (N,C,spatial), normalised with the running statistics. */
  void forwardInference(
      int n,
      int c,
      int spatial,
      Tensor x,
      Tensor gamma,
      Tensor beta,
      Tensor runningMean,
      Tensor runningVar,
      float epsilon,
      Tensor y) {
    MemorySegment xd = cudnn.tensor(n, c, spatial, 1);
    cudnn(
        cudnn_h.cudnnBatchNormalizationForwardInference(
            cudnn.handle,
            cudnn_h.CUDNN_BATCHNORM_SPATIAL(),
            device.one,
            device.zero,
            xd,
            device.in(x),
            xd,
            device.out(y),
            cudnn.tensor(1, c, 1, 1),
            device.in(gamma),
            device.in(beta),
            device.in(runningMean),
            device.in(runningVar),
            epsilon),
        "cudnnBatchNormalizationForwardInference");
  }

  /**
   * x, dy and dx are (N,C,spatial); dx, dGamma and dBeta are overwritten; epsilon the forward's.
   */
  void backward(
      int n,
      int c,
      int spatial,
      Tensor x,
      Tensor dy,
      Tensor gamma,
      Tensor savedMean,
      Tensor savedInvStd,
      float epsilon,
      Tensor dx,
      Tensor dGamma,
      Tensor dBeta) {
    MemorySegment xd = cudnn.tensor(n, c, spatial, 1);
    // With the saved statistics cuDNN does not recompute 1/sqrt(var + epsilon), but it asks for the
    // forward's epsilon all the same.
    cudnn(
        cudnn_h.cudnnBatchNormalizationBackward(
            cudnn.handle,
            cudnn_h.CUDNN_BATCHNORM_SPATIAL(),
            device.one,
            device.zero,
            device.one,
            device.zero,
            xd,
            device.in(x),
            xd,
            device.in(dy),
            xd,
            device.out(dx),
            cudnn.tensor(1, c, 1, 1),
            device.in(gamma),
            device.out(dGamma),
            device.out(dBeta),
            epsilon,
            device.in(savedMean),
            device.in(savedInvStd)),
        "cudnnBatchNormalizationBackward");
  }
}
