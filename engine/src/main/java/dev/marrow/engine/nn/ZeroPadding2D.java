package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Keras' ZeroPadding2D: rows and columns of zeros around each image, (c, h, w) → (c, top + h +
 * bottom, left + w + right). PyTorch's {@code F.pad(x, (left, right, top, bottom))}.
 */
public final class ZeroPadding2D extends Layer {
  private final int top;
  private final int bottom;
  private final int left;
  private final int right;

  /** {@code ZeroPadding2D(padding=p)}: p rows or columns on every side. */
  public ZeroPadding2D(int padding) {
    this(padding, padding, padding, padding);
  }

  /** {@code ZeroPadding2D(padding=(rows, columns))}: rows above and below, columns either side. */
  public ZeroPadding2D(int rows, int columns) {
    this(rows, rows, columns, columns);
  }

  /** {@code ZeroPadding2D(padding=((top, bottom), (left, right)))}. */
  public ZeroPadding2D(int top, int bottom, int left, int right) {
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      throw new IllegalArgumentException(
          String.format(
              "padding must not be negative, got ((%d, %d), (%d, %d))", top, bottom, left, right));
    }
    this.top = top;
    this.bottom = bottom;
    this.left = left;
    this.right = right;
  }

  @Override
  public String typeName() {
    return "zeropad";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    SpatialLayer.requireImage(input, "ZeroPadding2D");
    return Shape.of(input.dim(0), top + input.dim(1) + bottom, left + input.dim(2) + right);
  }

  /** Keras' config form: {@code [[top, bottom], [left, right]]}. */
  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("padding", List.of(List.of(top, bottom), List.of(left, right)));
    return c;
  }

  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  // x is (n, c, h, w), y is (n, c, ph, pw): input row r of every plane goes to row top + r,
  // columns [left, left + w), one copyBlocks call per row index, over all n·c planes at once.
  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    Shape in = inputShape(), out = outputShape();
    int planes = ctx.batch() * in.dim(0), h = in.dim(1), w = in.dim(2);
    int pw = out.dim(2), inPlane = h * w, outPlane = out.dim(1) * pw;
    // Without columns of padding a plane's rows stay contiguous: the whole plane is one block.
    boolean wholePlanes = left == 0 && right == 0;
    int rowCalls = wholePlanes ? 1 : h, blockLength = wholePlanes ? inPlane : w;
    return new BufferedStep(ctx.output(out), ctx.outputGrad(out)) {
      @Override
      public void forward(boolean training) {
        // Zeroed every step, not once at compile time: a memset is cheap beside the copies, and
        // the border then never depends on what else may have written this buffer.
        b.scale(y, 0f);
        for (int r = 0; r < rowCalls; r++) {
          b.copyBlocks(
              x, r * w, inPlane, y, (top + r) * pw + left, outPlane, planes, blockLength, false);
        }
      }

      @Override
      public void backward() {
        if (dx == null) {
          return;
        }
        // The interior of dy; the rows copied cover all of dx, so nothing is zeroed first.
        for (int r = 0; r < rowCalls; r++) {
          b.copyBlocks(
              dy, (top + r) * pw + left, outPlane, dx, r * w, inPlane, planes, blockLength, false);
        }
      }
    };
  }

  /**
   * Reads the padding in any of Keras' forms: {@code p}, {@code [rows, columns]} or {@code [[top,
   * bottom], [left, right]]} (the form written).
   */
  static ZeroPadding2D fromConfig(LayerConfig c) {
    String where = c.where() + ".padding";
    Object o = c.raw("padding");
    int max = 1 << 12;
    if (o instanceof Long) {
      int p = c.integer("padding", 0, max);
      return new ZeroPadding2D(p, p, p, p);
    }
    List<?> l = c.list("padding");
    if (l.size() != 2) {
      throw new IllegalArgumentException(where + " must have 2 entries, got " + l.size());
    }
    int[] out = new int[4];
    for (int axis = 0; axis < 2; axis++) {
      String at = where + "[" + axis + "]";
      if (l.get(axis) instanceof List<?> sides) {
        if (sides.size() != 2) {
          throw new IllegalArgumentException(at + " must have 2 entries, got " + sides.size());
        }
        out[2 * axis] = LayerConfig.intIn(sides.get(0), 0, max, at + "[0]");
        out[2 * axis + 1] = LayerConfig.intIn(sides.get(1), 0, max, at + "[1]");
      } else {
        out[2 * axis] = out[2 * axis + 1] = LayerConfig.intIn(l.get(axis), 0, max, at);
      }
    }
    return new ZeroPadding2D(out[0], out[1], out[2], out[3]);
  }
}
