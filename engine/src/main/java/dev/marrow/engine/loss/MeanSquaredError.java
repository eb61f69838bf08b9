package dev.marrow.engine.loss;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Tensor;

/**
 * Squared error against one-hot targets, in two reductions:
 *
 * <ul>
 *   <li>{@link #mean()}: Keras' mean_squared_error, the mean over every element;
 *   <li>{@link #quadraticCost()}: the quadratic cost of Nielsen's book, ½‖a − y‖² per sample
 *       averaged over the batch. Its gradient is (a − y)/batch, which is what makes the book's
 *       learning rate of 3.0 work.
 * </ul>
 */
public final class MeanSquaredError implements Loss {
  private final boolean halfSumPerSample;

  private MeanSquaredError(boolean halfSumPerSample) {
    this.halfSumPerSample = halfSumPerSample;
  }

  public static MeanSquaredError mean() {
    return new MeanSquaredError(false);
  }

  public static MeanSquaredError quadraticCost() {
    return new MeanSquaredError(true);
  }

  @Override
  public String name() {
    return halfSumPerSample ? "quadratic_cost" : "mean_squared_error";
  }

  @Override
  public TargetEncoding targetEncoding() {
    return TargetEncoding.ONE_HOT;
  }

  @Override
  public float compute(
      Backend b, Tensor predictions, Tensor targets, Tensor dPredictions, int rows, int cols) {
    // loss = divisor⁻¹ · Σ d², so d loss/d a = 2d / divisor.
    float divisor = halfSumPerSample ? 2f * rows : (float) rows * cols;
    return b.squaredError(predictions, targets, dPredictions, 1f / divisor) / divisor;
  }
}
