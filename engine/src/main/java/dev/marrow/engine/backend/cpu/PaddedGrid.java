package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.ConvGeometry;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * im2col in long rows: the image is first copied into zero-padded planes that the output's windows
 * read as contiguous runs, and the output is computed on a grid of outH rows of Wq columns of which
 * the first outW are real. Patch row (c, i, j) is then one run of outH · Wq floats, where the
 * row-by-row im2col copies outW floats at a time and clips each row against the padding: on the 7-
 * to 28-wide rows of 3 × 3 convolutions that per-row work cost as much as the GEMM.
 *
 * <p>At stride 1 there is one padded plane per channel, Hq × Wq = the rows and columns the windows
 * read. At stride (sh, sw) the padded image is split into its sh · sw phases: phase (a, b) holds
 * padded rows ≡ a mod sh and columns ≡ b mod sw, so that output (oh, ow) reads tap (i, j) at row oh
 * + ⌊i·dh / sh⌋, column ow + ⌊j·dw / sw⌋ of phase ((i·dh) mod sh, (j·dw) mod sw) — consecutive
 * outputs read consecutive floats again (resnet's stride-2 layers copied 14- and 7-float rows one
 * at a time, and split the rows into phases with scalar gathers: 40 % of the layer's time).
 *
 * <p>The price is Wq − outW extra GEMM columns per output row (7 % for 3 × 3 at 28 × 28, 29 % at 7
 * × 7; one column in 8 for 3 × 3 at stride 2 to 7 × 7; none for 1 × 1 projections), so {@link
 * #pays} keeps the grid to shapes where they are few. The adjoints follow the same layout: the
 * output gradient is spread onto the grid (zeros in the extra columns, so they contribute nothing),
 * the column gradient is added back into the phases in long runs, and the phases are merged and
 * cropped to the input.
 */
final class PaddedGrid {
  private PaddedGrid() {}

  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  private static final VectorShuffle<Float> EVEN = Vectors.EVEN, ODD = Vectors.ODD;
  private static final VectorShuffle<Float> ZIP_LOW = Vectors.ZIP_LOW, ZIP_HIGH = Vectors.ZIP_HIGH;

  /** A padded row staged whole, so that stride 2 splits and merges it in whole vectors. */
  private static final ThreadLocal<float[]> STAGED = ThreadLocal.withInitial(() -> new float[0]);

  private static final ThreadLocal<int[]> TAP_STARTS = ThreadLocal.withInitial(() -> new int[0]);

  /** Extra GEMM columns allowed: at most this fraction of the real ones. */
  private static final double MAX_EXTRA_COLUMNS = 0.3;

  /**
   * Few extra columns, and enough of them for one image to fill a GEMM's column blocks: the grid's
   * long rows beat clipping short ones, and smaller outputs are better multiplied several images at
   * a time ({@link ConvKernels#imagesPerProduct}).
   */
  static boolean pays(ConvGeometry g) {
    return width(g) - g.outW() <= MAX_EXTRA_COLUMNS * g.outW()
        && 2 * columns(g) >= 3 * Gemm.NR
        && !ConvKernels.isValidUnitStride(g);
  }

  /** Wq: the columns of a phase that a row of output windows reads. */
  static int width(ConvGeometry g) {
    return g.outW() + g.dilationW() * (g.kw() - 1) / g.strideW();
  }

  /** Hq: the rows of a phase that the output's windows read. */
  static int height(ConvGeometry g) {
    return g.outH() + g.dilationH() * (g.kh() - 1) / g.strideH();
  }

  /** Columns of the grid-shaped output, outH · Wq. */
  static int columns(ConvGeometry g) {
    return g.outH() * width(g);
  }

  /** The floats from one phase to the next: Hq · Wq, and a vector of slack when sw ≥ 2. */
  private static int phaseStride(ConvGeometry g) {
    return height(g) * width(g) + (g.strideW() > 1 ? L : 0);
  }

  private static int phases(ConvGeometry g) {
    return g.strideH() * g.strideW();
  }

  /**
   * Floats of a padded image: c × sh × sw phases, the last window row's overhang, and a vector of
   * slack for whole-vector reads and writes past the last row.
   */
  static int paddedSize(ConvGeometry g) {
    return g.c() * channelStride(g) + g.dilationW() * (g.kw() - 1) / g.strideW() + L;
  }

  /** Floats of the patch matrix, patch × outH·Wq, and a vector of slack after its last row. */
  static int colSize(ConvGeometry g) {
    return g.patchSize() * columns(g) + L;
  }

  /** Floats of the grid-shaped output (or gradient), f × outH·Wq, and a vector of slack. */
  static int gridSize(ConvGeometry g) {
    return g.f() * columns(g) + L;
  }

  /**
   * 1 × 1 filters (resnet's projection shortcuts): patch row c is then channel c's one phase run
   * itself, so the padded image serves as the patch matrix (rows {@link #channelStride} apart from
   * {@link #patchStart}) and the GEMM reads or writes it in place of im2col's copy.
   */
  static boolean direct(ConvGeometry g) {
    return g.kh() == 1 && g.kw() == 1;
  }

  /**
   * The patch matrix of a padded image: the image itself when {@link #direct}, else col, filled by
   * {@link #im2col}; its rows start at {@link #patchOffset}, {@link #patchStride} apart.
   */
  static float[] patches(ConvGeometry g, float[] xpad, float[] col) {
    if (direct(g)) {
      return xpad;
    }
    im2col(g, xpad, col);
    return col;
  }

  static int patchOffset(ConvGeometry g) {
    return direct(g) ? patchStart(g) : 0;
  }

  static int patchStride(ConvGeometry g) {
    return direct(g) ? channelStride(g) : columns(g);
  }

  /** Where patch row 0 starts in the padded image when {@link #direct}. */
  static int patchStart(ConvGeometry g) {
    return tapStart(g, 0, 0);
  }

  /** One channel's phases: the distance between patch rows when {@link #direct}. */
  static int channelStride(ConvGeometry g) {
    return phases(g) * phaseStride(g);
  }

  // Where tap (i, j)'s run starts in channel 0 of the padded image (channel c: c·sh·sw phases on).
  // The divisions are by values C2 cannot fold, so they stay out of the per-row loops.
  private static int tapStart(ConvGeometry g, int i, int j) {
    int sh = g.strideH(), sw = g.strideW(), ti = i * g.dilationH(), tj = j * g.dilationW();
    return ((ti % sh) * sw + tj % sw) * phaseStride(g) + ti / sh * width(g) + tj / sw;
  }

  // xpad (c, sh, sw, Hq, Wq): phase (a, b) row r column q = x[c][r·sh + a − padTop][q·sw + b −
  // padLeft], zero outside the input; overhang and slack zeroed.
  static void pad(ConvGeometry g, float[] x, int xOff, float[] xpad) {
    int hq = height(g), wq = width(g), sh = g.strideH(), sw = g.strideW(), stride = phaseStride(g);
    int count = Math.max(0, Math.min(g.w(), sw * wq - g.padLeft())); // input columns inside
    float[] staged = sw == 2 ? stage(wq) : null;
    long rowPhases = 0; // the row phases some tap reads (a 1 × 1 filter at stride 2: the even rows)
    for (int i = 0; i < g.kh(); i++) {
      rowPhases |= 1L << (i * g.dilationH() % sh);
    }
    for (int c = 0; c < g.c(); c++) {
      int plane = xOff + c * g.h() * g.w();
      for (int a = 0; a < sh; a++) { // a phase's rows in order: see splitPairs
        if (sh <= 64 && (rowPhases & (1L << a)) == 0) {
          continue;
        }
        int d = (c * sh + a) * sw * stride;
        for (int r = 0, sr = a - g.padTop(); r < hq; r++, sr += sh, d += wq) {
          if (sr < 0 || sr >= g.h()) {
            for (int b = 0; b < sw; b++) { // whole vectors, as rows are written in order
              zeroWhole(xpad, d + b * stride, wq);
            }
          } else if (sw == 1) {
            padRow(x, plane + sr * g.w(), g.padLeft(), count, wq, xpad, d);
          } else if (sw == 2) {
            splitPairs(x, plane + sr * g.w(), g.padLeft(), count, wq, staged, xpad, d, stride);
          } else {
            for (int b = 0; b < sw; b++) {
              for (int q = 0; q < wq; q++) {
                int sc = q * sw + b - g.padLeft();
                xpad[d + b * stride + q] = sc >= 0 && sc < g.w() ? x[plane + sr * g.w() + sc] : 0f;
              }
            }
          }
        }
      }
    }
    clearSlack(g, xpad);
  }

  // Padded row xpad[d .. d + Wq) = [padLeft zeros | x[row .. row + count) | zeros]. Rows are
  // written in order, so the whole vectors below may run past Wq into the next row (or into the
  // slack after the last). Where the input around the row can be read they are loaded straight
  // from it and the padding columns, which then hold the neighbouring rows' pixels, are zeroed
  // after: on 7- to 28-float rows, Arrays.fill and a scalar tail cost more than the copy.
  private static void padRow(float[] x, int row, int pl, int count, int wq, float[] xpad, int d) {
    int from = row - pl;
    if (from >= 0 && from + wq + L <= x.length) {
      copyWhole(x, from, xpad, d, wq);
      for (int q = 0; q < pl; q++) {
        xpad[d + q] = 0f;
      }
      for (int q = pl + count; q < wq; q++) {
        xpad[d + q] = 0f;
      }
    } else {
      Arrays.fill(xpad, d, d + pl, 0f);
      copyExact(x, row, xpad, d + pl, count);
      Arrays.fill(xpad, d + pl + count, d + wq, 0f);
    }
  }

  // Phase rows d (even columns) and d + stride (odd) of padded row [0, 2·Wq) whose input row
  // starts at x[row], in whole vectors of column pairs: each phase row's last store runs into the
  // next row of its phase (written after it) or into the phase's slack (cleared after the split).
  // The vectors are loaded straight from x where they lie inside it, and the padding columns they
  // read from the neighbouring rows are zeroed afterwards; only the rows at x's ends go through
  // the zeroed staging row (copying every 28-float row there first cost 13 ns a row: the copy
  // and the vector loads that straddled its stores).
  private static void splitPairs(
      float[] x,
      int row,
      int pl,
      int count,
      int wq,
      float[] staged,
      float[] xpad,
      int d,
      int stride) {
    int from = row - pl;
    float[] src = x;
    if (from < 0 || from + 2 * ((wq + L - 1) / L) * L > x.length) {
      System.arraycopy(x, row, staged, pl, count);
      src = staged;
      from = 0;
    }
    // The first vector pair outside the loop: rows are mostly one pair wide, and C2's set-up of
    // a vector loop for one trip cost as much as the trip (8 → 4 µs for a 32 × 28 × 28 split).
    FloatVector lo = FloatVector.fromArray(S, src, from);
    FloatVector hi = FloatVector.fromArray(S, src, from + L);
    lo.rearrange(EVEN, hi).intoArray(xpad, d);
    lo.rearrange(ODD, hi).intoArray(xpad, d + stride);
    for (int q = L; q < wq; q += L) {
      lo = FloatVector.fromArray(S, src, from + 2 * q);
      hi = FloatVector.fromArray(S, src, from + 2 * q + L);
      lo.rearrange(EVEN, hi).intoArray(xpad, d + q);
      lo.rearrange(ODD, hi).intoArray(xpad, d + stride + q);
    }
    if (src == x) {
      for (int column = 0; column < pl; column++) {
        xpad[d + (column & 1) * stride + column / 2] = 0f;
      }
      for (int column = pl + count; column < 2 * wq; column++) {
        xpad[d + (column & 1) * stride + column / 2] = 0f;
      }
    }
  }

  // A zeroed staging row for stride 2, wide enough for whole vectors over Wq column pairs.
  private static float[] stage(int wq) {
    int width = 2 * ((wq + L - 1) / L) * L + 2 * L;
    float[] staged = STAGED.get();
    if (staged.length < width) {
      staged = new float[width];
      STAGED.set(staged);
    }
    Arrays.fill(staged, 0, width, 0f);
    return staged;
  }

  private static void clearSlack(ConvGeometry g, float[] xpad) {
    int stride = phaseStride(g), used = height(g) * width(g);
    if (stride > used) {
      for (int p = 0, n = g.c() * phases(g); p < n; p++) {
        Arrays.fill(xpad, p * stride + used, (p + 1) * stride, 0f);
      }
    }
    Arrays.fill(xpad, g.c() * phases(g) * stride, paddedSize(g), 0f);
  }

  // The start of each tap's run in channel 0, tap by tap (i·kw + j), in the calling thread's
  // buffer.
  private static int[] tapStarts(ConvGeometry g) {
    int taps = g.kh() * g.kw();
    int[] starts = TAP_STARTS.get();
    if (starts.length < taps) {
      starts = new int[taps];
      TAP_STARTS.set(starts);
    }
    for (int i = 0; i < g.kh(); i++) {
      for (int j = 0; j < g.kw(); j++) {
        starts[i * g.kw() + j] = tapStart(g, i, j);
      }
    }
    return starts;
  }

  // col[(c·kh + i)·kw + j][q] = xpad[c·sh·sw·phaseStride + tapStart(i, j) + q], q in [0, outH·Wq):
  // rows in order, in whole vectors (each row's last one runs into the next row, or the slack)
  static void im2col(ConvGeometry g, float[] xpad, float[] col) {
    im2col(g, xpad, col, 0, columns(g));
  }

  // The same into columns [colOff, colOff + outH·Wq) of a patch matrix with rows of ld floats:
  // one image of a group multiplied in one product (each run's last vector lands in the next
  // image's columns, written after it, or in the L floats of slack that ld leaves after the last)
  static void im2col(ConvGeometry g, float[] xpad, float[] col, int colOff, int ld) {
    int n = columns(g), taps = g.kh() * g.kw(), channel = channelStride(g);
    int[] starts = tapStarts(g);
    for (int c = 0, row = 0; c < g.c(); c++) {
      for (int t = 0; t < taps; t++, row++) {
        copyWhole(xpad, c * channel + starts[t], col, colOff + row * ld, n);
      }
    }
  }

  // The adjoint of pad ∘ im2col: xpad = Σ over patch rows of col's runs; then merge with crop.
  static void col2im(ConvGeometry g, float[] col, float[] xpad) {
    col2im(g, col, 0, columns(g), xpad);
  }

  // The same from columns [colOff, colOff + outH·Wq) of a patch matrix with rows of ld floats
  static void col2im(ConvGeometry g, float[] col, int colOff, int ld, float[] xpad) {
    int n = columns(g), taps = g.kh() * g.kw(), channel = channelStride(g);
    int[] starts = tapStarts(g);
    Arrays.fill(xpad, 0, paddedSize(g), 0f);
    for (int c = 0, row = 0; c < g.c(); c++) {
      for (int t = 0; t < taps; t++, row++) {
        addExact(col, colOff + row * ld, xpad, c * channel + starts[t], n);
      }
    }
  }

  // dx (c, h, w) = the phases of xpad merged back into rows and cropped to the input; pixels no
  // window reads: 0
  static void crop(ConvGeometry g, float[] xpad, float[] dx, int dxOff) {
    int hq = height(g), wq = width(g), sh = g.strideH(), sw = g.strideW(), stride = phaseStride(g);
    int count = Math.max(0, Math.min(g.w(), sw * wq - g.padLeft()));
    float[] staged = sw == 2 ? stage(wq) : null;
    int imageEnd = dxOff + g.inputPlaneSize();
    for (int c = 0; c < g.c(); c++) {
      // input row r is padded row r + padTop: row q of phase a, counted along without dividing
      int a = g.padTop() % sh, q = g.padTop() / sh;
      for (int r = 0; r < g.h(); r++) {
        int d = dxOff + (c * g.h() + r) * g.w();
        if (q >= hq) {
          Arrays.fill(dx, d, d + g.w(), 0f);
          continue;
        }
        int s = ((c * sh + a) * sw) * stride + q * wq;
        if (sw == 1) { // rows in order: whole vectors may run into the next, not past the image
          copyBounded(xpad, s + g.padLeft(), dx, d, count, imageEnd);
        } else if (sw == 2) {
          mergePairs(xpad, s, stride, g.padLeft(), count, wq, staged, dx, d, imageEnd);
        } else {
          for (int sc = 0; sc < count; sc++) {
            int column = sc + g.padLeft();
            dx[d + sc] = xpad[s + (column % sw) * stride + column / sw];
          }
        }
        for (int sc = count; sc < g.w(); sc++) { // input columns no window reads: rare
          dx[d + sc] = 0f;
        }
        if (++a == sh) {
          a = 0;
          q++;
        }
      }
    }
  }

  // dx[d .. d + count) = padded columns [padLeft, padLeft + count) of the row whose phases are at
  // s (even columns) and s + stride (odd), interleaved in whole vectors. Without left padding they
  // are stored straight into dx, the last store running into the next row (written after this
  // one) but never past the image's end; otherwise they go through the staging row. Reads past
  // Wq land in columns that are not copied.
  private static void mergePairs(
      float[] xpad,
      int s,
      int stride,
      int pl,
      int count,
      int wq,
      float[] staged,
      float[] dx,
      int d,
      int imageEnd) {
    int wide = 2 * ((wq + L - 1) / L) * L;
    boolean direct = pl == 0 && d + wide <= imageEnd;
    float[] dst = direct ? dx : staged;
    int at = direct ? d : 0;
    FloatVector even = FloatVector.fromArray(S, xpad, s); // the first pair peeled, as in the split
    FloatVector odd = FloatVector.fromArray(S, xpad, s + stride);
    even.rearrange(ZIP_LOW, odd).intoArray(dst, at);
    even.rearrange(ZIP_HIGH, odd).intoArray(dst, at + L);
    for (int q = L; q < wq; q += L) {
      even = FloatVector.fromArray(S, xpad, s + q);
      odd = FloatVector.fromArray(S, xpad, s + stride + q);
      even.rearrange(ZIP_LOW, odd).intoArray(dst, at + 2 * q);
      even.rearrange(ZIP_HIGH, odd).intoArray(dst, at + 2 * q + L);
    }
    if (!direct) {
      System.arraycopy(staged, pl, dx, d, count);
    }
  }

  // y[f][oh][ow] = grid[f][oh·Wq + ow] for ow < outW: the real columns of a grid-shaped output,
  // rows in order (whole vectors may run into the next row of this image, not past it)
  static void compact(ConvGeometry g, float[] grid, float[] y, int yOff) {
    compact(g, grid, 0, columns(g), y, yOff);
  }

  // The same from columns [gridOff, gridOff + outH·Wq) of a grid with rows of ld floats
  static void compact(ConvGeometry g, float[] grid, int gridOff, int ld, float[] y, int yOff) {
    int wq = width(g), outW = g.outW(), imageEnd = yOff + g.outputImageSize();
    for (int f = 0, d = yOff; f < g.f(); f++) {
      for (int oh = 0; oh < g.outH(); oh++, d += outW) {
        copyBounded(grid, gridOff + f * ld + oh * wq, y, d, outW, imageEnd);
      }
    }
  }

  // grid[f][oh·Wq + ow] = dy[f][oh][ow] for ow < outW, 0 in the extra columns; rows in order, so
  // whole vectors run into the extra columns (zeroed after) and the next row (or the slack)
  static void spread(ConvGeometry g, float[] dy, int dyOff, float[] grid) {
    spread(g, dy, dyOff, grid, 0, columns(g));
  }

  // The same into columns [gridOff, gridOff + outH·Wq) of a grid with rows of ld floats (a group's
  // images in order, and L floats of slack after the last)
  static void spread(ConvGeometry g, float[] dy, int dyOff, float[] grid, int gridOff, int ld) {
    int wq = width(g), outW = g.outW();
    for (int f = 0, s = dyOff; f < g.f(); f++) {
      for (int oh = 0; oh < g.outH(); oh++, s += outW) {
        int d = gridOff + f * ld + oh * wq;
        if (s + outW + L <= dy.length) {
          copyWhole(dy, s, grid, d, outW);
        } else {
          copyExact(dy, s, grid, d, outW);
        }
        for (int q = outW; q < wq; q++) {
          grid[d + q] = 0f;
        }
      }
    }
  }

  // dst[d .. d + len) = src[s .. s + len) in whole vectors (len ≥ 1): up to L − 1 floats past both
  // ends are read and written, which the caller allows. The first vector is peeled: most rows
  // here are one or two vectors long, and C2's set-up of a vector loop for one trip cost as much
  // as the trip.
  private static void copyWhole(float[] src, int s, float[] dst, int d, int len) {
    FloatVector.fromArray(S, src, s).intoArray(dst, d);
    for (int i = L; i < len; i += L) {
      FloatVector.fromArray(S, src, s + i).intoArray(dst, d + i);
    }
  }

  // xpad[d .. d + len) = 0 in whole vectors (len ≥ 1), up to L − 1 floats past the end
  private static void zeroWhole(float[] xpad, int d, int len) {
    FloatVector zero = FloatVector.zero(S);
    zero.intoArray(xpad, d);
    for (int i = L; i < len; i += L) {
      zero.intoArray(xpad, d + i);
    }
  }

  // The same, ending on a masked vector where whole ones would write at or past limit
  private static void copyBounded(float[] src, int s, float[] dst, int d, int len, int limit) {
    if (d + len + L <= limit && s + len + L <= src.length) {
      copyWhole(src, s, dst, d, len);
    } else {
      copyExact(src, s, dst, d, len);
    }
  }

  // dst[d .. d + len) = src[s .. s + len) exactly: whole vectors, then one masked vector
  private static void copyExact(float[] src, int s, float[] dst, int d, int len) {
    int i = 0;
    for (int bound = S.loopBound(len); i < bound; i += L) {
      FloatVector.fromArray(S, src, s + i).intoArray(dst, d + i);
    }
    if (i < len) {
      VectorMask<Float> tail = S.indexInRange(i, len);
      FloatVector.fromArray(S, src, s + i, tail).intoArray(dst, d + i, tail);
    }
  }

  // dst[d .. d + len) += src[s .. s + len): whole vectors, then one masked vector
  private static void addExact(float[] src, int s, float[] dst, int d, int len) {
    int i = 0;
    for (int bound = S.loopBound(len); i < bound; i += L) {
      FloatVector.fromArray(S, dst, d + i)
          .add(FloatVector.fromArray(S, src, s + i))
          .intoArray(dst, d + i);
    }
    if (i < len) {
      VectorMask<Float> tail = S.indexInRange(i, len);
      FloatVector.fromArray(S, dst, d + i, tail)
          .add(FloatVector.fromArray(S, src, s + i, tail))
          .intoArray(dst, d + i, tail);
    }
  }
}
