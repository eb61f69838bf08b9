package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolution as im2col + GEMM, batched over the mini-batch: each thread takes whole images, lays
 * out one image's patches as a (c·kh·kw) × (outH·outW) matrix in its own buffer and runs a serial
 * GEMM against the filters. Splitting by image keeps both cores busy even when one image's GEMM is
 * too small to split (the first layer of the MNIST CNNs has 16 filters over 25 weights).
 *
 * <p>The filter gradient is reduced over images: each of a fixed number of parts sums its images
 * into its own partial buffer and the parts are added in order, so results do not depend on
 * scheduling.
 */
final class ConvKernels {
  private final ThreadTeam team;
  private final Gemm gemm;
  private final ElementwiseKernels elementwise;
  private static final ThreadLocal<float[]> COLUMNS = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PADDED = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> GRID = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PARTIALS = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> BIAS_SUMS = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PHASES = ThreadLocal.withInitial(() -> new float[0]);

  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

  /** Several images per product on the padded grid ({@link #imagesPerProduct}); for measuring. */
  private static final boolean GRID_GROUPS =
      Boolean.parseBoolean(System.getProperty("marrow.cpu.gridGroups", "true"));

  ConvKernels(ThreadTeam team, Gemm gemm, ElementwiseKernels elementwise) {
    this.team = team;
    this.gemm = gemm;
    this.elementwise = elementwise;
  }

  private static float[] columnBuffer(int size) {
    return buffer(COLUMNS, size);
  }

  /** The calling thread's buffer of {@code which}, grown to at least {@code size} floats. */
  static float[] buffer(ThreadLocal<float[]> which, int size) {
    float[] b = which.get();
    if (b.length < size) {
      b = new float[size];
      which.set(b);
    }
    return b;
  }

  // x is (n, c, h, w), w is (f, c, kh, kw), y is (n, f, outH, outW); y = f(conv + bias)
  void forward(
      ConvGeometry g, float[] x, float[] w, float[] bias, Activation activation, float[] y) {
    Call c = CALLS.get();
    c.gemm = gemm;
    c.g = g;
    c.x = x;
    c.w = w;
    c.bias = bias;
    c.activation = activation;
    c.y = y;
    c.filters = Gemm.newSharedOperand(); // w is packed once per thread, not once per image
    c.group = imagesPerProduct(g, team.size());
    if (c.group > 1) {
      team.parallelFor(groups(g, c.group), 1, c.forwardGroups);
    } else {
      team.parallelFor(g.n(), 1, c.forwardImages);
    }
    c.release();
  }

  /**
   * Images multiplied in one product. An output of few pixels (vgg's 3 × 3 layers: 9 columns) fills
   * a fraction of a GEMM tile's 2 vectors of columns, so images are grouped until their columns
   * fill four column blocks; a product's columns are then [image g's pixels] side by side. Outputs
   * on the padded grid, and large ones, go one image at a time. The number of groups is rounded up
   * to a multiple of the threads, which take whole groups (vgg's 3 × 3 layers at batch 128: nine
   * groups of 15 images left one thread a tenth idle; ten of 13 do not).
   */
  static int imagesPerProduct(ConvGeometry g, int threads) {
    int pixels = g.outputPixels();
    if (PaddedGrid.pays(g)) {
      return PaddedGrid.direct(g) || !GRID_GROUPS
          ? 1
          : imagesPerGroup(g.n(), PaddedGrid.columns(g), threads);
    }
    if (pixels >= 4 * Gemm.NR) {
      return 1;
    }
    int wanted = (4 * Gemm.NR + pixels - 1) / pixels;
    int groups = (g.n() + wanted - 1) / wanted;
    if (groups > threads) {
      groups = (groups + threads - 1) / threads * threads;
    }
    return (g.n() + groups - 1) / groups; // groups of even size
  }

  /**
   * Images per group: the fewest GEMM column blocks on the busiest thread (each thread takes whole
   * groups), from two to eight blocks' worth of tiles a group, the smallest group among equals. 7 ×
   * 7 outputs (20 tiles) at batch 64 on two threads: 8 images, 160 columns = 5 whole blocks, four
   * groups a thread (20 blocks), where groups of 6 (128 columns, 11 groups: 6 and 5 a thread) gave
   * the busier thread 24; 14 × 14 (56 tiles): 4 images, 224 columns = 7 blocks.
   */
  static int imagesPerGroup(int n, int perImage, int threads) {
    int least = Math.max(1, (2 * Gemm.NR + perImage - 1) / perImage);
    int most = Math.max(least, 8 * Gemm.NR / perImage);
    int best = 1;
    long bestBlocks = Long.MAX_VALUE;
    for (int g = n < least ? 1 : least; g <= Math.min(most, n); g++) {
      long groups = (n + g - 1) / g, perThread = (groups + threads - 1) / threads;
      long blocks = perThread * (((long) g * perImage + Gemm.NR - 1) / Gemm.NR);
      if (blocks < bestBlocks) {
        best = g;
        bestBlocks = blocks;
      }
    }
    return Math.min(best, n);
  }

  private static int groups(ConvGeometry g, int group) {
    return (g.n() + group - 1) / group;
  }

  // dx (n, c, h, w) = col2im(wᵀ · dy) per image
  void backwardData(ConvGeometry g, float[] w, float[] dy, float[] dx) {
    Call c = CALLS.get();
    c.gemm = gemm;
    c.g = g;
    c.w = w;
    c.dy = dy;
    c.dx = dx;
    c.filters = Gemm.newSharedOperand(); // wᵀ is packed once per thread, not once per image
    c.group = imagesPerProduct(g, team.size());
    if (c.group > 1) {
      team.parallelFor(groups(g, c.group), 1, c.backwardDataGroups);
    } else {
      team.parallelFor(g.n(), 1, c.backwardDataImages);
    }
    c.release();
  }

  // dw (f, c·kh·kw) = beta·dw + Σ_n dy_n · col_nᵀ. With many filters it is computed transposed,
  // dwᵀ = Σ_n col_n · dy_nᵀ: transposing dy_n (f × pixels) for the GEMM is much cheaper than
  // transposing col_n. With few (at most half a GEMM tile's columns, like the 16 of the CNNs'
  // first layer) dwᵀ would leave most of each tile empty: the patches are then laid out one row
  // per output pixel (im2row) and dw = Σ_n dy_n · rows_n needs no transpose at all (cnn conv1,
  // batch 128: 1.42 → 1.11 ms).
  void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float beta) {
    int patch = g.patchSize(), size = g.f() * patch;
    int parts = Math.min(team.size(), g.n());
    float[] sums = PARTIALS.get();
    if (sums.length < parts * size) {
      sums = new float[parts * size];
      PARTIALS.set(sums);
    }
    Call c = CALLS.get();
    c.gemm = gemm;
    c.g = g;
    c.x = x;
    c.dy = dy;
    c.sums = sums;
    c.parts = parts;
    c.group = imagesPerProduct(g, team.size());
    boolean filtersMajor = g.f() <= Gemm.NR / 2;
    team.parallelFor(parts, 1, filtersMajor ? c.backwardFilterRowParts : c.backwardFilterParts);
    c.release();
    sumParts(sums, parts, size, filtersMajor, g.f(), patch, dw, beta);
  }

  // dw[o][p] = beta·dw[o][p] + Σ_part sums[part][at], at = o·patch + p, or p·f + o for the
  // transposed parts. Sixteen patch entries at a time: read transposed one filter at a time, each
  // entry would be on its own cache line; sixteen consecutive filters share these sixteen lines.
  private static void sumParts(
      float[] sums,
      int parts,
      int size,
      boolean filtersMajor,
      int f,
      int patch,
      float[] dw,
      float beta) {
    for (int p0 = 0; p0 < patch; p0 += 16) {
      int p1 = Math.min(patch, p0 + 16);
      for (int o = 0; o < f; o++) {
        for (int p = p0; p < p1; p++) {
          float s = beta == 0 ? 0f : beta * dw[o * patch + p];
          int at = filtersMajor ? o * patch + p : p * f + o;
          for (int part = 0; part < parts; part++) {
            s += sums[part * size + at];
          }
          dw[o * patch + p] = s;
        }
      }
    }
  }

  // db[f] = beta·db[f] + Σ_n Σ_p dy[n][f][p]: the images are summed by the column sums of dy seen
  // as n × (f·pixels), then each filter's pixels in order. (A vector sum per image and filter
  // ran on boxed vectors whenever C2 declined to intrinsify it inside the loop nest: 1.9 MB of
  // garbage per cnn step at batch 32.)
  void backwardBias(ConvGeometry g, float[] dy, float[] db, float beta) {
    int pixels = g.outputPixels(), size = g.f() * pixels;
    float[] sums = BIAS_SUMS.get();
    if (sums.length < size) {
      sums = new float[size];
      BIAS_SUMS.set(sums);
    }
    elementwise.columnSums(dy, sums, g.n(), size, 0f);
    for (int f = 0; f < g.f(); f++) {
      double s = 0;
      for (int p = 0; p < pixels; p++) {
        s += sums[f * pixels + p];
      }
      db[f] = (float) (s + (beta == 0 ? 0 : beta * db[f]));
    }
  }

  /**
   * One thread's convolution call in flight and its loop bodies, built once, so a convolution
   * allocates nothing. Team workers read the caller's fields (published by the team's hand-off) and
   * use their own column buffers.
   */
  private static final class Call {
    private Gemm gemm;
    private ConvGeometry g;
    private float[] x;
    private float[] w;
    private float[] bias;
    private Activation activation;
    private float[] y;
    private float[] dy;
    private float[] dx;
    private float[] sums;
    private int parts;

    /** The shared-operand token of w (forward) or wᵀ (backward data) in this call. */
    private long filters;

    /** Images per product ({@link #imagesPerProduct}). */
    private int group;

    private final ThreadTeam.RangeBody forwardImages = this::forwardImages;
    private final ThreadTeam.RangeBody forwardGroups = this::forwardGroups;
    private final ThreadTeam.RangeBody backwardDataGroups = this::backwardDataGroups;
    private final ThreadTeam.RangeBody backwardDataImages = this::backwardDataImages;
    private final ThreadTeam.RangeBody backwardFilterParts = this::backwardFilterParts;
    private final ThreadTeam.RangeBody backwardFilterRowParts = this::backwardFilterRowParts;

    void release() {
      gemm = null;
      g = null;
      x = w = bias = y = dy = dx = sums = null;
      activation = null;
    }

    private void forwardImages(int n0, int n1) {
      int patch = g.patchSize(), pixels = g.outputPixels();
      boolean onGrid = PaddedGrid.pays(g);
      int columns = onGrid ? PaddedGrid.columns(g) : pixels;
      float[] col = columnBuffer(onGrid ? PaddedGrid.colSize(g) : patch * columns);
      float[] xpad = onGrid ? buffer(PADDED, PaddedGrid.paddedSize(g)) : null;
      float[] grid = onGrid ? buffer(GRID, PaddedGrid.gridSize(g)) : null;
      for (int n = n0; n < n1; n++) {
        int out = n * g.outputImageSize();
        if (onGrid) {
          PaddedGrid.pad(g, x, n * g.inputPlaneSize(), xpad);
          float[] b = PaddedGrid.patches(g, xpad, col);
          int bOff = PaddedGrid.patchOffset(g), ldb = PaddedGrid.patchStride(g);
          gemm.runSerialSharedA(
              filters, false, g.f(), columns, patch, w, 0, patch, b, bOff, ldb, grid, 0, columns);
          PaddedGrid.compact(g, grid, y, out);
        } else {
          im2col(g, x, n * g.inputPlaneSize(), col);
          gemm.runSerialSharedA(
              filters, false, g.f(), pixels, patch, w, 0, patch, col, 0, pixels, y, out, pixels);
        }
        epilogue(out); // while this image's output is still in cache
      }
    }

    // y[image at yOff] = activation(y + bias), filter plane by plane
    private void epilogue(int yOff) {
      if (bias == null && activation == Activation.LINEAR) {
        return;
      }
      int pixels = g.outputPixels();
      for (int f = 0; f < g.f(); f++) {
        ElementwiseKernels.biasActivate(
            activation, y, yOff + f * pixels, pixels, null, 0, bias == null ? 0f : bias[f]);
      }
    }

    // y[group] = w · [col_n … col_n+G) (f × G·pixels), spread back image by image
    private void forwardGroups(int g0, int g1) {
      if (PaddedGrid.pays(g)) {
        forwardGridGroups(g0, g1);
        return;
      }
      int patch = g.patchSize(), pixels = g.outputPixels(), width = group * pixels;
      float[] col = columnBuffer(patch * width);
      float[] out = buffer(GRID, g.f() * width);
      for (int grp = g0; grp < g1; grp++) {
        int first = grp * group, count = Math.min(group, g.n() - first), cols = count * pixels;
        for (int i = 0; i < count; i++) {
          im2col(g, x, (first + i) * g.inputPlaneSize(), col, i * pixels, cols);
        }
        gemm.runSerialSharedA(
            filters, false, g.f(), cols, patch, w, 0, patch, col, 0, cols, out, 0, cols);
        for (int i = 0; i < count; i++) {
          int yOff = (first + i) * g.outputImageSize();
          for (int f = 0; f < g.f(); f++) {
            // arraycopy, not copyRow: in this loop nest C2 once left copyRow's vectors boxed
            // (40 MB of garbage per residual step in AllocationFreeStepTest's full run)
            System.arraycopy(out, f * cols + i * pixels, y, yOff + f * pixels, pixels);
          }
          epilogue(yOff);
        }
      }
    }

    // The same on the padded grid: the G images' patch matrices side by side, outH·Wq columns
    // each (resnet's stride-2 64 → 128: 56 columns an image filled 2 column blocks of 32 to 88 %,
    // four images fill 7 exactly)
    private void forwardGridGroups(int g0, int g1) {
      int patch = g.patchSize(), columns = PaddedGrid.columns(g), width = group * columns;
      int ld = width + Vectors.LANES; // slack for the last image's whole-vector runs
      float[] col = columnBuffer(patch * ld);
      float[] xpad = buffer(PADDED, PaddedGrid.paddedSize(g));
      float[] out = buffer(GRID, g.f() * width + Vectors.LANES);
      for (int grp = g0; grp < g1; grp++) {
        int first = grp * group, count = Math.min(group, g.n() - first), cols = count * columns;
        for (int i = 0; i < count; i++) { // in order: each run's last vector spills into the next
          PaddedGrid.pad(g, x, (first + i) * g.inputPlaneSize(), xpad);
          PaddedGrid.im2col(g, xpad, col, i * columns, ld);
        }
        gemm.runSerialSharedA(
            filters, false, g.f(), cols, patch, w, 0, patch, col, 0, ld, out, 0, cols);
        for (int i = 0; i < count; i++) {
          int yOff = (first + i) * g.outputImageSize();
          PaddedGrid.compact(g, out, i * columns, cols, y, yOff);
          epilogue(yOff);
        }
      }
    }

    // dx of each image of a group = col2im of its columns of wᵀ · [dy_n … dy_n+G)
    private void backwardDataGroups(int g0, int g1) {
      if (PaddedGrid.pays(g)) {
        backwardDataGridGroups(g0, g1);
        return;
      }
      int patch = g.patchSize(), pixels = g.outputPixels(), width = group * pixels;
      float[] col = columnBuffer(patch * width);
      float[] grads = buffer(GRID, g.f() * width);
      for (int grp = g0; grp < g1; grp++) {
        int first = grp * group, count = Math.min(group, g.n() - first), cols = count * pixels;
        gatherImages(dy, first, count, grads, cols);
        gemm.runSerialSharedA(
            filters, true, patch, cols, g.f(), w, 0, patch, grads, 0, cols, col, 0, cols);
        for (int i = 0; i < count; i++) {
          col2im(g, col, i * pixels, cols, dx, (first + i) * g.inputPlaneSize());
        }
      }
    }

    // The same on the padded grid: the G images' spread gradients side by side, outH·Wq columns
    // each, and each image's columns of the product added back into its padded planes
    private void backwardDataGridGroups(int g0, int g1) {
      int patch = g.patchSize(), columns = PaddedGrid.columns(g), width = group * columns;
      int ld = width + Vectors.LANES; // slack for the last image's whole-vector runs
      float[] col = columnBuffer(patch * width);
      float[] xpad = buffer(PADDED, PaddedGrid.paddedSize(g));
      float[] grads = buffer(GRID, g.f() * ld);
      for (int grp = g0; grp < g1; grp++) {
        int first = grp * group, count = Math.min(group, g.n() - first), cols = count * columns;
        for (int i = 0; i < count; i++) { // in order: each run's last vector spills into the next
          PaddedGrid.spread(g, dy, (first + i) * g.outputImageSize(), grads, i * columns, ld);
        }
        gemm.runSerialSharedA(
            filters, true, patch, cols, g.f(), w, 0, patch, grads, 0, ld, col, 0, cols);
        for (int i = 0; i < count; i++) {
          PaddedGrid.col2im(g, col, i * columns, cols, xpad);
          PaddedGrid.crop(g, xpad, dx, (first + i) * g.inputPlaneSize());
        }
      }
    }

    // grads (f × cols) = [dy_first … dy_first+count) side by side, pixels columns per image
    private void gatherImages(float[] dy, int first, int count, float[] grads, int cols) {
      int pixels = g.outputPixels();
      for (int i = 0; i < count; i++) {
        int dyOff = (first + i) * g.outputImageSize();
        for (int f = 0; f < g.f(); f++) {
          System.arraycopy(
              dy, dyOff + f * pixels, grads, f * cols + i * pixels, pixels); // as above
        }
      }
    }

    private void backwardDataImages(int n0, int n1) {
      if (PaddedGrid.pays(g)) {
        backwardDataOnGrid(n0, n1);
        return;
      }
      int patch = g.patchSize(), pixels = g.outputPixels();
      float[] col = columnBuffer(patch * pixels);
      for (int n = n0; n < n1; n++) {
        gemm.runSerialSharedA(
            filters,
            true,
            patch,
            pixels,
            g.f(),
            w,
            0,
            patch,
            dy,
            n * g.outputImageSize(),
            pixels,
            col,
            0,
            pixels);
        col2im(g, col, dx, n * g.inputPlaneSize());
      }
    }

    // dx_n = crop(col2im(wᵀ · spread(dy_n))) on the padded grid
    private void backwardDataOnGrid(int n0, int n1) {
      int patch = g.patchSize(), columns = PaddedGrid.columns(g);
      float[] col = columnBuffer(PaddedGrid.colSize(g));
      float[] xpad = buffer(PADDED, PaddedGrid.paddedSize(g));
      float[] grid = buffer(GRID, PaddedGrid.gridSize(g));
      for (int n = n0; n < n1; n++) {
        PaddedGrid.spread(g, dy, n * g.outputImageSize(), grid);
        if (PaddedGrid.direct(g)) { // the product's rows are the phase runs: written in place
          java.util.Arrays.fill(xpad, 0, PaddedGrid.paddedSize(g), 0f);
          gemm.runSerialSharedA(
              filters,
              true,
              patch,
              columns,
              g.f(),
              w,
              0,
              patch,
              grid,
              0,
              columns,
              xpad,
              PaddedGrid.patchStart(g),
              PaddedGrid.channelStride(g));
        } else {
          gemm.runSerialSharedA(
              filters, true, patch, columns, g.f(), w, 0, patch, grid, 0, columns, col, 0, columns);
          PaddedGrid.col2im(g, col, xpad);
        }
        PaddedGrid.crop(g, xpad, dx, n * g.inputPlaneSize());
      }
    }

    private void backwardFilterParts(int p0, int p1) {
      int patch = g.patchSize(), size = g.f() * patch;
      boolean onGrid = PaddedGrid.pays(g);
      int columns = onGrid ? PaddedGrid.columns(g) : g.outputPixels();
      float[] col = columnBuffer(onGrid ? PaddedGrid.colSize(g) : patch * columns);
      float[] xpad = onGrid ? buffer(PADDED, PaddedGrid.paddedSize(g)) : null;
      float[] grid = onGrid ? buffer(GRID, PaddedGrid.gridSize(g)) : null;
      for (int part = p0; part < p1; part++) {
        int from = (int) ((long) g.n() * part / parts);
        int to = (int) ((long) g.n() * (part + 1) / parts);
        if (!onGrid && group > 1) {
          backwardFilterGroups(from, to, part * size);
          continue;
        }
        for (int n = from; n < to; n++) {
          float[] a = col, b = dy;
          int aOff = 0, lda = columns, bOff = n * g.outputImageSize();
          if (onGrid) {
            PaddedGrid.pad(g, x, n * g.inputPlaneSize(), xpad);
            a = PaddedGrid.patches(g, xpad, col);
            aOff = PaddedGrid.patchOffset(g);
            lda = PaddedGrid.patchStride(g);
            PaddedGrid.spread(g, dy, bOff, grid);
            b = grid;
            bOff = 0;
          } else {
            im2col(g, x, n * g.inputPlaneSize(), col);
          }
          gemm.runSerial(
              false,
              true,
              patch,
              g.f(),
              columns,
              1f,
              a,
              aOff,
              lda,
              b,
              bOff,
              columns,
              n == from ? 0f : 1f,
              sums,
              part * size,
              g.f());
        }
      }
    }

    // dwᵀ (patch × f) at sumsOff = Σ over groups of [col_n …] · [dy_n …]ᵀ, images [from, to)
    private void backwardFilterGroups(int from, int to, int sumsOff) {
      int patch = g.patchSize(), pixels = g.outputPixels(), width = group * pixels;
      float[] col = columnBuffer(patch * width);
      float[] grads = buffer(GRID, g.f() * width);
      for (int first = from; first < to; first += group) {
        int count = Math.min(group, to - first), cols = count * pixels;
        for (int i = 0; i < count; i++) {
          im2col(g, x, (first + i) * g.inputPlaneSize(), col, i * pixels, cols);
        }
        gatherImages(dy, first, count, grads, cols);
        gemm.runSerial(
            false,
            true,
            patch,
            g.f(),
            cols,
            1f,
            col,
            0,
            cols,
            grads,
            0,
            cols,
            first == from ? 0f : 1f,
            sums,
            sumsOff,
            g.f());
      }
    }

    // dw (f × patch) of this part = Σ_n dy_n (f × pixels) · rows_n (pixels × patch)
    private void backwardFilterRowParts(int p0, int p1) {
      int patch = g.patchSize(), pixels = g.outputPixels(), size = g.f() * patch;
      // NR spare floats: the GEMM's last, partial column block is read in place, not copied.
      float[] rows = columnBuffer(pixels * patch + Gemm.NR);
      for (int part = p0; part < p1; part++) {
        int from = (int) ((long) g.n() * part / parts);
        int to = (int) ((long) g.n() * (part + 1) / parts);
        for (int n = from; n < to; n++) {
          im2row(g, x, n * g.inputPlaneSize(), rows);
          gemm.runSerial(
              false,
              false,
              g.f(),
              patch,
              pixels,
              1f,
              dy,
              n * g.outputImageSize(),
              pixels,
              rows,
              0,
              patch,
              n == from ? 0f : 1f,
              sums,
              part * size,
              patch);
        }
      }
    }
  }

  // col[(c·kh + i)·kw + j][oh·outW + ow] = x[c][oh·sh − padTop + i·dh][ow·sw − padLeft + j·dw]
  static void im2col(ConvGeometry g, float[] x, int xOff, float[] col) {
    im2col(g, x, xOff, col, 0, g.outputPixels());
  }

  // The same into columns [colOff, colOff + pixels) of a col matrix with rows of ld floats: one
  // image of a group multiplied in one product.
  static void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff, int ld) {
    if (PatchTable.applies(g)) {
      PatchTable.im2col(g, x, xOff, col, colOff, ld);
      return;
    }
    if (isValidUnitStride(g)) {
      im2colValid(g, x, xOff, col, colOff, ld);
      return;
    }
    if (isUndilatedStrided(g)) {
      im2colStrided(g, x, xOff, col, colOff, ld);
      return;
    }
    int row = 0;
    for (int c = 0; c < g.c(); c++) {
      int plane = xOff + c * g.h() * g.w();
      for (int i = 0; i < g.kh(); i++) {
        for (int j = 0; j < g.kw(); j++, row++) {
          int o = colOff + row * ld;
          for (int oh = 0; oh < g.outH(); oh++) {
            int r = oh * g.strideH() - g.padTop() + i * g.dilationH();
            int dst = o + oh * g.outW();
            if (r < 0 || r >= g.h()) {
              java.util.Arrays.fill(col, dst, dst + g.outW(), 0f);
              continue;
            }
            int src = plane + r * g.w();
            int c0 = j * g.dilationW() - g.padLeft();
            int sw = g.strideW(), outW = g.outW();
            // Columns cc = ow·sw + c0 inside the image: ow in [lo, hi). Zeros either side, then
            // one branch-free loop (a plain copy when sw = 1, which C2 vectorises): the per-pixel
            // bounds test here made im2col cost as much as the GEMM in a padded 3×3 conv.
            int lo = c0 >= 0 ? 0 : Math.min(outW, (-c0 + sw - 1) / sw);
            int hi = c0 >= g.w() ? lo : Math.max(lo, Math.min(outW, (g.w() - 1 - c0) / sw + 1));
            java.util.Arrays.fill(col, dst, dst + lo, 0f);
            if (sw == 1) {
              for (int ow = lo, from = src + c0; ow < hi; ow++) {
                col[dst + ow] = x[from + ow];
              }
            } else {
              for (int ow = lo, from = src + c0; ow < hi; ow++) {
                col[dst + ow] = x[from + ow * sw];
              }
            }
            java.util.Arrays.fill(col, dst + hi, dst + outW, 0f);
          }
        }
      }
    }
  }

  // rows[oh·outW + ow][(c·kh + i)·kw + j] = x[c][oh·sh − padTop + i·dh][ow·sw − padLeft + j·dw]:
  // im2col transposed, one row per output pixel.
  static void im2row(ConvGeometry g, float[] x, int xOff, float[] rows) {
    int patch = g.patchSize(), kw = g.kw(), dst = 0;
    if (isValidUnitStride(g)) { // one input row serves a whole row of output pixels
      int w = g.w(), outW = g.outW(), plane = g.h() * w;
      for (int oh = 0; oh < g.outH(); oh++) {
        for (int c = 0; c < g.c(); c++) {
          for (int i = 0; i < g.kh(); i++) {
            int src = xOff + c * plane + (oh + i) * w;
            int d = oh * outW * patch + (c * g.kh() + i) * kw;
            for (int ow = 0; ow < outW; ow++, d += patch) {
              for (int j = 0; j < kw; j++) {
                rows[d + j] = x[src + ow + j];
              }
            }
          }
        }
      }
      return;
    }
    for (int oh = 0; oh < g.outH(); oh++) {
      for (int ow = 0; ow < g.outW(); ow++, dst += patch) {
        int d = dst, c0 = ow * g.strideW() - g.padLeft();
        for (int c = 0; c < g.c(); c++) {
          int plane = xOff + c * g.h() * g.w();
          for (int i = 0; i < g.kh(); i++, d += kw) {
            int r = oh * g.strideH() - g.padTop() + i * g.dilationH();
            int src = plane + r * g.w() + c0;
            for (int j = 0; j < kw; j++) {
              int cc = c0 + j * g.dilationW();
              rows[d + j] =
                  r >= 0 && r < g.h() && cc >= 0 && cc < g.w() ? x[src + j * g.dilationW()] : 0f;
            }
          }
        }
      }
    }
  }

  /**
   * Strided along the rows (resnet's downsampling convolutions and 1 × 1 projections), without
   * dilation: the patches come from each input row's phases ({@link #im2colStrided}).
   */
  static boolean isUndilatedStrided(ConvGeometry g) {
    return g.strideW() >= 2 && g.dilationH() == 1 && g.dilationW() == 1;
  }

  // im2col at column stride sw: each input row is split once into its sw phases (columns ≡ 0, 1, …
  // mod sw, side by side), after which every patch row is a contiguous run of one phase, copied
  // in vectors (the strided gather of the general loop was 8.7 % of a resnet training step).
  private static void im2colStrided(
      ConvGeometry g, float[] x, int xOff, float[] col, int colOff, int ld) {
    int h = g.h(), w = g.w(), sw = g.strideW();
    float[] phases = buffer(PHASES, h * w);
    for (int c = 0; c < g.c(); c++) {
      int plane = xOff + c * h * w;
      for (int r = 0; r < h; r++) {
        for (int p = 0, dst = r * w; p < sw; p++) {
          for (int src = plane + r * w + p; src < plane + (r + 1) * w; src += sw) {
            phases[dst++] = x[src];
          }
        }
      }
      stridedPatches(g, c, col, colOff, ld, phases, false);
    }
  }

  // The adjoint of im2colStrided: patch rows added as contiguous runs into each input row's
  // phases, which are then interleaved back into dx (already zeroed by the caller).
  private static void col2imStrided(
      ConvGeometry g, float[] col, int colOff, int ld, float[] dx, int dxOff) {
    int h = g.h(), w = g.w(), sw = g.strideW();
    float[] phases = buffer(PHASES, h * w);
    for (int c = 0; c < g.c(); c++) {
      java.util.Arrays.fill(phases, 0, h * w, 0f);
      stridedPatches(g, c, col, colOff, ld, phases, true);
      int plane = dxOff + c * h * w;
      for (int r = 0; r < h; r++) {
        for (int p = 0, src = r * w; p < sw; p++) {
          for (int dst = plane + r * w + p; dst < plane + (r + 1) * w; dst += sw) {
            dx[dst] = phases[src++];
          }
        }
      }
    }
  }

  /**
   * Channel c's patch rows against its input rows split into phases (phases[r·w + …]: row r's
   * columns ≡ 0 mod sw, then ≡ 1, …): copied into col with zeros where a window leaves the input,
   * or, for the adjoint, added from col into the phases. Input column ow·sw + c0 of tap j is entry
   * ow + ⌊c0 / sw⌋ of phase c0 mod sw.
   */
  private static void stridedPatches(
      ConvGeometry g, int c, float[] col, int colOff, int ld, float[] phases, boolean adjoint) {
    int h = g.h(), w = g.w(), sw = g.strideW(), outW = g.outW();
    int row = c * g.kh() * g.kw();
    for (int i = 0; i < g.kh(); i++) {
      for (int j = 0; j < g.kw(); j++, row++) {
        int c0 = j - g.padLeft(), phase = Math.floorMod(c0, sw), start = Math.floorDiv(c0, sw);
        int length = (w - phase + sw - 1) / sw; // entries of this phase
        int phaseAt = phase * (w / sw) + Math.min(phase, w % sw); // its offset within a row
        int lo = Math.min(outW, Math.max(0, -start));
        int hi = Math.max(lo, Math.min(outW, length - start));
        int o = colOff + row * ld;
        for (int oh = 0; oh < g.outH(); oh++) {
          int r = oh * g.strideH() + i - g.padTop(), dst = o + oh * outW;
          int run = r * w + phaseAt + start + lo;
          if (adjoint) {
            if (r >= 0 && r < h) {
              addRow(col, dst + lo, phases, run, hi - lo);
            }
          } else if (r < 0 || r >= h) {
            java.util.Arrays.fill(col, dst, dst + outW, 0f);
          } else {
            java.util.Arrays.fill(col, dst, dst + lo, 0f);
            copyRow(phases, run, col, dst + lo, hi - lo);
            java.util.Arrays.fill(col, dst + hi, dst + outW, 0f);
          }
        }
      }
    }
  }

  /** Stride 1, no dilation, no padding: every patch row is an unclipped run of the input row. */
  static boolean isValidUnitStride(ConvGeometry g) {
    return g.strideH() == 1
        && g.strideW() == 1
        && g.dilationH() == 1
        && g.dilationW() == 1
        && g.padTop() == 0
        && g.padLeft() == 0
        && g.outH() + g.kh() - 1 <= g.h()
        && g.outW() + g.kw() - 1 <= g.w();
  }

  // The common case without clipping, its loop invariants hoisted: with 8-wide output rows (the
  // second layer of the MNIST CNNs) the general loop spent more time per row than copying it.
  private static void im2colValid(
      ConvGeometry g, float[] x, int xOff, float[] col, int colOff, int ld) {
    int w = g.w(), outH = g.outH(), outW = g.outW(), plane = g.h() * w, row = 0;
    for (int c = 0; c < g.c(); c++) {
      for (int i = 0; i < g.kh(); i++) {
        for (int j = 0; j < g.kw(); j++, row++) {
          int dst = colOff + row * ld;
          for (int oh = 0, src = xOff + c * plane + i * w + j; oh < outH; oh++, src += w) {
            copyRow(x, src, col, dst, outW);
            dst += outW;
          }
        }
      }
    }
  }

  private static void col2imValid(
      ConvGeometry g, float[] col, int colOff, int ld, float[] dx, int dxOff) {
    int w = g.w(), outH = g.outH(), outW = g.outW(), plane = g.h() * w, row = 0;
    for (int c = 0; c < g.c(); c++) {
      for (int i = 0; i < g.kh(); i++) {
        for (int j = 0; j < g.kw(); j++, row++) {
          int src = colOff + row * ld;
          for (int oh = 0, dst = dxOff + c * plane + i * w + j; oh < outH; oh++, dst += w) {
            addRow(col, src, dx, dst, outW);
            src += outW;
          }
        }
      }
    }
  }

  // The adjoint of im2col: dx is overwritten with the sum of every patch entry that read it.
  static void col2im(ConvGeometry g, float[] col, float[] dx, int dxOff) {
    col2im(g, col, 0, g.outputPixels(), dx, dxOff);
  }

  // The same from columns [colOff, colOff + pixels) of a col matrix with rows of ld floats.
  static void col2im(ConvGeometry g, float[] col, int colOff, int ld, float[] dx, int dxOff) {
    if (PatchTable.applies(g)) {
      PatchTable.col2im(g, col, colOff, ld, dx, dxOff);
      return;
    }
    java.util.Arrays.fill(dx, dxOff, dxOff + g.inputPlaneSize(), 0f);
    if (isValidUnitStride(g)) {
      col2imValid(g, col, colOff, ld, dx, dxOff);
      return;
    }
    if (isUndilatedStrided(g)) {
      col2imStrided(g, col, colOff, ld, dx, dxOff);
      return;
    }
    int row = 0, sw = g.strideW();
    for (int c = 0; c < g.c(); c++) {
      int plane = dxOff + c * g.h() * g.w();
      for (int i = 0; i < g.kh(); i++) {
        for (int j = 0; j < g.kw(); j++, row++) {
          int c0 = j * g.dilationW() - g.padLeft();
          // Output COLUMNS whose input column c0 + ow·sw lies inside [0, w).
          int owFrom = c0 >= 0 ? 0 : (-c0 + sw - 1) / sw;
          int owTo = Math.min(g.outW(), c0 >= g.w() ? 0 : (g.w() - 1 - c0) / sw + 1);
          for (int oh = 0; oh < g.outH(); oh++) {
            int r = oh * g.strideH() - g.padTop() + i * g.dilationH();
            if (r < 0 || r >= g.h()) {
              continue;
            }
            int src = colOff + row * ld + oh * g.outW(), dst = plane + r * g.w() + c0;
            if (sw == 1) {
              addRow(col, src + owFrom, dx, dst + owFrom, owTo - owFrom);
            } else {
              for (int ow = owFrom; ow < owTo; ow++) {
                dx[dst + ow * sw] += col[src + ow];
              }
            }
          }
        }
      }
    }
  }

  private static final VectorSpecies<Float> ROW = Vectors.ROW;

  // dst[d .. d + len) = src[s .. s + len)
  static void copyRow(float[] src, int s, float[] dst, int d, int len) {
    int i = 0;
    for (int bound = Vectors.loopBound(ROW, len); i < bound; i += ROW.length()) {
      FloatVector.fromArray(ROW, src, s + i).intoArray(dst, d + i);
    }
    for (; i < len; i++) {
      dst[d + i] = src[s + i];
    }
  }

  // dst[d .. d + len) += src[s .. s + len)
  static void addRow(float[] src, int s, float[] dst, int d, int len) {
    int i = 0;
    for (int bound = Vectors.loopBound(ROW, len); i < bound; i += ROW.length()) {
      FloatVector.fromArray(ROW, dst, d + i)
          .add(FloatVector.fromArray(ROW, src, s + i))
          .intoArray(dst, d + i);
    }
    for (; i < len; i++) {
      dst[d + i] += src[s + i];
    }
  }
}
