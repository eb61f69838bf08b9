package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keras' {@code Concatenate(axis)}: joins inputs along one axis, counted as Keras counts it, with
 * the batch as axis 0 ({@link #CHANNELS}, 1, is the channel axis of NCHW images and the feature
 * axis of vectors; -1 the last). The other axes must match.
 */
public final class Concatenate extends MergeLayer {
  /** The channel axis of (N, C, H, W) and the feature axis of (N, F): Marrow's default. */
  public static final int CHANNELS = 1;

  private final int axis;

  public Concatenate() {
    this(CHANNELS);
  }

  public Concatenate(int axis) {
    if (axis == 0) {
      throw new IllegalArgumentException("Concatenate cannot join along the batch axis 0");
    }
    this.axis = axis;
  }

  @Override
  public String typeName() {
    return "concatenate";
  }

  /** The axis within one sample's shape. */
  private int sampleAxis(int rank) {
    int a = axis > 0 ? axis - 1 : rank + axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException(
          "axis " + axis + " does not exist in inputs of rank " + (rank + 1) + " (batch included)");
    }
    return a;
  }

  @Override
  public Shape computeOutputShape(List<Shape> shapes) {
    int rank = shapes.get(0).rank();
    int a = sampleAxis(rank);
    int total = 0;
    for (Shape s : shapes) {
      boolean fits = s.rank() == rank;
      for (int d = 0; fits && d < rank; d++) {
        fits = d == a || s.dim(d) == shapes.get(0).dim(d);
      }
      if (!fits) {
        throw new IllegalArgumentException(
            "Concatenate on axis "
                + axis
                + " needs inputs equal on every other axis, got "
                + describe(shapes));
      }
      total += s.dim(a);
    }
    int[] dims = shapes.get(0).dims().clone();
    dims[a] = total;
    return Shape.of(dims);
  }

  // x_i: (N, …, c_i, inner…) → y: (N, …, Σ c_i, inner…); dx_i is y's slice of x_i.
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  @Override
  public LayerStep compile(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    Backend b = ctx.backend();
    Shape out = outputShape();
    int a = sampleAxis(out.rank());
    int inner = 1;
    for (int d = a + 1; d < out.rank(); d++) {
      inner *= out.dim(d);
    }
    int outer = ctx.batch();
    for (int d = 0; d < a; d++) {
      outer *= out.dim(d);
    }
    int outBlock = out.dim(a) * inner;
    int[] blocks = new int[xs.size()];
    int[] offsets = new int[xs.size()];
    for (int i = 0, at = 0; i < xs.size(); i++) {
      blocks[i] = inputShapes().get(i).dim(a) * inner;
      offsets[i] = at;
      at += blocks[i];
    }
    int rows = outer;
    Tensor y = ctx.output(out);
    Tensor dy = ctx.outputGrad(out);
    return new BufferedStep(y, dy) {
      @Override
      public void forward(boolean training) {
        for (int i = 0; i < xs.size(); i++) {
          b.copyBlocks(xs.get(i), 0, blocks[i], y, offsets[i], outBlock, rows, blocks[i], false);
        }
      }

      @Override
      public void backward() {
        for (int i = 0; i < dxs.size(); i++) {
          if (dxs.get(i) != null) {
            b.copyBlocks(
                dy, offsets[i], outBlock, dxs.get(i), 0, blocks[i], rows, blocks[i], false);
          }
        }
      }
    };
  }

  public int axis() {
    return axis;
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("axis", axis);
    return c;
  }
}
