package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A stack of layers, each feeding the next: the common case of a model, and a {@link Graph} with
 * one path. Layers are named by type and position ({@code dense1}, {@code dense2}, {@code
 * dropout1}) when the model is built, and parameters after their layer ({@code dense1.weight}).
 */
public final class Sequential extends Graph {
  private final Shape inputShape;
  private final List<Layer> stack = new ArrayList<>();

  /** A read-only view, made once: layers() is called on every training step. */
  private final List<Layer> stackView = Collections.unmodifiableList(stack);

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
    if (isBuilt()) {
      throw new IllegalStateException("cannot add layers after the model is built");
    }
    stack.add(layer);
    return this;
  }

  /** The chain input → layer 1 → … → layer n, made once the stack is complete. */
  @Override
  Structure structure() {
    if (stack.isEmpty()) {
      throw new IllegalStateException("a model needs at least one layer");
    }
    Node input = Node.input(inputShape, null);
    Node x = input;
    for (int i = 0; i < stack.size(); i++) {
      Layer layer = stack.get(i);
      try {
        x = layer.apply(x);
      } catch (IllegalArgumentException e) {
        // Named as build will name it (type and count), so the message points at the layer.
        String why = (e.getCause() instanceof IllegalArgumentException c ? c : e).getMessage();
        throw new IllegalArgumentException("layer " + provisionalName(i) + ": " + why, e);
      }
    }
    return new Structure(List.of(input), List.of(x));
  }

  @Override
  public Sequential build(long seed) {
    super.build(seed);
    return this;
  }

  @Override
  public Shape inputShape() {
    return inputShape;
  }

  @Override
  public List<Layer> layers() {
    return stackView;
  }

  @Override
  public boolean isChain() {
    return true;
  }

  @Override
  public Sequential setClassNames(List<String> names) {
    super.setClassNames(names);
    return this;
  }

  private String provisionalName(int index) {
    Layer layer = stack.get(index);
    if (layer.requestedName() != null) {
      return layer.requestedName();
    }
    int count = 0;
    for (int i = 0; i <= index; i++) {
      count += stack.get(i).typeName().equals(layer.typeName()) ? 1 : 0;
    }
    return layer.typeName() + count;
  }
}
