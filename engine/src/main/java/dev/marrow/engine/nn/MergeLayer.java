package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A layer that reads two or more nodes ({@code Add}, {@code Concatenate}, {@code Multiply}, {@code
 * Average}): Keras' {@code Merge} base. Subclasses give the output shape for the input shapes and
 * compile against the list of inputs.
 */
public abstract class MergeLayer extends Layer {
  @Override
  public boolean acceptsInputCount(int count) {
    return count >= 2;
  }

  @Override
  public final Shape computeOutputShape(Shape inputShape) {
    throw new IllegalArgumentException(typeName() + " reads two or more inputs, got one");
  }

  @Override
  public abstract Shape computeOutputShape(List<Shape> inputShapes);

  @Override
  public final LayerStep compile(CompileContext ctx, Tensor input, Tensor inputGrad) {
    throw new IllegalStateException(typeName() + " reads two or more inputs");
  }

  @Override
  public abstract LayerStep compile(
      CompileContext ctx, List<Tensor> inputs, List<Tensor> inputGrads);

  /** y = Σ xs, by copy and axpy (Add's forward, and Average's before its scaling). */
  static void sum(Backend b, List<Tensor> xs, Tensor y) {
    if (xs.size() == 1) {
      b.copy(xs.get(0), y);
    } else {
      b.add(xs.get(0), xs.get(1), y);
    }
    for (int i = 2; i < xs.size(); i++) {
      b.axpy(1f, xs.get(i), y);
    }
  }

  /** Fails unless every shape is the first one, naming them all. */
  static Shape requireEqualShapes(String what, List<Shape> shapes) {
    for (Shape s : shapes) {
      if (!s.equals(shapes.get(0))) {
        throw new IllegalArgumentException(
            what + " needs inputs of one shape, got " + describe(shapes));
      }
    }
    return shapes.get(0);
  }

  static String describe(List<Shape> shapes) {
    List<String> parts = new ArrayList<>();
    for (Shape s : shapes) {
      parts.add(s.toString());
    }
    return String.join(" and ", parts);
  }
}
