package dev.marrow.engine.nn;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every layer type model.json can name, by Keras class name ({@code Dense}, {@code Conv2D}, {@code
 * BatchNormalization}, {@code Add}), each with a factory that makes the layer from its {@link
 * Layer#config()}. The built-in layers register themselves here; a user's own layer registers the
 * same way before a model holding it is loaded:
 *
 * <pre>{@code
 * LayerRegistry.register("ScaledResidual", c -> new ScaledResidual(c.number("scale", 1)));
 * }</pre>
 *
 * Names are matched exactly; the lower-case type names of the first model.json format ({@code
 * dense}, {@code conv}, {@code maxpool}) are kept as aliases so those files still load.
 */
public final class LayerRegistry {
  /** Makes a layer from its arguments; throws IllegalArgumentException naming a bad field. */
  @FunctionalInterface
  public interface Factory {
    Layer fromConfig(LayerConfig config);
  }

  private static final Map<String, Factory> FACTORIES = new ConcurrentHashMap<>();

  static {
    BuiltinLayers.registerAll();
  }

  private LayerRegistry() {}

  /**
   * Registers {@code factory} under {@code className} and any {@code aliases}; a name already
   * registered for another factory is an error (two libraries must not fight over a name).
   */
  public static void register(String className, Factory factory, String... aliases) {
    Objects.requireNonNull(factory, "factory");
    put(className, factory);
    for (String alias : aliases) {
      put(alias, factory);
    }
  }

  private static void put(String name, Factory factory) {
    if (name == null || !name.matches("[A-Za-z][A-Za-z0-9_.]{0,127}")) {
      throw new IllegalArgumentException("layer class name must be an identifier, got " + name);
    }
    Factory previous = FACTORIES.putIfAbsent(name, factory);
    if (previous != null && previous != factory) {
      throw new IllegalStateException("layer class " + name + " is already registered");
    }
  }

  public static Optional<Factory> find(String className) {
    return Optional.ofNullable(FACTORIES.get(className));
  }

  /** The registered names, sorted, for messages. */
  public static Set<String> names() {
    return new TreeSet<>(FACTORIES.keySet());
  }

  /** Makes a layer of a registered class, or explains which classes exist. */
  public static Layer create(String className, LayerConfig config) {
    Factory f = FACTORIES.get(className);
    if (f == null) {
      throw new IllegalArgumentException(
          config.where()
              + ": unknown layer class \""
              + className
              + "\"; registered: "
              + String.join(", ", names())
              + " (a layer of your own must be registered with LayerRegistry.register before"
              + " loading)");
    }
    return f.fromConfig(config);
  }
}
