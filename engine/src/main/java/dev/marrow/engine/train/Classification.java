package dev.marrow.engine.train;

/**
 * One of a sample's top-k classes: its index, its name when the model has class names (else the
 * index as text), and its probability.
 */
public record Classification(int index, String name, float probability) {
  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT, "%s (%.4f)", name, probability);
  }
}
