package dev.marrow.cli;

import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.util.Iterator;

/** The model zoo's names, for picocli's help text and for lookups with a helpful error. */
final class ModelNames implements Iterable<String> {
  @Override
  public Iterator<String> iterator() {
    return ModelZoo.all().keySet().iterator();
  }

  static ModelSpec lookup(String name) {
    return ModelZoo.find(name)
        .orElseThrow(
            () ->
                new UserError(
                    "unknown model '"
                        + name
                        + "' for --model; expected one of "
                        + String.join(", ", ModelZoo.all().keySet())));
  }
}
