package dev.marrow.engine.loss;

import dev.marrow.engine.backend.PointwiseLoss;

/**
 * Binary cross-entropy per output unit against 0/1 (or soft) targets: binary classification with
 * one output unit, multi-label classification with one unit per label. {@code fromLogits} (Keras'
 * {@code from_logits=True}, PyTorch's BCEWithLogitsLoss) fuses the sigmoid into the loss, which is
 * numerically safer; without it the outputs must already be probabilities (clipped to [1e-7, 1 −
 * 1e-7] as Keras does).
 */
public final class BinaryCrossentropy extends PointwiseMeanLoss {
  private final boolean fromLogits;

  public BinaryCrossentropy(boolean fromLogits) {
    super(
        fromLogits
            ? PointwiseLoss.BINARY_CROSSENTROPY_LOGITS
            : PointwiseLoss.BINARY_CROSSENTROPY_PROBABILITIES,
        0f);
    this.fromLogits = fromLogits;
  }

  public boolean fromLogits() {
    return fromLogits;
  }

  @Override
  public String name() {
    return "binary_crossentropy";
  }
}
