package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A stack of layers, each feeding the next: the common case of a model. Layers are named by type
 * and position ({@code dense1}, {@code dense2}, {@code dropout1}) when the model is built, and
 * parameters after their layer ({@code dense1.weight}).
 */
public final class Sequential {
  private final Shape inputShape;
  private final List<Layer> layers = new ArrayList<>();

  /** A read-only view, made once: layers() is called on every training step. */
  private final List<Layer> layersView = Collections.unmodifiableList(layers);

  private boolean built;
  private List<String> classNames = List.of();

  /** A model taking samples of the given shape, e.g. {@code new Sequential(1, 28, 28)}. */
  public Sequential(int... inputShape) {
    this(Shape.of(inputShape));
  }

  public Sequential(Shape inputShape) {
    if (inputShape.rank() == 0 || inputShape.size() == 0) {
      throw new IllegalArgumentException("input shape must be non-empty, got " + inputShape);
    }
    this.inputShape = inputShape;
  }

  public Sequential add(Layer layer) {
    if (built) {
      throw new IllegalStateException("cannot add layers after the model is built");
    }
    layers.add(layer);
    return this;
  }

  /**
   * Infers every shape and initialises the parameters from {@code seed}. The same seed gives the
   * same weights. Fails with the offending layer's name if shapes do not fit.
   */
  public Sequential build(long seed) {
    if (built) {
      throw new IllegalStateException("model is already built");
    }
    if (layers.isEmpty()) {
      throw new IllegalStateException("a model needs at least one layer");
    }
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Integer> counts = new HashMap<>();
    Shape shape = inputShape;
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      String name = layer.typeName() + counts.merge(layer.typeName(), 1, Integer::sum);
      try {
        layer.build(name, i, shape, random.split());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("layer " + name + ": " + e.getMessage(), e);
      }
      shape = layer.outputShape();
      if (shape.size() > Layer.MAX_PARAMETER_ELEMENTS) {
        throw new IllegalArgumentException(
            "layer "
                + name
                + " outputs "
                + shape
                + " per sample: more than "
                + Layer.MAX_PARAMETER_ELEMENTS
                + " values");
      }
    }
    built = true;
    return this;
  }

  public boolean isBuilt() {
    return built;
  }

  public Shape inputShape() {
    return inputShape;
  }

  public Shape outputShape() {
    requireBuilt();
    return layers.getLast().outputShape();
  }

  /**
   * The names of the classes the outputs stand for, in output order ({@code ["cat", "dog"]}), or
   * empty when the model has none (then classes are called by their index). Saved with the model.
   */
  public List<String> classNames() {
    return classNames;
  }

  /** Names the output classes; their count must match the output width once the model is built. */
  public Sequential setClassNames(List<String> names) {
    List<String> copy = List.copyOf(names);
    if (built
        && !copy.isEmpty()
        && (outputShape().rank() != 1 || outputShape().dim(0) != copy.size())) {
      throw new IllegalArgumentException(
          copy.size()
              + " class names for a model whose output"
              + " is "
              + outputShape()
              + "; expected one name per output");
    }
    classNames = copy;
    return this;
  }

  public List<Layer> layers() {
    return layersView;
  }

  /** All parameters in layer order. */
  public List<Parameter> parameters() {
    requireBuilt();
    List<Parameter> ps = new ArrayList<>();
    for (Layer l : layers) {
      ps.addAll(l.parameters());
    }
    return ps;
  }

  public long parameterCount() {
    requireBuilt();
    return layers.stream().mapToLong(Layer::parameterCount).sum();
  }

  /** A table like Keras' {@code model.summary()}. */
  public String summary() {
    requireBuilt();
    String rule = "-".repeat(66) + "\n";
    StringBuilder b = new StringBuilder();
    b.append(String.format("%-28s %-24s %12s%n", "Layer (type)", "Output Shape", "Param #"));
    b.append("=".repeat(66)).append('\n');
    for (Layer l : layers) {
      String label = l.name() + " (" + l.typeName() + ")";
      StringBuilder shape = new StringBuilder("(None");
      for (int d : l.outputShape().dims()) {
        shape.append(", ").append(d);
      }
      long count = l.parameterCount() + sizeOf(l.buffers());
      b.append(String.format("%-28s %-24s %,12d%n", label, shape.append(')'), count));
    }
    b.append(rule);
    long trainable = parameterCount();
    long fixed = layers.stream().mapToLong(l -> sizeOf(l.buffers())).sum();
    long total = trainable + fixed;
    b.append(String.format("Total params: %,d (%s)%n", total, bytes(total * 4)));
    b.append(String.format("Trainable params: %,d (%s)%n", trainable, bytes(trainable * 4)));
    b.append(String.format("Non-trainable params: %,d (%s)%n", fixed, bytes(fixed * 4)));
    return b.toString();
  }

  private static long sizeOf(List<Parameter> ps) {
    return ps.stream().mapToLong(p -> p.value().size()).sum();
  }

  private static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format("%.2f KB", n / 1024.0);
    }
    return String.format("%.2f MB", n / (1024.0 * 1024));
  }

  private void requireBuilt() {
    if (!built) {
      throw new IllegalStateException("model is not built yet: call build(seed) first");
    }
  }
}
