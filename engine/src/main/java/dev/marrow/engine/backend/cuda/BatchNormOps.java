package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.BatchNormArgs;
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
  void forwardTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    MemorySegment xd = cudnn.tensor(bn.n(), bn.c(), bn.spatial(), 1);
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
            cudnn.tensor(1, bn.c(), 1, 1),
            device.in(bn.gamma()),
            device.in(bn.beta()),
            bn.factor(),
            device.inout(bn.runningMean()),
            device.inout(bn.runningVar()),
            bn.epsilon(),
            device.out(bn.savedMean()),
            device.out(bn.savedInvStd())),
        "cudnnBatchNormalizationForwardTraining");
  }

  /** x and y are (N,C,spatial), normalised with the running statistics. */
  void forwardInference(BatchNormArgs bn, Tensor x, Tensor y) {
    MemorySegment xd = cudnn.tensor(bn.n(), bn.c(), bn.spatial(), 1);
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
            cudnn.tensor(1, bn.c(), 1, 1),
            device.in(bn.gamma()),
            device.in(bn.beta()),
            device.in(bn.runningMean()),
            device.in(bn.runningVar()),
            bn.epsilon()),
        "cudnnBatchNormalizationForwardInference");
  }

  /**
   * x, dy and dx are (N,C,spatial); dx, dGamma and dBeta are overwritten; epsilon the forward's.
   */
  void backward(BatchNormArgs bn, Tensor x, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    MemorySegment xd = cudnn.tensor(bn.n(), bn.c(), bn.spatial(), 1);
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
            cudnn.tensor(1, bn.c(), 1, 1),
            device.in(bn.gamma()),
            device.out(dGamma),
            device.out(dBeta),
            bn.epsilon(),
            device.in(bn.savedMean()),
            device.in(bn.savedInvStd())),
        "cudnnBatchNormalizationBackward");
  }
}
