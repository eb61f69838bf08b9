package dev.marrow.engine.train;

/**
 * What one epoch measured. {@code seconds} is the wall time of the training steps only (shuffling
 * and batch loading included, validation excluded). Validation fields are NaN without validation
 * data.
 */
public record EpochStats(
    int epoch,
    double loss,
    double accuracy,
    double valLoss,
    double valAccuracy,
    double seconds,
    double samplesPerSecond,
    double learningRate) {

  public boolean hasValidation() {
    return !Double.isNaN(valLoss);
  }
}
