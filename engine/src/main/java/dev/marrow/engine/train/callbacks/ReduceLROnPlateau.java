package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.TrainingContext;

/**
 * Multiplies the learning rate by {@code factor} when the monitored quantity has not improved for
 * {@code patience} epochs, never below {@code minLr}; waits {@code cooldown} epochs after each
 * reduction. Keras' defaults: val_loss, factor 0.1, patience 10, min_lr 0.
 */
public final class ReduceLROnPlateau extends Monitor {
  private final double factor;
  private final int patience;
  private final double minLr;
  private final int cooldown;
  private int cooldownLeft;

  public ReduceLROnPlateau(
      Monitor.Quantity monitor, double factor, int patience, double minLr, int cooldown) {
    super(monitor);
    if (!(factor > 0 && factor < 1)) {
      throw new IllegalArgumentException("factor must be in (0, 1), got " + factor);
    }
    if (patience < 0 || cooldown < 0 || !(minLr >= 0)) {
      throw new IllegalArgumentException("patience and cooldown must be >= 0 and min_lr >= 0");
    }
    this.factor = factor;
    this.patience = patience;
    this.minLr = minLr;
    this.cooldown = cooldown;
  }

  public static ReduceLROnPlateau kerasDefaults() {
    return new ReduceLROnPlateau(Monitor.of("val_loss"), 0.1, 10, 0, 0);
  }

  @Override
  public void onTrainBegin(TrainingContext ctx) {
    super.onTrainBegin(ctx);
    cooldownLeft = 0;
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats stats) {
    if (cooldownLeft > 0) {
      cooldownLeft--;
      resetWait();
    }
    if (improved(stats)) {
      return;
    }
    if (cooldownLeft > 0) { // still cooling down: the epoch does not count
      resetWait();
      return;
    }
    if (waited() >= patience) {
      double lr = ctx.optimizer().learningRate();
      double reduced = Math.max(lr * factor, minLr);
      if (reduced < lr && reduced > 0) {
        ctx.optimizer().setLearningRate(reduced);
        cooldownLeft = cooldown;
      }
      resetWait();
    }
  }
}
