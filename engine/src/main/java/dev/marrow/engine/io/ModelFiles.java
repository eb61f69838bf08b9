package dev.marrow.engine.io;

import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model on disk: {@code model.json} (architecture) and {@code model.safetensors} (every parameter
 * and buffer under its stable name, e.g. {@code conv1.weight}, {@code bn1.running_mean}). Both
 * files are written atomically.
 */
public final class ModelFiles {
  public static final String ARCHITECTURE = "model.json";
  public static final String WEIGHTS = "model.safetensors";
  private static final long MAX_JSON_BYTES = 16L * 1024 * 1024;

  private ModelFiles() {}

  /** Every parameter and buffer by name, in layer order. */
  public static Map<String, Tensor> stateDict(Graph model) {
    Map<String, Tensor> state = new LinkedHashMap<>();
    for (Layer l : model.layers()) {
      for (Parameter p : l.parameters()) {
        state.put(p.name(), p.value());
      }
      for (Parameter p : l.buffers()) {
        state.put(p.name(), p.value());
      }
    }
    return state;
  }

  public static void save(Graph model, Path dir, Map<String, String> metadata) throws IOException {
    Files.createDirectories(dir);
    String json = Json.write(ModelFormat.toConfig(model));
    AtomicFiles.write(dir.resolve(ARCHITECTURE), json.getBytes(StandardCharsets.UTF_8));
    SafeTensors.write(dir.resolve(WEIGHTS), stateDict(model), metadata);
  }

  /** Rebuilds the model saved in {@code dir} with its exact weights. */
  public static Graph load(Path dir) throws IOException {
    Path arch = dir.resolve(ARCHITECTURE);
    if (!Files.isRegularFile(arch)) {
      throw new IOException(
          dir + " holds no " + ARCHITECTURE + " (not a saved model or run" + " folder)");
    }
    if (Files.size(arch) > MAX_JSON_BYTES) {
      throw new IOException(
          arch
              + ": "
              + Files.size(arch)
              + " bytes, more than a model"
              + " description can need ("
              + MAX_JSON_BYTES
              + ")");
    }
    Graph model;
    try {
      model = ModelFormat.fromConfig(Json.parse(Files.readString(arch)), arch.toString());
      model.build(0);
      model.setClassNames(model.classNames()); // now that the output width is known
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    Path weights = dir.resolve(WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new IOException(
          dir
              + " holds "
              + ARCHITECTURE
              + " but no "
              + WEIGHTS
              + " (the"
              + " weights; a saved model has both files)");
    }
    loadWeights(model, weights);
    return model;
  }

  /** Copies every tensor of a safetensors file into the model, checking names and shapes. */
  public static void loadWeights(Graph model, Path file) throws IOException {
    SafeTensors.Contents contents = SafeTensors.read(file);
    Map<String, Tensor> state = stateDict(model);
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      Tensor stored = contents.tensors().get(e.getKey());
      if (stored == null) {
        throw new IOException(
            file
                + ": no tensor \""
                + e.getKey()
                + "\" (the model expects "
                + e.getValue().shape()
                + ")");
      }
      if (!stored.shape().equals(e.getValue().shape())) {
        throw new IOException(
            file
                + ": tensor \""
                + e.getKey()
                + "\" has shape "
                + stored.shape()
                + "; the model expects "
                + e.getValue().shape());
      }
      e.getValue().copyFrom(stored);
    }
    for (String name : contents.tensors().keySet()) {
      if (!state.containsKey(name)) {
        throw new IOException(file + ": tensor \"" + name + "\" belongs to no layer of the model");
      }
    }
  }
}
