package dev.marrow;

import dev.marrow.engine.loss.CategoricalCrossentropy;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.MeanSquaredError;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;

/** Losses by their Keras names. */
public final class Losses {
  private Losses() {}

  /** Integer labels; {@code fromLogits} when the model ends without softmax (recommended). */
  public static Loss sparseCategoricalCrossentropy(boolean fromLogits) {
    return new SparseCategoricalCrossentropy(fromLogits);
  }

  public static Loss categoricalCrossentropy(boolean fromLogits) {
    return new CategoricalCrossentropy(fromLogits);
  }

  public static Loss meanSquaredError() {
    return MeanSquaredError.mean();
  }

  /** Nielsen's quadratic cost, ½‖a − y‖² per sample averaged over the batch. */
  public static Loss quadraticCost() {
    return MeanSquaredError.quadraticCost();
  }
}
