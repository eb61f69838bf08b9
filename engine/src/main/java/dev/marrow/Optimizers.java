package dev.marrow;

import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.optim.Sgd;

/** Optimizers with Keras' defaults. */
public final class Optimizers {
  private Optimizers() {}

  public static Adam adam(double learningRate) {
    return new Adam(learningRate);
  }

  public static Adam adamW(double learningRate, double weightDecay) {
    return Adam.adamW(learningRate, weightDecay);
  }

  public static Sgd sgd(double learningRate) {
    return new Sgd(learningRate);
  }

  public static Sgd sgd(double learningRate, double momentum, boolean nesterov) {
    return new Sgd(learningRate, momentum, nesterov, 0);
  }
}
