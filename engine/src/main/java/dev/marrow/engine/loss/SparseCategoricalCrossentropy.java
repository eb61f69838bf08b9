package dev.marrow.engine.loss;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Tensor;

/**
 * Cross-entropy against integer class labels (Keras' SparseCategoricalCrossentropy, PyTorch's
 * CrossEntropyLoss). With {@code fromLogits} the softmax is fused into the loss, which is both
 * faster and numerically safer; without it the predictions must already be probabilities.
 */
public final class SparseCategoricalCrossentropy implements Loss {
  private final boolean fromLogits;
  private final CategoricalCrossentropy dense;

  public SparseCategoricalCrossentropy(boolean fromLogits) {
    this.fromLogits = fromLogits;
    this.dense = new CategoricalCrossentropy(fromLogits);
  }

  public boolean fromLogits() {
    return fromLogits;
  }

  @Override
  public String name() {
    return "sparse_categorical_crossentropy";
  }

  @Override
  public TargetEncoding targetEncoding() {
    // Probabilities go through the dense kernel, so the plan hands over one-hot rows then.
    return fromLogits ? TargetEncoding.CLASS_INDEX : TargetEncoding.ONE_HOT;
  }

  @Override
  public float compute(
      Backend b, Tensor predictions, Tensor targets, Tensor dPredictions, int rows, int cols) {
    if (!fromLogits) {
      return dense.compute(b, predictions, targets, dPredictions, rows, cols);
    }
    return b.softmaxCrossEntropy(predictions, targets, dPredictions, rows, cols, 1f / rows) / rows;
  }
}
