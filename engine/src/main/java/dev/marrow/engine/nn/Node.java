package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A symbolic tensor of a functional model (Keras' {@code KerasTensor}): either a model input, or
 * the output of one layer applied to other nodes. Its shape is known as soon as it exists, so a
 * mismatch (an {@code Add} of two shapes) fails where it is written. Nodes are numbered in the
 * order they are made, which is a topological order: a node's inputs always exist before it.
 */
public final class Node {
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final long sequence = SEQUENCE.incrementAndGet();
  private final Layer layer;
  private final List<Node> inbound;
  private final Shape shape;
  private final String inputName;

  private Node(Layer layer, List<Node> inbound, Shape shape, String inputName) {
    this.layer = layer;
    this.inbound = inbound;
    this.shape = shape;
    this.inputName = inputName;
  }

  /** A model input of per-sample shape {@code shape}, e.g. {@code input(1, 28, 28)}. */
  public static Node input(int... shape) {
    return input(Shape.of(shape), null);
  }

  /** A model input; {@code name} may be null (then the model names it input1, input2, …). */
  public static Node input(Shape shape, String name) {
    if (shape.rank() == 0 || shape.size() == 0) {
      throw new IllegalArgumentException("input shape must be non-empty, got " + shape);
    }
    return new Node(null, List.of(), shape, name);
  }

  static Node of(Layer layer, List<Node> inputs) {
    Objects.requireNonNull(layer, "layer");
    if (inputs.isEmpty() || inputs.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException(describe(layer) + " must be applied to input nodes");
    }
    if (!layer.acceptsInputCount(inputs.size())) {
      throw new IllegalArgumentException(
          describe(layer) + " cannot read " + inputs.size() + " nodes (" + list(inputs) + ")");
    }
    List<Shape> shapes = new ArrayList<>();
    for (Node n : inputs) {
      shapes.add(n.shape);
    }
    Shape out;
    try {
      out = layer.computeOutputShape(shapes);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          describe(layer) + " applied to " + list(inputs) + ": " + e.getMessage(), e);
    }
    layer.markApplied();
    return new Node(layer, List.copyOf(inputs), out, null);
  }

  /** The layer producing this node, or null for a model input. */
  public Layer layer() {
    return layer;
  }

  public boolean isInput() {
    return layer == null;
  }

  /** The nodes the layer reads, in order; empty for an input. */
  public List<Node> inbound() {
    return inbound;
  }

  /** Per-sample shape. */
  public Shape shape() {
    return shape;
  }

  /** Creation order: a topological order of every graph. */
  long sequence() {
    return sequence;
  }

  /** The name of an input given at creation, or null. */
  String inputName() {
    return inputName;
  }

  /** The producing layer's name (or type before the model names it), or the input's name. */
  public String label() {
    if (layer == null) {
      return inputName != null ? inputName : "input";
    }
    return layer.name() != null
        ? layer.name()
        : layer.requestedName() != null ? layer.requestedName() : layer.typeName();
  }

  @Override
  public String toString() {
    return label() + " " + shape;
  }

  private static String describe(Layer layer) {
    String n = layer.requestedName() != null ? layer.requestedName() : layer.typeName();
    return "layer " + n + " (" + layer.className() + ")";
  }

  static String list(List<Node> nodes) {
    List<String> parts = new ArrayList<>();
    for (Node n : nodes) {
      parts.add(n.toString());
    }
    return String.join(", ", parts);
  }
}
