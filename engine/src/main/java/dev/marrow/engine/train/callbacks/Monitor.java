package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.train.EpochStats;
import java.util.Locale;

/**
 * The quantity a monitoring callback watches, as Keras names it ({@code val_loss},
 * {@code accuracy}, …), and whether lower or higher is better ({@code auto}: higher for anything
 * with "acc" in its name). The shared base of EarlyStopping, ModelCheckpoint and
 * ReduceLROnPlateau, with Keras' defaults.
 */
public record Monitor(String name, Mode mode, double minDelta) {

  public enum Mode { MIN, MAX, AUTO }

  public Monitor {
    switch (name) {
      case "loss", "accuracy", "val_loss", "val_accuracy" -> { }
      default -> throw new IllegalArgumentException("cannot monitor '" + name
          + "'; expected loss, accuracy, val_loss or val_accuracy");
    }
    if (mode == Mode.AUTO) {
      mode = name.toLowerCase(Locale.ROOT).contains("acc") ? Mode.MAX : Mode.MIN;
    }
    if (!(minDelta >= 0)) {
      throw new IllegalArgumentException("min_delta must be >= 0, got " + minDelta);
    }
  }

  public static Monitor of(String name) {
    return new Monitor(name, Mode.AUTO, 0);
  }

  /** The monitored value of an epoch; NaN when it has no validation data for a val_ metric. */
  public double value(EpochStats s) {
    return switch (name) {
      case "loss" -> s.loss();
      case "accuracy" -> s.accuracy();
      case "val_loss" -> s.valLoss();
      default -> s.valAccuracy();
    };
  }

  /** True when {@code current} beats {@code best} by more than minDelta. */
  public boolean improves(double current, double best) {
    if (Double.isNaN(current)) {
      return false;
    }
    if (Double.isNaN(best)) {
      return true;
    }
    return mode == Mode.MIN ? current < best - minDelta : current > best + minDelta;
  }

  /** Fails with a clear message when a val_ metric is monitored without validation data. */
  public double require(EpochStats s) {
    double v = value(s);
    if (Double.isNaN(v) && name.startsWith("val_")) {
      throw new IllegalStateException("monitoring " + name + " needs validation data: pass"
          + " validationSplit or validationData to fit (--validation-split on the CLI)");
    }
    return v;
  }
}
