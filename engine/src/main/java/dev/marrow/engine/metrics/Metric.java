package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * A quantity measured over an epoch or an evaluation besides the loss (Keras' {@code metrics=[…]}):
 * accuracy, mean absolute error, AUC, …. A metric makes accumulators; each pass over data feeds one
 * batch by batch and reads its result at the end, so that evaluations on several threads at once
 * never share state.
 */
public interface Metric {

  /** The name in logs, History and the CSV ({@code val_} is prefixed for validation data). */
  String name();

  /** Whether larger values are better (for callbacks that monitor it in "auto" mode). */
  boolean higherIsBetter();

  Accumulator newAccumulator();

  /** Running state of one pass. {@link #update} must not allocate: it runs every step. */
  interface Accumulator {
    /**
     * Adds a batch: predictions (rows × cols) as the model output them, targets as the loss takes
     * them ({@code encoding}: a class index per row, or rows × cols values).
     */
    void update(
        Backend backend,
        Tensor predictions,
        Tensor targets,
        Loss.TargetEncoding encoding,
        int rows,
        int cols);

    /** The metric over every batch added; NaN before the first. */
    double result();
  }
}
