package dev.marrow.cli;

import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.TrainingContext;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows a progress bar per epoch (ETA, running loss and accuracy, samples/s) when the output is a
 * terminal, and always ends each epoch with the engine's Keras-like line ({@link
 * ProgressLogger#epochLine}): the library's progress events, drawn for a terminal.
 */
final class ProgressCallback implements Callback {
  private final PrintWriter out;
  private final boolean showBar;
  private ProgressBar bar;
  private int batchSize;
  private long lastMessageNanos;

  ProgressCallback(PrintWriter out, boolean showBar) {
    this.out = out;
    this.showBar = showBar;
  }

  @Override
  public void onEpochBegin(TrainingContext ctx, int epoch) {
    batchSize = (ctx.samplesPerEpoch() + ctx.stepsPerEpoch() - 1) / ctx.stepsPerEpoch();
    if (showBar) {
      bar =
          new ProgressBarBuilder()
              .setTaskName(String.format("Epoch %d/%d", epoch, ctx.epochs()))
              .setInitialMax(ctx.samplesPerEpoch())
              .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
              .setUnit(" samples", 1)
              .showSpeed()
              .setUpdateIntervalMillis(250)
              .continuousUpdate()
              .build();
    }
  }

  @Override
  public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
    if (bar == null) {
      return;
    }
    bar.stepTo(Math.min((long) (batch + 1) * batchSize, ctx.samplesPerEpoch()));
    long now = System.nanoTime();
    if (now - lastMessageNanos > 200_000_000L) { // formatting is the costly part: 5 times a second
      lastMessageNanos = now;
      StringBuilder m = new StringBuilder(String.format(Locale.ROOT, " loss %.4f", logs.loss()));
      for (int i = 0; i < logs.size(); i++) {
        m.append(String.format(Locale.ROOT, " %s %.4f", logs.name(i), logs.value(i)));
      }
      bar.setExtraMessage(m.toString());
    }
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats s) {
    if (bar != null) {
      bar.stepTo(ctx.samplesPerEpoch());
      bar.close();
      bar = null;
    }
    String line = ProgressLogger.epochLine(ctx, s);
    out.println(line);
    out.flush();
  }
}
