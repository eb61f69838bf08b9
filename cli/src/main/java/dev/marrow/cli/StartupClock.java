package dev.marrow.cli;

import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.TrainingContext;
import java.time.Instant;

/**
 * How long the JVM takes from its start to the start of training: class loading, the data, the
 * model and the backend. Recorded in metrics.json as {@code startup_seconds} so that start-up work
 * (the launcher's start-up cache) can be measured across runs ({@code bench/run --startup}). The
 * launcher passes the moment it starts the JVM as the system property {@value #PROPERTY} (seconds
 * since the epoch, to the microsecond); a JVM started another way records nothing. (The OS's own
 * process start time, {@code ProcessHandle.Info.startInstant}, came out 0.45-0.5 s early here: it
 * counts from a boot time kept to the second.)
 */
final class StartupClock implements Callback {
  static final String PROPERTY = "marrow.launched";

  private Double seconds;

  @Override
  public void onTrainBegin(TrainingContext context) {
    String launched = System.getProperty(PROPERTY);
    if (launched == null || launched.isBlank()) {
      return;
    }
    try {
      Instant now = Instant.now();
      double since = now.getEpochSecond() - Double.parseDouble(launched) + now.getNano() / 1e9;
      seconds = since >= 0 ? since : null;
    } catch (NumberFormatException e) {
      seconds = null; // not the launcher's: nothing to measure from
    }
  }

  /** Seconds from the JVM's start to the start of training, or null (see above). */
  Double seconds() {
    return seconds;
  }
}
