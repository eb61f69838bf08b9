package dev.marrow.engine.loss;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Tensor;

/**
 * A loss over a batch of predictions (rows × cols). {@link #compute} returns the mean loss of the
 * batch and writes its gradient with respect to the predictions, already divided by the batch size
 * as a mean-reduced loss requires.
 */
public interface Loss {

  /** How the plan must encode the labels it hands to {@link #compute}. */
  enum TargetEncoding {
    /** One float per row holding the class index. */
    CLASS_INDEX,
    /**
     * One row of cols floats per sample: the target values, or a one-hot row for a class label
     * (with a single output unit the label itself, 0 or 1: binary classification).
     */
    ONE_HOT
  }

  String name();

  TargetEncoding targetEncoding();

  /** Mean loss of the rows; dPredictions (may be null) receives d(mean loss)/d(predictions). */
  float compute(
      Backend backend, Tensor predictions, Tensor targets, Tensor dPredictions, int rows, int cols);

  /** Number of rows predicted correctly (argmax against the label), for the accuracy metric. */
  default int countCorrect(
      Backend backend, Tensor predictions, Tensor targets, int rows, int cols) {
    return targetEncoding() == TargetEncoding.CLASS_INDEX
        ? backend.countCorrect(predictions, targets, rows, cols)
        : backend.countCorrectDense(predictions, targets, rows, cols);
  }
}
