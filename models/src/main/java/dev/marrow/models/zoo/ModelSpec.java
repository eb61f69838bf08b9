package dev.marrow.models.zoo;

import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.tensor.Shape;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * A named model from a tutorial or book, with the training defaults that reproduce it.
 *
 * @param name the CLI name ("mlp")
 * @param description one line: architecture and where it comes from
 * @param architecture builds a fresh, unbuilt model
 * @param loss the loss the tutorial trains with
 * @param optimizer "adam" or "sgd"
 * @param learningRate the tutorial's learning rate
 * @param batchSize the tutorial's batch size
 * @param epochs the tutorial's epoch count
 * @param seed a default seed known to train well (matters for Nielsen's sigmoid network)
 * @param lrSchedule the learning-rate schedule it trains with ("cosine"), or null for a constant
 * @param adapted the same design for other data: (sample shape, output units) → a fresh model, or
 *     null for a model made for 28×28 digits only
 */
public record ModelSpec(
    String name,
    String description,
    Supplier<Graph> architecture,
    Supplier<Loss> loss,
    String optimizer,
    double learningRate,
    int batchSize,
    int epochs,
    long seed,
    String lrSchedule,
    BiFunction<Shape, Integer, Graph> adapted) {

  /** The input and output of the tutorials: 28×28 gray digits in 10 classes. */
  public static final Shape DIGITS = Shape.of(1, 28, 28);

  public static final int DIGIT_CLASSES = 10;

  /** A model for 28×28 digits only. */
  public ModelSpec(
      String name,
      String description,
      Supplier<Graph> architecture,
      Supplier<Loss> loss,
      String optimizer,
      double learningRate,
      int batchSize,
      int epochs,
      long seed,
      String lrSchedule) {
    this(
        name,
        description,
        architecture,
        loss,
        optimizer,
        learningRate,
        batchSize,
        epochs,
        seed,
        lrSchedule,
        null);
  }

  /** The architecture, built (parameters initialised) from {@code seed}. */
  public Graph build(long seed) {
    return architecture.get().build(seed);
  }

  /**
   * The model for samples of {@code input} shape and {@code outputs} output units (classes, or one
   * per regression target), built from {@code seed}: the tutorial's own model for 28×28 digits in
   * 10 classes, else its adapted design.
   *
   * @throws IllegalArgumentException when the model is made for digits only, or the data does not
   *     fit its design (saying what would)
   */
  public Graph build(long seed, Shape input, int outputs) {
    if (input.equals(DIGITS) && outputs == DIGIT_CLASSES) {
      return build(seed);
    }
    if (adapted == null) {
      throw new IllegalArgumentException(
          "model '"
              + name
              + "' is made for 28×28 digits in 10 classes, but the data has samples of shape "
              + input
              + " and "
              + outputs
              + " outputs; use mlp or cnn (they adapt to the data) or --model-file");
    }
    return adapted.apply(input, outputs).build(seed);
  }
}
