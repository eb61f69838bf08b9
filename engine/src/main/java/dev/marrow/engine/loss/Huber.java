package dev.marrow.engine.loss;

import dev.marrow.engine.backend.PointwiseLoss;

/**
 * Keras' Huber and PyTorch's HuberLoss: squared error for errors up to δ, linear beyond, so that
 * outliers pull no harder than δ per element.
 */
public final class Huber extends PointwiseMeanLoss {
  private final float delta;

  public Huber(float delta) {
    super(PointwiseLoss.HUBER, requirePositive(delta));
    this.delta = delta;
  }

  private static float requirePositive(float delta) {
    if (!(delta > 0) || !Float.isFinite(delta)) {
      throw new IllegalArgumentException("Huber's delta must be positive, got " + delta);
    }
    return delta;
  }

  public float delta() {
    return delta;
  }

  @Override
  public String name() {
    return "huber";
  }
}
