package dev.marrow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a run folder's run.json says about its data, so that evaluate, predict and plot read the
 * same data (and the same test split) as training did unless the command line names other data.
 */
final class RunData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RunData() {}

  /** The run's data settings, or null for a folder without run.json (a saved model only). */
  static DataOptions.Settings settings(Path runDir) {
    JsonNode run = read(runDir);
    if (run == null) {
      return null;
    }
    try {
      if (run.hasNonNull("data")) {
        return JSON.treeToValue(run.get("data"), DataOptions.Settings.class);
      }
    } catch (IOException e) {
      throw new UserError(runDir.resolve("run.json") + ": unreadable data settings: " + e, e);
    }
    String dataset = run.hasNonNull("dataset") ? run.get("dataset").asText() : "mnist";
    return new DataOptions.Settings(dataset, null, null, null, false, null, false);
  }

  /** The run's seed (which drew its test split); 42 without run.json. */
  static long seed(Path runDir) {
    JsonNode run = read(runDir);
    return run != null && run.hasNonNull("seed") ? run.get("seed").asLong() : 42;
  }

  private static JsonNode read(Path runDir) {
    Path file = runDir.resolve("run.json");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UserError(file + " is unreadable: " + e.getMessage(), e);
    }
  }
}
