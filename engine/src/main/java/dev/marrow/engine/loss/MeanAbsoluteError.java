package dev.marrow.engine.loss;

import dev.marrow.engine.backend.PointwiseLoss;

/** Keras' mean_absolute_error, PyTorch's L1Loss: the mean of |prediction − target|. */
public final class MeanAbsoluteError extends PointwiseMeanLoss {
  public MeanAbsoluteError() {
    super(PointwiseLoss.ABSOLUTE, 0f);
  }

  @Override
  public String name() {
    return "mean_absolute_error";
  }
}
