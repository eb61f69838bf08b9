package dev.marrow.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The PyTorch golden files under src/test/resources/goldens: every case of one file on every
 * backend, as arguments (display name, case, backend) for a parameterized test.
 */
public final class Goldens {
  private Goldens() {}

  private static final Map<String, Map<String, JsonNode>> FILES = new ConcurrentHashMap<>();

  public static Stream<Arguments> cases(String file, List<Backend> backends) {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : all(file).values()) {
      for (Backend b : backends) {
        out.add(Arguments.of(c.get("name").asText() + " [" + b.name() + "]", c, b));
      }
    }
    return out.stream();
  }

  /** Every case of one file by name, in the file's order; read once. */
  public static Map<String, JsonNode> all(String file) {
    return FILES.computeIfAbsent(file, Goldens::read);
  }

  /** The case of that name in the file, or an error listing the names there are. */
  public static JsonNode named(String file, String name) {
    JsonNode c = all(file).get(name);
    if (c == null) {
      throw new IllegalArgumentException(
          "no case \"" + name + "\" in goldens/" + file + "; it has " + all(file).keySet());
    }
    return c;
  }

  private static Map<String, JsonNode> read(String file) {
    try (InputStream in = Goldens.class.getResourceAsStream("/goldens/" + file)) {
      if (in == null) {
        throw new IllegalStateException("no test resource /goldens/" + file);
      }
      Map<String, JsonNode> cases = new LinkedHashMap<>();
      for (JsonNode c : new ObjectMapper().readTree(in).get("cases")) {
        if (cases.put(c.get("name").asText(), c) != null) {
          throw new IllegalStateException("two cases named " + c.get("name") + " in " + file);
        }
      }
      return cases;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A tensor as the generators store it: {"shape": [...], "data": [...]}. */
  public static Tensor tensor(JsonNode node) {
    JsonNode shape = node.get("shape"), data = node.get("data");
    int[] dims = new int[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).asInt();
    }
    float[] v = new float[data.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) data.get(i).asDouble();
    }
    return Tensor.wrap(v, Shape.of(dims));
  }
}
