package dev.marrow;

import dev.marrow.engine.loss.BinaryCrossentropy;
import dev.marrow.engine.loss.CategoricalCrossentropy;
import dev.marrow.engine.loss.Huber;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.MeanAbsoluteError;
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

  /** Mean absolute error (PyTorch's L1Loss). */
  public static Loss meanAbsoluteError() {
    return new MeanAbsoluteError();
  }

  /** Huber loss with δ = 1, Keras' and PyTorch's default. */
  public static Loss huber() {
    return new Huber(1f);
  }

  public static Loss huber(float delta) {
    return new Huber(delta);
  }

  /**
   * Binary cross-entropy per output unit (binary or multi-label classification); {@code fromLogits}
   * when the model ends without sigmoid (recommended).
   */
  public static Loss binaryCrossentropy(boolean fromLogits) {
    return new BinaryCrossentropy(fromLogits);
  }

  /**
   * A loss by its Keras name: {@code sparse_categorical_crossentropy}, {@code
   * categorical_crossentropy} (both from logits), {@code binary_crossentropy} (from logits), {@code
   * mean_squared_error} ({@code mse}), {@code mean_absolute_error} ({@code mae}), {@code huber},
   * {@code quadratic_cost}.
   */
  public static Loss byName(String name) {
    return switch (name) {
      case "sparse_categorical_crossentropy" -> sparseCategoricalCrossentropy(true);
      case "categorical_crossentropy" -> categoricalCrossentropy(true);
      case "binary_crossentropy" -> binaryCrossentropy(true);
      case "mean_squared_error", "mse" -> meanSquaredError();
      case "mean_absolute_error", "mae" -> meanAbsoluteError();
      case "huber" -> huber();
      case "quadratic_cost" -> quadraticCost();
      default ->
          throw new IllegalArgumentException(
              "unknown loss '"
                  + name
                  + "'; expected sparse_categorical_crossentropy, categorical_crossentropy,"
                  + " binary_crossentropy, mean_squared_error, mean_absolute_error, huber or"
                  + " quadratic_cost");
    };
  }
}
