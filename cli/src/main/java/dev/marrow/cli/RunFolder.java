package dev.marrow.cli;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.train.EpochStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Writes a run's machine-readable summary, {@code metrics.json}. */
final class RunFolder {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * One epoch as metrics.json spells it: its number, every logged quantity by its Keras name
   * ({@code loss}, {@code accuracy}, {@code mae}, {@code val_loss}, …), seconds and samples/s.
   */
  record EpochJson(
      int epoch,
      @JsonAnyGetter Map<String, Double> logs,
      double seconds,
      @JsonProperty("samples_per_second") double samplesPerSecond) {

    static EpochJson of(EpochStats s) {
      return new EpochJson(s.epoch(), s.logs(), s.seconds(), s.samplesPerSecond());
    }
  }

  /**
   * metrics.json: stable keys first, then the run's settings. {@code test_accuracy} is absent for
   * models without accuracy; {@code test} holds every test metric; {@code startup_seconds} is the
   * time from the JVM's start to the start of training (absent when the {@code marrow} launcher did
   * not start the JVM; see {@link StartupClock}).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record MetricsJson(
      String model,
      String device,
      int threads,
      long seed,
      List<EpochJson> epochs,
      @JsonProperty("test_loss") double testLoss,
      @JsonProperty("test_accuracy") Double testAccuracy,
      Map<String, Double> test,
      @JsonProperty("train_seconds") double trainSeconds,
      @JsonProperty("startup_seconds") Double startupSeconds,
      @JsonProperty("batch_size") int batchSize,
      String optimizer,
      String loss,
      String task,
      @JsonProperty("validation_split") double validationSplit,
      String java,
      String marrow) {}

  private RunFolder() {}

  static void writeMetrics(Path dir, MetricsJson metrics) throws IOException {
    AtomicFiles.write(dir.resolve("metrics.json"), JSON.writeValueAsBytes(metrics));
  }

  static List<EpochJson> epochs(List<EpochStats> history) {
    return history.stream().map(EpochJson::of).toList();
  }
}
