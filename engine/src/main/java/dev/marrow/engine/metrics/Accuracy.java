package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * Keras' categorical and sparse categorical accuracy: the fraction of rows whose highest-scoring
 * output is the target class (the label, or the argmax of a one-hot or soft target row).
 */
public final class Accuracy extends FractionMetric {
  @Override
  public String name() {
    return "accuracy";
  }

  @Override
  long hits(
      Backend b,
      Tensor predictions,
      Tensor targets,
      Loss.TargetEncoding encoding,
      int rows,
      int cols) {
    return encoding == Loss.TargetEncoding.CLASS_INDEX
        ? b.countCorrect(predictions, targets, rows, cols)
        : b.countCorrectDense(predictions, targets, rows, cols);
  }

  @Override
  long count(int rows, int cols) {
    return rows;
  }
}
