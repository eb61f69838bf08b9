package dev.marrow.engine.io;

import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything needed to continue training exactly: the architecture, weights and buffers, every
 * optimizer slot, the optimizer's step count and learning rate, the epoch reached and the seed. One
 * safetensors file ({@code model/…} and {@code optimizer/…} tensors, the rest as metadata), written
 * atomically, so a crash during a save leaves the previous checkpoint intact.
 *
 * <p>Marrow's random streams are pure functions of (seed, epoch, step), so the seed and the epoch
 * are the whole random state: a run resumed from epoch 2 draws the same shuffles and dropout masks
 * as one that never stopped.
 */
public record Checkpoint(
    int epoch, int iterations, double learningRate, long seed, Map<String, String> extra) {

  public static final String FILE = "checkpoint.safetensors";

  public static void save(
      Path file, Graph model, Optimizer optimizer, int epoch, long seed, Map<String, String> extra)
      throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    ModelFiles.stateDict(model).forEach((k, v) -> tensors.put("model/" + k, v));
    for (Parameter p : model.parameters()) {
      Tensor[] slots = p.slots();
      for (int i = 0; i < slots.length; i++) {
        tensors.put("optimizer/" + p.name() + "/" + i, slots[i]);
      }
    }
    Map<String, String> meta = new LinkedHashMap<>(extra);
    meta.put("format", "marrow.checkpoint");
    meta.put("model", Json.write(ModelFormat.toConfig(model)));
    meta.put("optimizer", optimizer.describe());
    meta.put("epoch", Integer.toString(epoch));
    meta.put("iterations", Integer.toString(optimizer.iterations()));
    meta.put("learning_rate", Double.toString(optimizer.learningRate()));
    meta.put("seed", Long.toString(seed));
    SafeTensors.write(file, tensors, meta);
  }

  /**
   * Loads a checkpoint into a model and an optimizer built like the ones that wrote it (same
   * architecture, same optimizer type, slots attached): weights, buffers, slots, step count and
   * learning rate are restored. Returns the epoch and seed to continue from.
   */
  public static Checkpoint restore(Path file, Graph model, Optimizer optimizer) throws IOException {
    SafeTensors.Contents c = SafeTensors.read(file);
    Map<String, String> meta = c.metadata();
    if (!"marrow.checkpoint".equals(meta.get("format"))) {
      throw new IOException(file + " is not a Marrow checkpoint (no format metadata)");
    }
    String expected = Json.write(ModelFormat.toConfig(model));
    if (!expected.equals(meta.get("model"))) {
      throw new IOException(
          file
              + " was written by a different architecture:\n  checkpoint: "
              + meta.get("model")
              + "\n  model:      "
              + expected);
    }
    Map<String, Tensor> state = ModelFiles.stateDict(model);
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      e.getValue().copyFrom(require(c, file, "model/" + e.getKey(), e.getValue()));
    }
    for (Parameter p : model.parameters()) {
      Tensor[] slots = p.slots();
      for (int i = 0; i < slots.length; i++) {
        slots[i].copyFrom(require(c, file, "optimizer/" + p.name() + "/" + i, slots[i]));
      }
    }
    Checkpoint cp =
        new Checkpoint(
            integer(meta, "epoch", file),
            integer(meta, "iterations", file),
            Double.parseDouble(field(meta, "learning_rate", file)),
            Long.parseLong(field(meta, "seed", file)),
            meta);
    optimizer.restore(cp.iterations(), cp.learningRate());
    return cp;
  }

  private static Tensor require(SafeTensors.Contents c, Path file, String name, Tensor like)
      throws IOException {
    Tensor t = c.tensors().get(name);
    if (t == null) {
      throw new IOException(
          file + ": missing tensor \"" + name + "\" (was the optimizer the" + " same type?)");
    }
    if (!t.shape().equals(like.shape())) {
      throw new IOException(
          file + ": tensor \"" + name + "\" has shape " + t.shape() + ", expected " + like.shape());
    }
    return t;
  }

  private static String field(Map<String, String> meta, String key, Path file) throws IOException {
    String v = meta.get(key);
    if (v == null) {
      throw new IOException(file + ": checkpoint metadata lacks \"" + key + "\"");
    }
    return v;
  }

  private static int integer(Map<String, String> meta, String key, Path file) throws IOException {
    try {
      int v = Integer.parseInt(field(meta, key, file));
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IOException(
          file + ": checkpoint metadata \"" + key + "\" is not a count: " + meta.get(key));
    }
  }
}
