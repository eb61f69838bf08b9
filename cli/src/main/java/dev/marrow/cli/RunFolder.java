package dev.marrow.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.History;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes a run's machine-readable results: {@code metrics.json} (DESIGN §5) and history.csv. */
final class RunFolder {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One epoch as metrics.json spells it. */
  record EpochJson(
      int epoch,
      double loss,
      double accuracy,
      @JsonProperty("val_loss") Double valLoss,
      @JsonProperty("val_accuracy") Double valAccuracy,
      double seconds,
      @JsonProperty("samples_per_second") double samplesPerSecond) {

    static EpochJson of(EpochStats s) {
      return new EpochJson(s.epoch(), s.loss(), s.accuracy(),
          s.hasValidation() ? s.valLoss() : null, s.hasValidation() ? s.valAccuracy() : null,
          s.seconds(), s.samplesPerSecond());
    }
  }

  /** metrics.json: stable keys first (DESIGN §5), then the run's settings. */
  record MetricsJson(
      String model,
      String device,
      int threads,
      long seed,
      List<EpochJson> epochs,
      @JsonProperty("test_loss") double testLoss,
      @JsonProperty("test_accuracy") double testAccuracy,
      @JsonProperty("train_seconds") double trainSeconds,
      @JsonProperty("batch_size") int batchSize,
      String optimizer,
      String loss,
      @JsonProperty("validation_split") double validationSplit,
      String java,
      String marrow) {}

  private RunFolder() {}

  static void write(Path dir, MetricsJson metrics, History history) throws IOException {
    AtomicFiles.write(dir.resolve("metrics.json"), JSON.writeValueAsBytes(metrics));
    StringBuilder csv = new StringBuilder(
        "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate\n");
    for (EpochStats s : history.epochs()) {
      csv.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%s,%s,%.4f,%.1f,%g%n", s.epoch(),
          s.loss(), s.accuracy(), s.hasValidation() ? String.format(Locale.ROOT, "%.6f",
              s.valLoss()) : "", s.hasValidation() ? String.format(Locale.ROOT, "%.6f",
              s.valAccuracy()) : "", s.seconds(), s.samplesPerSecond(), s.learningRate()));
    }
    AtomicFiles.write(dir.resolve("history.csv"), csv.toString().getBytes(StandardCharsets.UTF_8));
  }

  static List<EpochJson> epochs(History history) {
    return history.epochs().stream().map(EpochJson::of).toList();
  }
}
