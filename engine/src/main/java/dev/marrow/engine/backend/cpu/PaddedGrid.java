package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.ConvGeometry;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * im2col for stride-1 convolutions in long rows: the image is first copied into a zero-padded plane
 * of Hp × Wp (the rows and columns the output's windows read), and the output is computed on that
 * plane's grid, outH rows of Wp columns of which the first outW are real. Patch row (c, i, j) is
 * then one contiguous run of the padded plane, {@code xpad[c][i·dh][j·dw] + q} for q in [0,
 * outH·Wp), where the row-by-row im2col copies outW floats at a time and clips each row against the
 * padding: on the 7- to 28-wide rows of 3 × 3 'same' convolutions that per-row work cost as much as
 * the GEMM. The price is Wp − outW extra GEMM columns per output row (7 % at 28 × 28, 29 % at 7 ×
 * 7), so {@link #pays} keeps the grid to shapes where they are few.
 *
 * <p>The adjoints follow the same layout: the output gradient is spread onto the grid (zeros in the
 * extra columns, so they contribute nothing), the column gradient is added back into a padded plane
 * in long runs, and the plane is cropped to the input.
 */
final class PaddedGrid {
  private PaddedGrid() {}

  /** Extra GEMM columns allowed: at most this fraction of the real ones. */
  private static final double MAX_EXTRA_COLUMNS = 0.3;

  /** Stride 1 and few extra columns: the grid's long rows beat clipping short ones. */
  static boolean pays(ConvGeometry g) {
    return g.strideH() == 1
        && g.strideW() == 1
        && width(g) - g.outW() <= MAX_EXTRA_COLUMNS * g.outW()
        && !ConvKernels.isValidUnitStride(g);
  }

  /** Wp: the columns a row of output windows reads. */
  static int width(ConvGeometry g) {
    return g.outW() + g.dilationW() * (g.kw() - 1);
  }

  /** Hp: the rows the output's windows read. */
  static int height(ConvGeometry g) {
    return g.outH() + g.dilationH() * (g.kh() - 1);
  }

  /** Columns of the grid-shaped output, outH · Wp. */
  static int columns(ConvGeometry g) {
    return g.outH() * width(g);
  }

  /** Floats of a padded image: c planes of Hp × Wp, and the last window row's overhang. */
  static int paddedSize(ConvGeometry g) {
    return g.c() * height(g) * width(g) + g.dilationW() * (g.kw() - 1);
  }

  // xpad (c, Hp, Wp) = x (c, h, w) shifted by (padTop, padLeft), zeros around; overhang zeroed.
  static void pad(ConvGeometry g, float[] x, int xOff, float[] xpad) {
    int hp = height(g), wp = width(g), pl = g.padLeft();
    int count = Math.max(0, Math.min(g.w(), wp - pl)); // input columns that land inside the grid
    int d = 0;
    for (int c = 0; c < g.c(); c++) {
      int plane = xOff + c * g.h() * g.w();
      for (int r = 0; r < hp; r++, d += wp) {
        int sr = r - g.padTop();
        if (sr < 0 || sr >= g.h()) {
          Arrays.fill(xpad, d, d + wp, 0f);
          continue;
        }
        Arrays.fill(xpad, d, d + pl, 0f);
        ConvKernels.copyRow(x, plane + sr * g.w(), xpad, d + pl, count);
        Arrays.fill(xpad, d + pl + count, d + wp, 0f);
      }
    }
    Arrays.fill(xpad, d, paddedSize(g), 0f);
  }

  // col[(c·kh + i)·kw + j][q] = xpad[c][i·dh][j·dw] + q, q in [0, outH·Wp)
  static void im2col(ConvGeometry g, float[] xpad, float[] col) {
    int wp = width(g), plane = height(g) * wp, n = columns(g), row = 0;
    for (int c = 0; c < g.c(); c++) {
      for (int i = 0; i < g.kh(); i++) {
        for (int j = 0; j < g.kw(); j++, row++) {
          copyRun(xpad, c * plane + i * g.dilationH() * wp + j * g.dilationW(), col, row * n, n);
        }
      }
    }
  }

  // The adjoint of pad ∘ im2col: xpad = Σ over patch rows of col's runs; then crop with cropTo.
  static void col2im(ConvGeometry g, float[] col, float[] xpad) {
    int wp = width(g), plane = height(g) * wp, n = columns(g), row = 0;
    Arrays.fill(xpad, 0, paddedSize(g), 0f);
    for (int c = 0; c < g.c(); c++) {
      for (int i = 0; i < g.kh(); i++) {
        for (int j = 0; j < g.kw(); j++, row++) {
          addRun(col, row * n, xpad, c * plane + i * g.dilationH() * wp + j * g.dilationW(), n);
        }
      }
    }
  }

  // dx (c, h, w) = the part of xpad (c, Hp, Wp) that input pixels map to; pixels no window reads: 0
  static void crop(ConvGeometry g, float[] xpad, float[] dx, int dxOff) {
    int hp = height(g), wp = width(g), pl = g.padLeft();
    int count = Math.max(0, Math.min(g.w(), wp - pl));
    for (int c = 0; c < g.c(); c++) {
      for (int r = 0; r < g.h(); r++) {
        int d = dxOff + (c * g.h() + r) * g.w(), pr = r + g.padTop();
        if (pr >= hp) {
          Arrays.fill(dx, d, d + g.w(), 0f);
          continue;
        }
        ConvKernels.copyRow(xpad, (c * hp + pr) * wp + pl, dx, d, count);
        Arrays.fill(dx, d + count, d + g.w(), 0f);
      }
    }
  }

  // y[f][oh][ow] = grid[f][oh·Wp + ow] for ow < outW: the real columns of a grid-shaped output
  static void compact(ConvGeometry g, float[] grid, float[] y, int yOff) {
    int wp = width(g), n = columns(g), outW = g.outW();
    for (int f = 0, d = yOff; f < g.f(); f++) {
      for (int oh = 0; oh < g.outH(); oh++, d += outW) {
        ConvKernels.copyRow(grid, f * n + oh * wp, y, d, outW);
      }
    }
  }

  // grid[f][oh·Wp + ow] = dy[f][oh][ow] for ow < outW, 0 in the extra columns
  static void spread(ConvGeometry g, float[] dy, int dyOff, float[] grid) {
    int wp = width(g), n = columns(g), outW = g.outW();
    for (int f = 0, s = dyOff; f < g.f(); f++) {
      for (int oh = 0; oh < g.outH(); oh++, s += outW) {
        int d = f * n + oh * wp;
        ConvKernels.copyRow(dy, s, grid, d, outW);
        Arrays.fill(grid, d + outW, d + wp, 0f);
      }
    }
  }

  private static final VectorSpecies<Float> S = Vectors.FLOAT;

  // dst[d .. d + len) = src[s .. s + len): the grid's runs are hundreds of floats long, so they
  // move in full vectors (ConvKernels.copyRow keeps to 8 floats for short output rows).
  private static void copyRun(float[] src, int s, float[] dst, int d, int len) {
    int i = 0;
    for (int bound = Vectors.loopBound(len); i < bound; i += S.length()) {
      FloatVector.fromArray(S, src, s + i).intoArray(dst, d + i);
    }
    for (; i < len; i++) {
      dst[d + i] = src[s + i];
    }
  }

  // dst[d .. d + len) += src[s .. s + len)
  private static void addRun(float[] src, int s, float[] dst, int d, int len) {
    int i = 0;
    for (int bound = Vectors.loopBound(len); i < bound; i += S.length()) {
      FloatVector.fromArray(S, dst, d + i)
          .add(FloatVector.fromArray(S, src, s + i))
          .intoArray(dst, d + i);
    }
    for (; i < len; i++) {
      dst[d + i] += src[s + i];
    }
  }
}
