package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.ConvGeometry;

/**
 * im2col and col2im through a table, for outputs whose rows are too short to copy as runs. vgg's
 * layers on 3 × 3 images read rows of 3 pixels: clipping, filling and copying 3-float pieces one
 * call at a time made im2col cost as much as the GEMM after it (256 → 256 at batch 128: 16 ms a
 * forward against PyTorch's 6.4). Entry t·pixels + p of the table is the offset within a channel's
 * plane that output pixel p reads through tap t, or the plane's size, where a spare slot holds
 * zero, when the tap falls on padding: a channel is then one copy of its plane and one load and
 * store per patch entry, for any stride, padding and dilation.
 *
 * <p>Each thread keeps the table of the last geometry it saw, rebuilt (into the same arrays once
 * they are large enough) when the geometry changes, so a training step allocates nothing.
 */
final class PatchTable {
  /** Output rows shorter than this go through the table rather than as copied runs. */
  static final int SHORT_ROW = 8;

  private static final ThreadLocal<PatchTable> TABLES = ThreadLocal.withInitial(PatchTable::new);

  private ConvGeometry geometry;
  private int[] source = new int[0];
  private float[] plane = new float[1];

  private PatchTable() {}

  static boolean applies(ConvGeometry g) {
    return g.outW() < SHORT_ROW;
  }

  // col[(c·taps + t)·ld + colOff + p] = x[xOff + c·h·w + source(t, p)], 0 on padding
  static void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff, int ld) {
    PatchTable table = of(g);
    int[] source = table.source;
    float[] plane = table.plane;
    int taps = g.kh() * g.kw(), pixels = g.outputPixels(), size = g.h() * g.w();
    plane[size] = 0f;
    for (int c = 0, row = 0; c < g.c(); c++) {
      System.arraycopy(x, xOff + c * size, plane, 0, size);
      for (int t = 0; t < taps; t++, row++) {
        int dst = colOff + row * ld, entry = t * pixels;
        for (int p = 0; p < pixels; p++) {
          col[dst + p] = plane[source[entry + p]];
        }
      }
    }
  }

  // The adjoint: dx's planes are overwritten with the sum of every patch entry that read them, in
  // the order of the general col2im (taps, then pixels), so both give the same floats.
  static void col2im(ConvGeometry g, float[] col, int colOff, int ld, float[] dx, int dxOff) {
    PatchTable table = of(g);
    int[] source = table.source;
    float[] plane = table.plane;
    int taps = g.kh() * g.kw(), pixels = g.outputPixels(), size = g.h() * g.w();
    for (int c = 0, row = 0; c < g.c(); c++) {
      java.util.Arrays.fill(plane, 0, size + 1, 0f);
      for (int t = 0; t < taps; t++, row++) {
        int src = colOff + row * ld, entry = t * pixels;
        for (int p = 0; p < pixels; p++) {
          plane[source[entry + p]] += col[src + p];
        }
      }
      System.arraycopy(plane, 0, dx, dxOff + c * size, size);
    }
  }

  private static PatchTable of(ConvGeometry g) {
    PatchTable table = TABLES.get();
    if (!g.equals(table.geometry)) {
      table.build(g);
    }
    return table;
  }

  private void build(ConvGeometry g) {
    int pixels = g.outputPixels(), size = g.h() * g.w();
    if (source.length < g.kh() * g.kw() * pixels) {
      source = new int[g.kh() * g.kw() * pixels];
    }
    if (plane.length < size + 1) {
      plane = new float[size + 1];
    }
    int entry = 0;
    for (int i = 0; i < g.kh(); i++) {
      for (int j = 0; j < g.kw(); j++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          int r = oh * g.strideH() - g.padTop() + i * g.dilationH();
          for (int ow = 0; ow < g.outW(); ow++) {
            int cc = ow * g.strideW() - g.padLeft() + j * g.dilationW();
            boolean inside = r >= 0 && r < g.h() && cc >= 0 && cc < g.w();
            source[entry++] = inside ? r * g.w() + cc : size;
          }
        }
      }
    }
    geometry = g;
  }
}
