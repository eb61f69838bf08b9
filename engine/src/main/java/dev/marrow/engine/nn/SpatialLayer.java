package dev.marrow.engine.nn;

import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.tensor.Shape;

/** Shared shape logic of layers that slide a window over (channels, height, width) inputs. */
final class SpatialLayer {
  private SpatialLayer() {}

  static void requireImage(Shape input, String layer) {
    if (input.rank() != 3) {
      throw new IllegalArgumentException(
          layer
              + " expects (channels, height, width) inputs, got "
              + input
              + "; add a Reshape(1, 28, 28) for flat images");
    }
  }

  /** The geometry for one sample (n = 1); {@link #withBatch} sets n. */
  static ConvGeometry geometry(
      Shape input,
      int filters,
      int kh,
      int kw,
      int strideH,
      int strideW,
      Padding padding,
      int dilationH,
      int dilationW,
      String layer) {
    requireImage(input, layer);
    int[] rows = padding.resolve(0, input.dim(1), kh, strideH, dilationH, layer);
    int[] cols = padding.resolve(1, input.dim(2), kw, strideW, dilationW, layer);
    return new ConvGeometry(
        1,
        input.dim(0),
        input.dim(1),
        input.dim(2),
        filters,
        kh,
        kw,
        strideH,
        strideW,
        rows[0],
        cols[0],
        dilationH,
        dilationW,
        rows[1],
        cols[1]);
  }

  static ConvGeometry withBatch(ConvGeometry g, int n) {
    return new ConvGeometry(
        n,
        g.c(),
        g.h(),
        g.w(),
        g.f(),
        g.kh(),
        g.kw(),
        g.strideH(),
        g.strideW(),
        g.padTop(),
        g.padLeft(),
        g.dilationH(),
        g.dilationW(),
        g.outH(),
        g.outW());
  }
}
