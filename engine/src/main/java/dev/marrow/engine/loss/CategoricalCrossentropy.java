package dev.marrow.engine.loss;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Tensor;

/** Cross-entropy against one-hot (or soft) target rows, Keras' CategoricalCrossentropy. */
public final class CategoricalCrossentropy implements Loss {
  private final boolean fromLogits;

  public CategoricalCrossentropy(boolean fromLogits) {
    this.fromLogits = fromLogits;
  }

  @Override
  public String name() {
    return "categorical_crossentropy";
  }

  @Override
  public TargetEncoding targetEncoding() {
    return TargetEncoding.ONE_HOT;
  }

  @Override
  public float compute(
      Backend b, Tensor predictions, Tensor targets, Tensor dPredictions, int rows, int cols) {
    float sum =
        fromLogits
            ? b.softmaxCrossEntropyDense(predictions, targets, dPredictions, rows, cols, 1f / rows)
            : b.crossEntropyOfProbabilities(
                predictions, targets, dPredictions, rows, cols, 1f / rows);
    return sum / rows;
  }
}
