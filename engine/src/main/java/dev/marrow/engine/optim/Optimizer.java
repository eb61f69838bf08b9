package dev.marrow.engine.optim;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.nn.Parameter;
import java.util.List;

/**
 * Updates parameters from their gradients. State lives in each parameter's slots, allocated once by
 * {@link #attach}, so an optimizer step allocates nothing.
 */
public abstract class Optimizer {
  private float learningRate;
  private int iterations;

  protected Optimizer(double learningRate) {
    setLearningRate(learningRate);
  }

  public float learningRate() {
    return learningRate;
  }

  /** Changes the learning rate for the following steps (schedules and callbacks use this). */
  public void setLearningRate(double learningRate) {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException(
          "learning rate must be a positive finite number, got " + learningRate);
    }
    this.learningRate = (float) learningRate;
  }

  /** Number of steps taken so far. */
  public int iterations() {
    return iterations;
  }

  /** Continues from a checkpoint: the step count (Adam's bias correction) and learning rate. */
  public void restore(int iterations, double learningRate) {
    if (iterations < 0) {
      throw new IllegalArgumentException("iterations must be >= 0, got " + iterations);
    }
    this.iterations = iterations;
    setLearningRate(learningRate);
  }

  /** Allocates the slots this optimizer keeps per parameter (idempotent). */
  public abstract void attach(Backend backend, List<Parameter> parameters);

  /** Applies one update to every parameter from its current gradient. */
  public final void step(Backend backend, List<Parameter> parameters) {
    iterations++;
    for (int i = 0; i < parameters.size(); i++) { // indexed: no iterator per step
      update(backend, parameters.get(i), iterations);
    }
  }

  protected abstract void update(Backend backend, Parameter p, int step);

  /** Name and hyper-parameters, for logs and metrics.json. */
  public abstract String describe();
}
