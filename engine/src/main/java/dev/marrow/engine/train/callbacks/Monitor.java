package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.TrainingContext;
import java.util.Locale;
import java.util.Objects;

/**
 * The base of every callback that watches one quantity across epochs (Keras' {@code
 * MonitorCallback}): EarlyStopping, ReduceLROnPlateau and ModelCheckpoint. It owns the best value
 * seen and the number of epochs waited since it improved, and resets both when training begins; a
 * subclass calls {@link #improved} once per epoch and acts on {@link #best()} and {@link
 * #waited()}.
 */
public abstract class Monitor implements Callback {

  /**
   * Whether lower or higher is better; {@code AUTO}: higher for accuracies and AUC (a name with
   * "acc" or "auc" in it), lower for losses and errors.
   */
  public enum Mode {
    MIN,
    MAX,
    AUTO
  }

  /**
   * The quantity watched, as Keras names it ({@code val_loss}, {@code accuracy}, {@code val_mae},
   * {@code auc}, … — any name in the epoch's logs), its mode, and by how much it must change to
   * count as an improvement.
   */
  public record Quantity(String name, Mode mode, double minDelta) {
    public Quantity {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[a-z][a-z0-9_]*")) {
        throw new IllegalArgumentException(
            "cannot monitor '"
                + name
                + "'; expected a logged name such as loss, val_loss, accuracy or val_mae");
      }
      if (mode == Mode.AUTO) {
        String lower = name.toLowerCase(Locale.ROOT);
        mode = lower.contains("acc") || lower.contains("auc") ? Mode.MAX : Mode.MIN;
      }
      if (!(minDelta >= 0)) {
        throw new IllegalArgumentException("min_delta must be >= 0, got " + minDelta);
      }
    }

    /** The monitored value of an epoch; NaN when the epoch did not log it. */
    public double value(EpochStats s) {
      return s.get(name);
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

    /**
     * Fails with a clear message when the quantity is not logged: a val_ metric without validation
     * data, or a metric that was not compiled.
     */
    public double require(EpochStats s) {
      if (!s.logs().containsKey(name)) {
        if (name.startsWith("val_") && !s.hasValidation()) {
          throw new IllegalStateException(
              "monitoring "
                  + name
                  + " needs validation data: pass"
                  + " validationSplit or validationData to fit (--validation-split on the CLI)");
        }
        throw new IllegalStateException(
            "cannot monitor " + name + ": the epochs log only " + s.logs().keySet());
      }
      return value(s);
    }
  }

  /** {@code name} in its automatic mode with no minimum change, Keras' defaults. */
  public static Quantity of(String name) {
    return new Quantity(name, Mode.AUTO, 0);
  }

  private final Quantity quantity;
  private double best = Double.NaN;
  private int wait;

  protected Monitor(Quantity quantity) {
    this.quantity = Objects.requireNonNull(quantity, "quantity");
  }

  public Quantity quantity() {
    return quantity;
  }

  /** The best value seen since training began; NaN before the first epoch. */
  public double best() {
    return best;
  }

  /** Epochs since the quantity last improved. */
  public int waited() {
    return wait;
  }

  /** Restarts the count of waited epochs (a cooldown does). */
  protected void resetWait() {
    wait = 0;
  }

  /**
   * Compares this epoch's value with the best: on improvement it becomes the best and the wait
   * restarts, otherwise one more epoch is waited. Fails for a val_ metric without validation data.
   */
  protected boolean improved(EpochStats stats) {
    double v = quantity.require(stats);
    if (quantity.improves(v, best)) {
      best = v;
      wait = 0;
      return true;
    }
    wait++;
    return false;
  }

  /** Forgets the previous run's best and wait; subclasses that override it call super. */
  @Override
  public void onTrainBegin(TrainingContext ctx) {
    best = Double.NaN;
    wait = 0;
  }
}
