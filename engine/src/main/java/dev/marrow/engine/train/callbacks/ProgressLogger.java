package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.TrainingContext;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Reports training progress without the CLI, as Keras' {@code verbose} does: nothing ({@link
 * Verbosity#SILENT}), one line per epoch ({@link Verbosity#EPOCH}, Keras' {@code verbose=2}), or a
 * line rewritten in place during each epoch and then the epoch's line ({@link Verbosity#LIVE},
 * {@code verbose=1}, for a console).
 *
 * <p>Epoch lines go to a {@link System.Logger} ({@code dev.marrow.engine.train}, INFO) by default,
 * so an application routes them through its own logging; {@link #to(Verbosity, Consumer)} sends
 * them anywhere else. {@code fit} adds one of these from {@code FitOptions.verbose(...)}.
 */
public final class ProgressLogger implements Callback {
  /** How much {@code fit} reports. */
  public enum Verbosity {
    SILENT,
    EPOCH,
    LIVE
  }

  private static final System.Logger LOG = System.getLogger("dev.marrow.engine.train");

  /** Formatting is the costly part of a live line: at most 5 a second. */
  private static final long LIVE_INTERVAL_NANOS = 200_000_000L;

  private final Verbosity verbosity;
  private final Consumer<String> epochLines;
  private final PrintStream console;
  private long lastLiveNanos;
  private int epoch;

  private ProgressLogger(Verbosity verbosity, Consumer<String> epochLines, PrintStream console) {
    this.verbosity = Objects.requireNonNull(verbosity, "verbosity");
    this.epochLines = Objects.requireNonNull(epochLines, "epochLines");
    this.console = console;
  }

  /**
   * Epoch lines through System.Logger; with {@link Verbosity#LIVE}, a live line on {@code
   * System.out} and the epoch lines there too.
   */
  public static ProgressLogger of(Verbosity verbosity) {
    if (verbosity == Verbosity.LIVE) {
      return new ProgressLogger(verbosity, System.out::println, System.out);
    }
    return new ProgressLogger(verbosity, line -> LOG.log(System.Logger.Level.INFO, line), null);
  }

  /** Epoch lines to {@code sink} (a UI, a test); {@link Verbosity#LIVE} is treated as EPOCH. */
  public static ProgressLogger to(Verbosity verbosity, Consumer<String> sink) {
    return new ProgressLogger(
        verbosity == Verbosity.LIVE ? Verbosity.EPOCH : verbosity, sink, null);
  }

  public Verbosity verbosity() {
    return verbosity;
  }

  @Override
  public void onEpochBegin(TrainingContext ctx, int epoch) {
    this.epoch = epoch;
  }

  @Override
  public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
    if (verbosity != Verbosity.LIVE) {
      return;
    }
    long now = System.nanoTime();
    if (now - lastLiveNanos < LIVE_INTERVAL_NANOS && batch + 1 < ctx.stepsPerEpoch()) {
      return;
    }
    lastLiveNanos = now;
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "\rEpoch %d/%d - %d/%d steps - loss: %.4f",
                epoch,
                ctx.epochs(),
                batch + 1,
                ctx.stepsPerEpoch(),
                logs.loss()));
    for (int i = 0; i < logs.size(); i++) {
      line.append(String.format(Locale.ROOT, " - %s: %.4f", logs.name(i), logs.value(i)));
    }
    console.print(line);
    console.flush();
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats stats) {
    if (verbosity == Verbosity.SILENT) {
      return;
    }
    if (verbosity == Verbosity.LIVE) {
      console.print("\r");
    }
    epochLines.accept(epochLine(ctx, stats));
  }

  /**
   * The Keras-like summary of an epoch: {@code Epoch 3/5 - 469/469 steps - 4.62s - 9.85ms/step -
   * 12,987 samples/s - loss: 0.0412 - accuracy: 0.9871 - val_loss: … - val_accuracy: …}.
   */
  public static String epochLine(TrainingContext ctx, EpochStats s) {
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Epoch %d/%d - %d/%d steps - %.2fs - %.2fms/step - %,.0f samples/s",
                s.epoch(),
                ctx.epochs(),
                ctx.stepsPerEpoch(),
                ctx.stepsPerEpoch(),
                s.seconds(),
                1000 * s.seconds() / ctx.stepsPerEpoch(),
                s.samplesPerSecond()));
    s.logs()
        .forEach(
            (name, value) -> line.append(String.format(Locale.ROOT, " - %s: %.4f", name, value)));
    return line.toString();
  }
}
