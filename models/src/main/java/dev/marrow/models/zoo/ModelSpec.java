package dev.marrow.models.zoo;

import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.Graph;
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
    String lrSchedule) {

  /** The architecture, built (parameters initialised) from {@code seed}. */
  public Graph build(long seed) {
    return architecture.get().build(seed);
  }
}
