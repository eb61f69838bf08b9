package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.TrainingContext;
import java.util.function.IntToDoubleFunction;

/**
 * Sets the learning rate at the start of each epoch from a schedule of the epoch number (from 1),
 * like Keras' LearningRateScheduler. Factories for the usual shapes: step, exponential, cosine.
 */
public final class LearningRateSchedule implements Callback {
  private final IntToDoubleFunction schedule;
  private final String description;

  public LearningRateSchedule(IntToDoubleFunction schedule, String description) {
    this.schedule = schedule;
    this.description = description;
  }

  /** lr · drop^floor((epoch − 1) / every). */
  public static LearningRateSchedule step(double lr, double drop, int every) {
    if (every < 1 || !(drop > 0)) {
      throw new IllegalArgumentException("step schedule needs every >= 1 and drop > 0");
    }
    return new LearningRateSchedule(
        e -> lr * Math.pow(drop, (e - 1) / every),
        "step(lr=" + lr + ", drop=" + drop + ", every=" + every + ")");
  }

  /** lr · rate^(epoch − 1). */
  public static LearningRateSchedule exponential(double lr, double rate) {
    if (!(rate > 0)) {
      throw new IllegalArgumentException("exponential schedule needs rate > 0");
    }
    return new LearningRateSchedule(
        e -> lr * Math.pow(rate, e - 1), "exponential(lr=" + lr + ", rate=" + rate + ")");
  }

  /** Cosine decay from lr to minLr over {@code epochs} epochs. */
  public static LearningRateSchedule cosine(double lr, double minLr, int epochs) {
    if (epochs < 1) {
      throw new IllegalArgumentException("cosine schedule needs epochs >= 1");
    }
    return new LearningRateSchedule(
        e -> minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * (e - 1) / epochs)),
        "cosine(lr=" + lr + ", min_lr=" + minLr + ", epochs=" + epochs + ")");
  }

  public double rateAt(int epoch) {
    return schedule.applyAsDouble(epoch);
  }

  @Override
  public void onEpochBegin(TrainingContext ctx, int epoch) {
    ctx.optimizer().setLearningRate(rateAt(epoch));
  }

  @Override
  public String toString() {
    return description;
  }
}
