package dev.marrow.engine.train;

import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Optimizer;

/** What callbacks can see and change during a fit. */
public final class TrainingContext {
  private final Graph model;
  private final Optimizer optimizer;
  private final int epochs;
  private final int stepsPerEpoch;
  private final int samplesPerEpoch;
  private volatile boolean stopRequested;

  TrainingContext(
      Graph model, Optimizer optimizer, int epochs, int stepsPerEpoch, int samplesPerEpoch) {
    this.model = model;
    this.optimizer = optimizer;
    this.epochs = epochs;
    this.stepsPerEpoch = stepsPerEpoch;
    this.samplesPerEpoch = samplesPerEpoch;
  }

  public Graph model() {
    return model;
  }

  public Optimizer optimizer() {
    return optimizer;
  }

  public int epochs() {
    return epochs;
  }

  public int stepsPerEpoch() {
    return stepsPerEpoch;
  }

  public int samplesPerEpoch() {
    return samplesPerEpoch;
  }

  /** Ends the fit after the current epoch (like Keras' {@code model.stop_training = True}). */
  public void stopTraining() {
    stopRequested = true;
  }

  public boolean stopRequested() {
    return stopRequested;
  }
}
