package dev.marrow.engine.loss;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.PointwiseLoss;
import dev.marrow.engine.tensor.Tensor;

/**
 * A loss that is the mean over every element of a {@link PointwiseLoss} term, as Keras reduces
 * mean_absolute_error, huber and binary_crossentropy (mean over the last axis, then over the batch:
 * the same thing for a fixed output size) and PyTorch's L1Loss, HuberLoss and BCELoss do.
 */
abstract class PointwiseMeanLoss implements Loss {
  private final PointwiseLoss kind;
  private final float delta;

  PointwiseMeanLoss(PointwiseLoss kind, float delta) {
    this.kind = kind;
    this.delta = delta;
  }

  @Override
  public TargetEncoding targetEncoding() {
    return TargetEncoding.ONE_HOT;
  }

  @Override
  public float compute(
      Backend b, Tensor predictions, Tensor targets, Tensor dPredictions, int rows, int cols) {
    float count = (float) rows * cols;
    return b.pointwiseLoss(kind, delta, predictions, targets, dPredictions, 1f / count) / count;
  }
}
