package dev.marrow.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.marrow.engine.backend.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The PyTorch golden files under src/test/resources/goldens: every case of one file on every
 * backend, as arguments (display name, case, backend) for a parameterized test.
 */
public final class Goldens {
  private Goldens() {}

  public static Stream<Arguments> cases(String file, List<Backend> backends) {
    JsonNode root;
    try (InputStream in = Goldens.class.getResourceAsStream("/goldens/" + file)) {
      if (in == null) {
        throw new IllegalStateException("no test resource /goldens/" + file);
      }
      root = new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : root.get("cases")) {
      for (Backend b : backends) {
        out.add(Arguments.of(c.get("name").asText() + " [" + b.name() + "]", c, b));
      }
    }
    return out.stream();
  }
}
