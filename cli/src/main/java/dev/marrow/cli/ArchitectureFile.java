package dev.marrow.cli;

import dev.marrow.engine.io.Json;
import dev.marrow.engine.io.ModelFormat;
import dev.marrow.engine.nn.Graph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --model-file ARCH.json}: an architecture in the model.json format (as {@code marrow train}
 * writes it, or by hand), checked against the data before anything trains.
 */
final class ArchitectureFile {
  private ArchitectureFile() {}

  /** The architecture built from {@code seed}; its input and output must fit the data. */
  static Graph read(Path file, TrainingData d, long seed) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new UserError("--model-file " + file + ": cannot read it (" + e + ")", e);
    }
    Graph g;
    try {
      g = ModelFormat.fromConfig(Json.parse(text), file.toString());
    } catch (IllegalArgumentException e) {
      throw new UserError("--model-file " + e.getMessage(), e);
    }
    try {
      g.build(seed);
    } catch (IllegalArgumentException e) {
      throw new UserError("--model-file " + file + ": " + e.getMessage(), e);
    }
    if (g.inputs().size() != 1 || g.outputs().size() != 1) {
      throw new UserError(
          "--model-file " + file + ": train takes models with one input and output");
    }
    if (!g.inputShape().equals(d.sampleShape())) {
      throw new UserError(
          "--model-file "
              + file
              + ": the model takes inputs of shape "
              + g.inputShape()
              + " but "
              + d.name()
              + " has samples of shape "
              + d.sampleShape());
    }
    int outputs = g.outputShape().size();
    if (outputs != d.outputs()) {
      throw new UserError(
          "--model-file "
              + file
              + ": the model has "
              + outputs
              + " outputs but "
              + d.name()
              + " needs "
              + d.outputs()
              + " ("
              + d.targets()
              + ")");
    }
    return g;
  }
}
