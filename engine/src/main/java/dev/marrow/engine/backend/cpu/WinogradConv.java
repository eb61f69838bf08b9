package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3 × 3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2015): each 2 × 2 block of outputs is computed
 * from a 4 × 4 tile of input as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 16 multiplies where the direct form takes
 * 36. Summed over input channels the element-wise products become 16 independent GEMMs,
 *
 * <pre>  M[ξ] (outC × tiles) = U[ξ] (outC × inC) · V[ξ] (inC × tiles),  ξ = 0 … 15</pre>
 *
 * with U the transformed filters and V the transformed input tiles, so the multiply work falls by
 * 2.25× (less where the output has odd or few rows) and the transforms are additions only. The
 * backward-data pass is the same convolution of dy with the filters turned 180° and their channel
 * axes swapped, at padding 2 − pad; the filter gradient is Gᵀ[Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B)]G, 16
 * accumulating GEMMs (outC × tiles) · (tiles × inC).
 *
 * <p>Layout. The input tile of output block (ty, tx) starts at padded row 2·ty and column 2·tx.
 * Each input plane is first split into its four polyphase planes (even/odd rows × even/odd columns,
 * each (tH + 1) × (tW + 1)), where the 16 values of every tile sit at the same 8 offsets from the
 * tile's index q = ty·(tW + 1) + tx. The transform is then plain vector arithmetic along q, which
 * is also the GEMM's column axis. The price is one column of tiles per row that no output uses
 * (1/(tW + 1) of the columns).
 *
 * <p>Numerics: B and A hold only 0 and ±1, G also ±½, so the transforms are exact up to rounding of
 * the sums; results differ from im2col + GEMM by a few units in the last place of the tile's sums
 * (the error bound is tested against the direct convolution). Forward and backward data compute
 * every image on one thread in a fixed order: bit-identical from run to run and for any thread
 * count. The filter gradient sums a fixed number of parts in order: bit-identical run to run.
 */
final class WinogradConv {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  /** Positions ξ of the 4 × 4 transformed tile: one GEMM each. */
  private static final int XI = 16;

  private static final VectorShuffle<Float> EVEN = Vectors.EVEN, ODD = Vectors.ODD;
  private static final VectorShuffle<Float> ZIP_LOW = Vectors.ZIP_LOW, ZIP_HIGH = Vectors.ZIP_HIGH;

  private static final ThreadLocal<float[]> FILTERS = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PHASES = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> TILES = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PRODUCTS = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> CHANNEL_MINOR =
      ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

  private final ThreadTeam team;
  private final Gemm gemm;

  WinogradConv(ThreadTeam team, Gemm gemm) {
    this.team = team;
    this.gemm = gemm;
  }

  /**
   * Whether this class can compute {@code g}: 3 × 3 filters, stride 1, no dilation, padding of at
   * most 2 on top and left (the backward pass pads by 2 − pad).
   */
  static boolean applies(ConvGeometry g) {
    return g.kh() == 3
        && g.kw() == 3
        && g.strideH() == 1
        && g.strideW() == 1
        && g.dilationH() == 1
        && g.dilationW() == 1
        && g.padTop() <= 2
        && g.padLeft() <= 2;
  }

  /**
   * Whether the backend routes {@code g}'s forward or backward-data pass here: it {@link #applies},
   * its products are at least {@link #MIN_DEPTH} channels deep ({@code depth}: c forward, f
   * backward; a shallow product spends more on the transforms than it saves), at least {@link
   * #MIN_TILE_USE} of the outputs its tiles compute are used, and {@code
   * -Dmarrow.cpu.winograd=false} is not set. WinogradBenchmark: 28 × 28 (93 % used) and 14 × 14 (88
   * %) run 1.2-1.6× faster than im2col + GEMM; 3 × 3 (38 %) loses 2-5×. 7 × 7 (61 %: a row and a
   * column of each tile's outputs past the edge) pays when images go through a block several at a
   * time with prepacked filters ({@code Call.group}, {@code Call.prepacked}) and both channel
   * counts are at least {@link #MIN_DEPTH_GROUPED}: 128 → 128 at batch 64, forward 5.9-6.6 ms
   * against im2col's 6.8-7.4, backward data likewise.
   */
  static boolean pays(ConvGeometry g, int depth) {
    return pays(g, depth, MIN_TILE_USE)
        || GROUPS
            && tiles(g) < GROUP_BELOW_TILES
            && Math.min(g.c(), g.f()) >= MIN_DEPTH_GROUPED
            && Math.max(g.c(), g.f()) <= PackedGemm.KC
            && pays(g, depth, MIN_TILE_USE_FILTER_GRADIENT);
  }

  // tiles of one image, with the spare column per row
  private static int tiles(ConvGeometry g) {
    return (g.outH() + 1) / 2 * ((g.outW() + 1) / 2 + 1);
  }

  /**
   * The same for the filter gradient, whose products are (f × tiles) · (tiles × c): both channel
   * counts must be deep enough, and 7 × 7 pays too (128 → 128 at batch 128: 13.8 ms against
   * im2col's 16.8).
   */
  static boolean paysForFilterGradient(ConvGeometry g) {
    return pays(g, Math.min(g.c(), g.f()), MIN_TILE_USE_FILTER_GRADIENT);
  }

  private static boolean pays(ConvGeometry g, int depth, double minTileUse) {
    if (!ENABLED || !applies(g) || depth < MIN_DEPTH) {
      return false;
    }
    return g.outputPixels() >= minTileUse * 4 * tiles(g);
  }

  private static final boolean ENABLED =
      Boolean.parseBoolean(System.getProperty("marrow.cpu.winograd", "true"));

  /** The filter gradient's input transformed channel-minor ({@code Call.channelMinor}). */
  private static final boolean CHANNEL_MINOR_INPUT =
      Boolean.parseBoolean(System.getProperty("marrow.cpu.winogradChannelMinor", "true"));

  /** Several small images per block of tiles ({@code Call.group}); a switch for measuring. */
  private static final boolean GROUPS =
      Boolean.parseBoolean(System.getProperty("marrow.cpu.winogradGroups", "true"));

  /**
   * Bytes of V (and of M) a block of tiles may take, forward and backward data ({@code
   * Call.block}): both then stay in L2 between the transform that writes them and the product that
   * reads them. Whole images at a time (224 columns at 28 × 28 × 32 channels, 1.8 MiB for V and M)
   * ran the input transform at the speed of L3.
   */
  static final int BLOCK_BYTES = 192 * 1024;

  /**
   * The same for the filter gradient, whose products sum over the block's tiles: four times as
   * much, a whole 28 × 28 image of 32 channels (210 tiles) in one block of 224 columns. resnet's 32
   * → 32 layer at batch 64, one JVM alternated over 10 rounds: 6.79 → 5.42 ms (twice the forward's:
   * 6.63 → 6.10).
   */
  static final int FILTER_GRADIENT_BLOCK_BYTES = 4 * BLOCK_BYTES;

  /** Fewest channels summed in a product for Winograd to pay. */
  static final int MIN_DEPTH = 16;

  /**
   * Images with fewer tiles than this go through a block several at a time ({@code Call.group},
   * sized by {@link ConvKernels#imagesPerGroup}): 7 × 7 outputs (20 tiles) and 14 × 14 (56), not 28
   * × 28 (210). On the AVX2 kind (16-column GEMM blocks) the 7 × 7 layers gain the most: 128 → 128
   * at batch 64 forward 10.6-12.2 → 6.3-6.6 ms. At 14 × 14 (64 → 64, batch 64, four alternations)
   * forward 5.37 → 5.11 ms, filter gradient 7.73 → 7.28 (the products' k, the tiles, twice as
   * long).
   */
  static final int GROUP_BELOW_TILES = 64;

  /**
   * Planes whose four phases have at most this many slots are split by a table (7 × 7: 168; the
   * split's share of the 128 → 128 filter gradient at batch 64 fell from 29 to 16 samples in JFR).
   */
  static final int TABLE_SPLIT_SLOTS = 256;

  /**
   * Fewest channels, in and out, for small images in groups ({@link #pays}). 64 since 7 × 7 planes
   * are split by a table: vgg's 64 → 128 at batch 128, Winograd against im2col in one JVM
   * alternated, forward / backward data 6.44 / 6.56 against 7.31 / 7.71 ms, on the AVX2 kind 9.95 /
   * 10.04 against 13.27 / 13.80.
   */
  static final int MIN_DEPTH_GROUPED = 64;

  /** Least share of the computed outputs that must be used for Winograd to pay. */
  static final double MIN_TILE_USE = 0.75;

  /** The same for the filter gradient. */
  static final double MIN_TILE_USE_FILTER_GRADIENT = 0.6;

  // x is (n, c, h, w), w is (f, c, 3, 3), y is (n, f, outH, outW); y = act(conv + bias)
  void forward(
      ConvGeometry g, float[] x, float[] w, float[] bias, Activation activation, float[] y) {
    Call c = CALLS.get();
    c.set(team.size(), BLOCK_BYTES, g);
    c.in = x;
    c.out = y;
    c.bias = bias;
    c.activation = activation;
    c.u = ConvKernels.buffer(FILTERS, XI * g.f() * g.c());
    c.w = w;
    c.flipped = false;
    run(c);
  }

  // dx (n, c, h, w) = Σ_f dy (n, f, outH, outW) ⋆ w[f][c] turned 180°, padded by 2 − pad
  void backwardData(ConvGeometry g, float[] w, float[] dy, float[] dx) {
    Call c = CALLS.get();
    c.set(
        team.size(),
        BLOCK_BYTES,
        g.n(),
        g.f(),
        g.outH(),
        g.outW(),
        g.c(),
        g.h(),
        g.w(),
        2 - g.padTop(),
        2 - g.padLeft());
    c.in = dy;
    c.out = dx;
    c.bias = null;
    c.activation = Activation.LINEAR;
    c.u = ConvKernels.buffer(FILTERS, XI * g.f() * g.c());
    c.w = w;
    c.flipped = true;
    run(c);
  }

  /**
   * dw (f, c, 3, 3) = beta·dw + Σ_n x_n ⋆ dy_n, as Gᵀ [Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B)] G: the
   * gradient of the transformed filters is a sum over tiles of the transformed output gradient
   * times the transformed input, again 16 GEMMs, (f × tiles) · (tiles × c). Each of a fixed number
   * of parts sums its images into its own partial, and the parts are added in order, as in im2col's
   * filter gradient: the result depends on the team's size, not on scheduling.
   */
  void backwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float beta) {
    Call c = CALLS.get();
    c.set(team.size(), FILTER_GRADIENT_BLOCK_BYTES, g);
    c.in = x;
    c.out = dy;
    c.w = dw;
    c.beta = beta;
    c.parts = Math.min(team.size(), g.n());
    c.channelMinor = CHANNEL_MINOR_INPUT && g.c() % L == 0;
    c.channelMinorGradient = CHANNEL_MINOR_INPUT && g.f() % L == 0 && Gemm.packs(g.f(), g.c());
    c.u = ConvKernels.buffer(FILTERS, c.parts * XI * g.f() * g.c());
    c.gemm = gemm;
    team.parallelFor(c.parts, 1, c.filterGradientParts);
    team.parallelFor(g.f(), 1, c.reduceFilterGradients);
    c.release();
  }

  private void run(Call c) {
    c.gemm = gemm;
    c.prepacked = c.group > 1 && c.outC >= Gemm.PACK_MIN_ROWS && c.inC <= PackedGemm.KC;
    if (c.prepacked) { // whole MR-row blocks, the rows past outC zero
      int rows = (c.outC + Gemm.MR - 1) / Gemm.MR * Gemm.MR;
      c.uPlane = rows * c.inC;
      c.u = ConvKernels.buffer(FILTERS, XI * c.uPlane);
      if (rows > c.outC) { // otherwise transformFilters writes every entry
        java.util.Arrays.fill(c.u, 0, XI * c.uPlane, 0f);
      }
    }
    team.parallelFor(c.outC, 1, c.transformFilters);
    if (c.group > 1) {
      team.parallelFor((c.n + c.group - 1) / c.group, 1, c.imageGroups);
    } else {
      team.parallelFor(c.n, 1, c.images);
    }
    c.release();
  }

  /**
   * One convolution in flight on one thread, as a convolution from {@code in} (n, inC, inH, inW) to
   * {@code out} (n, outC, outH, outW) whose output pixel (r, s) reads input rows r − padTop … r −
   * padTop + 2 and columns likewise (zero outside). Its loop bodies are built once, so a call
   * allocates nothing; team workers read the caller's fields.
   */
  private static final class Call {
    private Gemm gemm;
    private float[] in;
    private float[] out;
    private float[] w;
    private float[] u;
    private float[] bias;
    private Activation activation;

    /** w is read as the backward pass's filters: turned 180°, input and output channels swapped. */
    private boolean flipped;

    /** The filter gradient's beta, and its number of partial sums (one per part of the images). */
    private float beta;

    private int parts;

    private int n;
    private int inC;
    private int inH;
    private int inW;
    private int outC;
    private int outH;
    private int outW;
    private int padTop;
    private int padLeft;

    /** Tile rows and columns, the polyphase planes' row length tW + 1, and tiles per image. */
    private int tH;

    private int tW;
    private int stride;
    private int perImage;

    /** Floats of one polyphase plane, with a vector's slack for the transform's last loads. */
    private int planeSize;

    /**
     * Tiles transformed and multiplied at a time, whole GEMM column blocks: V's and M's share of a
     * block (16 × channels × block floats each) within {@link #BLOCK_BYTES} ({@link
     * #FILTER_GRADIENT_BLOCK_BYTES} for the filter gradient).
     */
    private int block;

    /**
     * Images whose tiles go through one block together: 1, unless an image has fewer tiles than a
     * GEMM column block (7 × 7 outputs: 20). Products of 128 × 128 by 20 (of 32) columns ran the
     * GEMM far below its peak and re-read the 64 KiB of each transformed filter per image.
     */
    private int group;

    /**
     * The transformed filters are written in the GEMM's packed layout and multiplied without
     * repacking ({@link Gemm#runSerialPrepackedA}): for image groups of deep layers, where each
     * block of tiles would otherwise pack all 16 of them again. Forward and backward data only.
     */
    private boolean prepacked;

    /**
     * The filter gradient's transformed input is laid out tile-major, v[ξ][column][channel], so
     * that its GEMM reads it as it lies: whole vectors of channels, where v[ξ][channel][column] had
     * to be transposed while packing (a fifth to a third of the pass at resnet's shapes). The
     * input's planes are transposed instead, before the transform: 4 · planeSize floats a channel
     * against the transform's 16 · perImage. Where inC is a whole number of vectors.
     */
    private boolean channelMinor;

    /**
     * The same for the transformed output gradient, ŷ[ξ][column][o]: the packed GEMM's row blocks
     * of A are then eight (four) neighbouring floats of a row, copied as one vector, where rows of
     * ŷ[ξ][o][·] were interleaved float by float. Where outC is whole vectors and the products go
     * through the packed GEMM ({@link Gemm#packs}); the small one reads A as it lies either way.
     */
    private boolean channelMinorGradient;

    /** Floats from one ξ's transformed filters to the next. */
    private int uPlane;

    /** Row length of V and M: a block's columns and a vector of slack for the transforms. */
    private int ld;

    /**
     * Distance between the ξ blocks of V and of M: whole 4 KiB pages plus one 64-byte line. At a
     * multiple of 4 KiB (32 channels × 224 columns is 7 pages) the transforms' 16 streams fall into
     * the same L1 sets and evict one another; the stores of the input transform then cost more than
     * the GEMMs.
     */
    private int vStride;

    private int mStride;

    /**
     * {@link #phaseTable}s of the input's planes and of the output gradient's, for planes of at
     * most {@link #TABLE_SPLIT_SLOTS} phase slots (null above).
     */
    private int[] inputPhases;

    private int[] gradientPhases;

    /** {@link #pixelTable}, with the phase tables (null without). */
    private int[] outputPixels;

    private final ThreadTeam.RangeBody transformFilters = this::transformFilters;
    private final ThreadTeam.RangeBody images = this::images;
    private final ThreadTeam.RangeBody imageGroups = this::imageGroups;
    private final ThreadTeam.RangeBody filterGradientParts = this::filterGradientParts;
    private final ThreadTeam.RangeBody reduceFilterGradients = this::reduceFilterGradients;

    // g's own convolution, x → y (forward and filter gradient)
    void set(int threads, int blockBytes, ConvGeometry g) {
      set(
          threads,
          blockBytes,
          g.n(),
          g.c(),
          g.h(),
          g.w(),
          g.f(),
          g.outH(),
          g.outW(),
          g.padTop(),
          g.padLeft());
    }

    void set(
        int threads,
        int blockBytes,
        int n,
        int inC,
        int inH,
        int inW,
        int outC,
        int outH,
        int outW,
        int padTop,
        int padLeft) {
      this.n = n;
      this.inC = inC;
      this.inH = inH;
      this.inW = inW;
      this.outC = outC;
      this.outH = outH;
      this.outW = outW;
      this.padTop = padTop;
      this.padLeft = padLeft;
      tH = (outH + 1) / 2;
      tW = (outW + 1) / 2;
      stride = tW + 1;
      perImage = tH * stride;
      planeSize = (tH + 1) * stride + 1 + L;
      int budget = blockBytes / (4 * XI * Math.max(inC, outC)); // floats per column of V or M
      block =
          Math.max(
              Gemm.NR, Math.min(budget / Gemm.NR, roundUp(perImage, Gemm.NR) / Gemm.NR) * Gemm.NR);
      group = 1;
      if (GROUPS && perImage < GROUP_BELOW_TILES) {
        group = ConvKernels.imagesPerGroup(n, perImage, threads);
        block = roundUp(group * perImage, Gemm.NR);
      }
      prepacked = false;
      if (4 * planeSize <= TABLE_SPLIT_SLOTS) {
        inputPhases = phaseTable(inH, inW, padTop, padLeft, inputPhases);
        gradientPhases = phaseTable(outH, outW, 0, 0, gradientPhases);
        outputPixels = pixelTable(outputPixels);
      } else {
        inputPhases = gradientPhases = outputPixels = null;
      }
      uPlane = outC * inC;
      ld = block + L;
      vStride = blockStride(inC * ld);
      mStride = blockStride(outC * ld);
    }

    void release() {
      gemm = null;
      in = out = w = bias = null;
      activation = null;
    }

    private static int blockStride(int floats) {
      return roundUp(floats, 1024) + 16;
    }

    private static int roundUp(int x, int to) {
      return (x + to - 1) / to * to;
    }

    // u[ξ][o][i] = (G g Gᵀ)[ξ] for output channel o in [o0, o1) and every input channel i
    private void transformFilters(int o0, int o1) {
      for (int o = o0; o < o1; o++) {
        for (int i = 0; i < inC; i++) {
          // forward: w[o][i]; backward data: w[i][o] turned 180° (tap (r, s) reads (2 − r, 2 − s))
          int base = flipped ? (i * outC + o) * 9 : (o * inC + i) * 9;
          float g00 = tap(base, 0, 0), g01 = tap(base, 0, 1), g02 = tap(base, 0, 2);
          float g10 = tap(base, 1, 0), g11 = tap(base, 1, 1), g12 = tap(base, 1, 2);
          float g20 = tap(base, 2, 0), g21 = tap(base, 2, 1), g22 = tap(base, 2, 2);
          // G g has rows g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2; each is then combined the
          // same way along its three taps.
          int at = prepacked ? PackedGemm.packedIndex(o, i, inC) : o * inC + i;
          transformRow(0, at, g00, g01, g02);
          transformRow(
              1, at, 0.5f * (g00 + g10 + g20), 0.5f * (g01 + g11 + g21), 0.5f * (g02 + g12 + g22));
          transformRow(
              2, at, 0.5f * (g00 - g10 + g20), 0.5f * (g01 - g11 + g21), 0.5f * (g02 - g12 + g22));
          transformRow(3, at, g20, g21, g22);
        }
      }
    }

    // u[4r + j][at] = (row r of G g) Gᵀ, j = 0 … 3 (at: o·inC + i, or the packed index of (o, i))
    private void transformRow(int r, int at, float a, float b, float c) {
      int plane = uPlane;
      u[(4 * r) * plane + at] = a;
      u[(4 * r + 1) * plane + at] = 0.5f * (a + b + c);
      u[(4 * r + 2) * plane + at] = 0.5f * (a - b + c);
      u[(4 * r + 3) * plane + at] = c;
    }

    private float tap(int base, int r, int s) {
      return flipped ? w[base + (2 - r) * 3 + (2 - s)] : w[base + r * 3 + s];
    }

    // groups [g0, g1) of `group` images: each image split and transformed into its own columns
    // of one block (image i's tile q at column i·perImage + q), 16 products over the whole block,
    // then each image's inverse transform
    private void imageGroups(int g0, int g1) {
      int planes = 4 * planeSize, phase = perImage + L;
      float[] split = ConvKernels.buffer(PHASES, inC * planes + 2 * stride + 2 * L);
      float[] v = ConvKernels.buffer(TILES, XI * vStride);
      float[] m = ConvKernels.buffer(PRODUCTS, XI * mStride + outC * 4 * phase);
      int outPhases = XI * mStride;
      for (int grp = g0; grp < g1; grp++) {
        int first = grp * group, count = Math.min(group, n - first);
        for (int i = 0; i < count; i++) { // in order: each image's last vector runs into the next
          int inOff = (first + i) * inC * inH * inW;
          for (int ch = 0; ch < inC; ch++) {
            split(in, inOff + ch * inH * inW, split, ch * planes, inC * planes);
          }
          for (int ch = 0; ch < inC; ch++) {
            transformInput(split, ch * planes, 0, perImage, v, ch * ld + i * perImage);
          }
        }
        multiply(v, m, roundUp(count * perImage, Gemm.NR));
        for (int i = 0; i < count; i++) {
          int outOff = (first + i) * outC * outH * outW;
          for (int o = 0; o < outC; o++) {
            transformOutput(m, o * ld + i * perImage, 0, perImage, m, outPhases + o * 4 * phase);
          }
          writeOutput(m, outPhases, outOff);
        }
      }
    }

    // images [n0, n1): split, then per block of tiles transform, 16 products, inverse transform
    private void images(int n0, int n1) {
      int planes = 4 * planeSize, phase = perImage + L;
      float[] split =
          ConvKernels.buffer(PHASES, inC * planes + 2 * stride + 2 * L); // + a staged input row
      float[] v = ConvKernels.buffer(TILES, XI * vStride);
      float[] m = ConvKernels.buffer(PRODUCTS, XI * mStride + outC * 4 * phase);
      int outPhases = XI * mStride; // each output channel's four output planes follow M
      for (int img = n0; img < n1; img++) {
        int inOff = img * inC * inH * inW, outOff = img * outC * outH * outW;
        for (int ch = 0; ch < inC; ch++) {
          split(in, inOff + ch * inH * inW, split, ch * planes, inC * planes);
        }
        for (int q0 = 0; q0 < perImage; q0 += block) {
          int q1 = Math.min(perImage, q0 + block);
          for (int ch = 0; ch < inC; ch++) {
            transformInput(split, ch * planes, q0, q1, v, ch * ld);
          }
          multiply(v, m, roundUp(q1 - q0, Gemm.NR)); // whole column blocks: the extra are junk
          for (int o = 0; o < outC; o++) {
            transformOutput(m, o * ld, q0, q1, m, outPhases + o * 4 * phase);
          }
        }
        writeOutput(m, outPhases, outOff);
      }
    }

    // m[ξ] (outC × cols) = u[ξ] (outC × inC) · v[ξ] (inC × cols), ξ = 0 … 15
    private void multiply(float[] v, float[] m, int cols) {
      for (int xi = 0; xi < XI; xi++) {
        if (prepacked) {
          gemm.runSerialPrepackedA(
              outC, cols, inC, u, xi * uPlane, v, xi * vStride, ld, m, xi * mStride, ld);
        } else {
          gemm.runSerial(
              false,
              false,
              outC,
              cols,
              inC,
              1f,
              u,
              xi * uPlane,
              inC,
              v,
              xi * vStride,
              ld,
              0f,
              m,
              xi * mStride,
              ld);
        }
      }
    }

    // out[image at outOff] = act(interleaved output phases (at outPhases in m) + bias)
    private void writeOutput(float[] m, int outPhases, int outOff) {
      int phase = perImage + L;
      for (int o = 0; o < outC; o++) {
        int plane = outOff + o * outH * outW;
        if (outputPixels != null) {
          interleaveByTable(m, outPhases + o * 4 * phase, out, plane);
        } else {
          interleave(m, outPhases + o * 4 * phase, out, plane, outOff + outC * outH * outW);
        }
        if (bias != null || activation != Activation.LINEAR) {
          ElementwiseKernels.biasActivate(
              activation, out, plane, outH * outW, null, 0, bias == null ? 0f : bias[o]);
        }
      }
    }

    // u[part] (16 × outC × inC) = Σ over the part's images and tiles of Ŷ[ξ] · V[ξ]ᵀ, where Ŷ is
    // the transformed output gradient (in: x, out: dy)
    private void filterGradientParts(int p0, int p1) {
      int planes = 4 * planeSize, staged = (inC + outC) * planes;
      float[] split = ConvKernels.buffer(PHASES, staged + 2 * stride + 2 * L);
      float[] v = ConvKernels.buffer(TILES, XI * vStride);
      float[] grads = ConvKernels.buffer(PRODUCTS, XI * mStride);
      for (int part = p0; part < p1; part++) {
        int from = (int) ((long) n * part / parts), to = (int) ((long) n * (part + 1) / parts);
        int sums = part * XI * outC * inC;
        boolean first = true;
        for (int img = from; img < to && group > 1; img += group) {
          int count = Math.min(group, to - img);
          for (int i = 0; i < count; i++) { // image i's tiles at columns i·perImage + q, in order
            splitImage(img + i, split, planes, staged);
            transformImageInput(split, planes, 0, perImage, v, i * perImage);
            transformImageGradient(split, planes, 0, perImage, grads, i * perImage);
          }
          accumulate(grads, v, count * perImage, first, sums);
          first = false;
        }
        for (int img = from; img < to && group == 1; img++) {
          splitImage(img, split, planes, staged);
          for (int q0 = 0; q0 < perImage; q0 += block) {
            int q1 = Math.min(perImage, q0 + block);
            transformImageInput(split, planes, q0, q1, v, 0);
            transformImageGradient(split, planes, q0, q1, grads, 0);
            accumulate(grads, v, q1 - q0, first, sums);
            first = false;
          }
        }
      }
    }

    // v[ξ] at column `column` on: the transformed tiles [q0, q1) of the image split at `split`
    // (its input channels' planes first), channel-major or channel-minor ({@link #channelMinor})
    private void transformImageInput(
        float[] split, int planes, int q0, int q1, float[] v, int column) {
      if (channelMinor) {
        float[] t = ConvKernels.buffer(CHANNEL_MINOR, planes * Math.max(inC, outC));
        transposeChannels(split, 0, inC, planes, t);
        transformInput(t, 0, q0 * inC, q1 * inC, v, column * inC, inC);
      } else {
        for (int ch = 0; ch < inC; ch++) {
          transformInput(split, ch * planes, q0, q1, v, ch * ld + column);
        }
      }
    }

    // ŷ[ξ] at column `column` on, likewise from the output gradient's planes after the input's
    private void transformImageGradient(
        float[] split, int planes, int q0, int q1, float[] grads, int column) {
      if (channelMinorGradient) {
        float[] t = ConvKernels.buffer(CHANNEL_MINOR, planes * Math.max(inC, outC));
        transposeChannels(split, inC * planes, outC, planes, t);
        transformGradient(t, 0, q0 * outC, q1 * outC, grads, column * outC, outC);
      } else {
        for (int o = 0; o < outC; o++) {
          transformGradient(split, (inC + o) * planes, q0, q1, grads, o * ld + column);
        }
      }
    }

    // t[slot·channels + ch] = split[first + ch·planes + slot]
    private static void transposeChannels(
        float[] split, int first, int channels, int planes, float[] t) {
      Gemm.transposeRows(split, first, planes, 0, channels, planes, t, 0, channels);
    }

    // u[sums + ξ] (outC × inC) = (first ? 0 : u[sums + ξ]) + ŷ[ξ] (outC × k) · v[ξ]ᵀ (k × inC),
    // v[ξ]ᵀ read as it lies when channel-minor (rows of inC), else transposed (v[ξ]'s rows of ld);
    // ŷ[ξ] transposed when channel-minor (rows of outC)
    private void accumulate(float[] grads, float[] v, int k, boolean first, int sums) {
      for (int xi = 0; xi < XI; xi++) {
        gemm.runSerial(
            channelMinorGradient,
            !channelMinor,
            outC,
            inC,
            k,
            1f,
            grads,
            xi * mStride,
            channelMinorGradient ? outC : ld,
            v,
            xi * vStride,
            channelMinor ? inC : ld,
            first ? 0f : 1f,
            u,
            sums + xi * outC * inC,
            inC);
      }
    }

    // the planes of image img's input channels, then of its output gradient's channels (zero past
    // dy's edge and in the spare column)
    private void splitImage(int img, float[] split, int planes, int staged) {
      int inOff = img * inC * inH * inW, outOff = img * outC * outH * outW;
      for (int ch = 0; ch < inC; ch++) {
        split(in, inOff + ch * inH * inW, split, ch * planes, staged);
      }
      for (int o = 0; o < outC; o++) {
        if (gradientPhases != null) {
          splitByTable(out, outOff + o * outH * outW, gradientPhases, split, (inC + o) * planes);
        } else {
          split(out, outOff + o * outH * outW, outH, outW, 0, 0, split, (inC + o) * planes, staged);
        }
      }
    }

    /**
     * ŷ[ξ][·][at + q] = (A dy Aᵀ)[ξ] of the 2 × 2 output-gradient block of tile q, from dy's four
     * polyphase planes. A = [1 0; 1 1; 1 −1; 0 −1]: a block's rows (r0, r1) become r0, r0 + r1, r0
     * − r1, −r1, and each row's two entries (c0, c1) likewise c0, c0 + c1, c0 − c1, −c1.
     */
    private void transformGradient(float[] p, int planes, int q0, int q1, float[] y, int at) {
      transformGradient(p, planes, q0, q1, y, at, 1);
    }

    // The same on planes whose neighbouring slots are `unit` floats apart (see transformInput)
    private void transformGradient(
        float[] p, int planes, int q0, int q1, float[] y, int at, int unit) {
      int ee = planes, eo = ee + planeSize * unit, oe = eo + planeSize * unit;
      int oo = oe + planeSize * unit;
      int xiStride = mStride;
      at -= q0;
      for (int q = q0; q < q1; q += L) {
        FloatVector e0 = FloatVector.fromArray(S, p, ee + q),
            o0 = FloatVector.fromArray(S, p, eo + q);
        FloatVector e1 = FloatVector.fromArray(S, p, oe + q),
            o1 = FloatVector.fromArray(S, p, oo + q);
        int i = at + q;
        // row 0: (e0, o0)
        e0.intoArray(y, i);
        e0.add(o0).intoArray(y, i + xiStride);
        e0.sub(o0).intoArray(y, i + 2 * xiStride);
        o0.neg().intoArray(y, i + 3 * xiStride);
        // row 3: (−e1, −o1)
        e1.neg().intoArray(y, i + 12 * xiStride);
        e1.add(o1).neg().intoArray(y, i + 13 * xiStride);
        o1.sub(e1).intoArray(y, i + 14 * xiStride);
        o1.intoArray(y, i + 15 * xiStride);
        // rows 1 and 2: (e0 ± e1, o0 ± o1)
        FloatVector c0 = e0.add(e1), c1 = o0.add(o1);
        c0.intoArray(y, i + 4 * xiStride);
        c0.add(c1).intoArray(y, i + 5 * xiStride);
        c0.sub(c1).intoArray(y, i + 6 * xiStride);
        c1.neg().intoArray(y, i + 7 * xiStride);
        c0 = e0.sub(e1);
        c1 = o0.sub(o1);
        c0.intoArray(y, i + 8 * xiStride);
        c0.add(c1).intoArray(y, i + 9 * xiStride);
        c0.sub(c1).intoArray(y, i + 10 * xiStride);
        c1.neg().intoArray(y, i + 11 * xiStride);
      }
    }

    // dw[o][·] = beta·dw + Gᵀ (Σ_part u[part][·][o][·]) G for output channels [o0, o1)
    private void reduceFilterGradients(int o0, int o1) {
      float[] s = ConvKernels.buffer(SUMS, XI);
      int size = outC * inC;
      for (int o = o0; o < o1; o++) {
        for (int i = 0; i < inC; i++) {
          int at = o * inC + i;
          for (int xi = 0; xi < XI; xi++) {
            float sum = 0f;
            for (int part = 0; part < parts; part++) {
              sum += u[(part * XI + xi) * size + at];
            }
            s[xi] = sum;
          }
          // Gᵀ u with Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1], down the columns of s (ξ = 4r + j), in
          // place into rows 0 … 2, then the same along those rows
          for (int j = 0; j < 4; j++) {
            float u0 = s[j], u1 = s[4 + j], u2 = s[8 + j], u3 = s[12 + j];
            s[j] = u0 + 0.5f * (u1 + u2);
            s[4 + j] = 0.5f * (u1 - u2);
            s[8 + j] = 0.5f * (u1 + u2) + u3;
          }
          int base = at * 9;
          for (int r = 0; r < 3; r++) {
            float u0 = s[4 * r], u1 = s[4 * r + 1], u2 = s[4 * r + 2], u3 = s[4 * r + 3];
            store(base + 3 * r, u0 + 0.5f * (u1 + u2));
            store(base + 3 * r + 1, 0.5f * (u1 - u2));
            store(base + 3 * r + 2, 0.5f * (u1 + u2) + u3);
          }
        }
      }
    }

    private void store(int at, float gradient) {
      w[at] = beta == 0 ? gradient : beta * w[at] + gradient;
    }

    /**
     * The four polyphase planes of one zero-padded input plane: phases[(2·(R mod 2) + (C mod 2))·
     * planeSize + ⌊R/2⌋·stride + ⌊C/2⌋] = x[R − padTop][C − padLeft] for padded row R in [0, 2·tH +
     * 2) and column C in [0, 2·tW + 2), zero outside the input and in each plane's slack.
     */
    private void split(float[] x, int xOff, float[] phases, int at, int staged) {
      if (inputPhases != null) {
        splitByTable(x, xOff, inputPhases, phases, at);
        return;
      }
      split(x, xOff, inH, inW, padTop, padLeft, phases, at, staged);
    }

    /**
     * Where each slot of the four polyphase planes of a plane of h × w read from row −top and
     * column −left comes from: its offset in the plane, or −1 (zero: padding, the spare column and
     * the slack).
     */
    private int[] phaseTable(int h, int w, int top, int left, int[] reuse) {
      int slots = 4 * planeSize;
      int[] table = reuse != null && reuse.length >= slots ? reuse : new int[slots];
      java.util.Arrays.fill(table, 0, slots, -1);
      for (int r = 0; r < 2 * tH + 2; r++) {
        for (int c = 0; c < 2 * tW + 2; c++) {
          int row = r - top, col = c - left;
          if (row >= 0 && row < h && col >= 0 && col < w) {
            int phase = 2 * (r & 1) + (c & 1);
            table[phase * planeSize + (r >> 1) * stride + (c >> 1)] = row * w + col;
          }
        }
      }
      return table;
    }

    // Small planes: every slot of the four phases by the table, one load and store each. The
    // row-by-row split below costs a staging copy and two shuffles per 7-float row of a 7 × 7
    // plane, which made it a fifth of the filter gradient there.
    private void splitByTable(float[] x, int xOff, int[] table, float[] phases, int at) {
      for (int i = 0, slots = 4 * planeSize; i < slots; i++) {
        int s = table[i];
        phases[at + i] = s < 0 ? 0f : x[xOff + s];
      }
    }

    // The same for a plane of h × w read from row −top and column −left (the gradient's dy: 0, 0)
    private void split(
        float[] x, int xOff, int h, int w, int top, int left, float[] phases, int at, int staged) {
      // Each input row is staged at left in a zeroed row of padded width, so that the
      // deinterleave below loads whole vectors without bounds (masked loads cost 3× as much).
      int width = 2 * stride + 2 * L, copied = Math.max(0, Math.min(w, width - left));
      java.util.Arrays.fill(phases, staged, staged + width, 0f);
      FloatVector zero = FloatVector.zero(S);
      for (int r = 0; r < 2 * tH + 2; r++) {
        // Whole vectors: a row's last store runs into the next row (written after it) or into
        // the plane's slack (cleared below).
        int even = at + (2 * (r & 1)) * planeSize + (r >> 1) * stride, odd = even + planeSize;
        int src = r - top;
        if (src < 0 || src >= h) {
          for (int j = 0; j < stride; j += L) {
            zero.intoArray(phases, even + j);
            zero.intoArray(phases, odd + j);
          }
          continue;
        }
        System.arraycopy(x, xOff + src * w, phases, staged + left, copied);
        for (int j = 0; j < stride; j += L) { // padded columns [2j, 2j + 2L)
          FloatVector a = FloatVector.fromArray(S, phases, staged + 2 * j);
          FloatVector b = FloatVector.fromArray(S, phases, staged + 2 * j + L);
          a.rearrange(EVEN, b).intoArray(phases, even + j);
          a.rearrange(ODD, b).intoArray(phases, odd + j);
        }
      }
      for (int p = 0; p < 4; p++) {
        int end = at + p * planeSize + planeSize;
        java.util.Arrays.fill(phases, end - 1 - L, end, 0f);
      }
    }

    /**
     * v[ξ][·][at + q] = (Bᵀ d B)[ξ] of the tile at index q, for q in [0, perImage) in whole vectors
     * (the last may write past this image's columns). Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
     */
    private void transformInput(float[] p, int planes, int q0, int q1, float[] v, int at) {
      transformInput(p, planes, q0, q1, v, at, 1);
    }

    /**
     * The same on planes whose neighbouring slots are {@code unit} floats apart: 1 for one
     * channel's planes (lanes: consecutive tiles), inC for the channel-minor planes of {@link
     * #transposeChannels} (lanes: consecutive channels of one tile, q0 and q1 then counting floats,
     * tile · inC + channel, and v's columns inC floats apart likewise).
     */
    private void transformInput(
        float[] p, int planes, int q0, int q1, float[] v, int at, int unit) {
      int ee = planes, eo = ee + planeSize * unit, oe = eo + planeSize * unit;
      int oo = oe + planeSize * unit;
      int xiStride = vStride, s = stride * unit, u = unit;
      at -= q0;
      for (int q = q0; q < q1; q += L) {
        // d[r][j]: tile row r from the row-parity planes, shifted one plane row for r ≥ 2;
        // columns 0, 2 from the even plane at q, q + 1, columns 1, 3 from the odd one.
        FloatVector d00 = FloatVector.fromArray(S, p, ee + q);
        FloatVector d01 = FloatVector.fromArray(S, p, eo + q);
        FloatVector d02 = FloatVector.fromArray(S, p, ee + q + u);
        FloatVector d03 = FloatVector.fromArray(S, p, eo + q + u);
        FloatVector d10 = FloatVector.fromArray(S, p, oe + q);
        FloatVector d11 = FloatVector.fromArray(S, p, oo + q);
        FloatVector d12 = FloatVector.fromArray(S, p, oe + q + u);
        FloatVector d13 = FloatVector.fromArray(S, p, oo + q + u);
        FloatVector d20 = FloatVector.fromArray(S, p, ee + q + s);
        FloatVector d21 = FloatVector.fromArray(S, p, eo + q + s);
        FloatVector d22 = FloatVector.fromArray(S, p, ee + q + s + u);
        FloatVector d23 = FloatVector.fromArray(S, p, eo + q + s + u);
        // Bᵀ d row by row (t1 = d1 + d2, t2 = d2 − d1, t0 = d0 − d2, t3 = d1 − d3), each row then
        // combined the same way along its columns. Written out, not through a helper taking
        // vectors: where C2 declined to inline such a helper its arguments were boxed (1.2 MB of
        // garbage per step of a small CNN, and the transform ran at a fraction of its speed).
        int at1 = at + q, at2 = at1 + 4 * xiStride, at3 = at2 + 4 * xiStride;
        FloatVector t0 = d10.add(d20), t1 = d11.add(d21), t2 = d12.add(d22), t3 = d13.add(d23);
        t0.sub(t2).intoArray(v, at2);
        t1.add(t2).intoArray(v, at2 + xiStride);
        t2.sub(t1).intoArray(v, at2 + 2 * xiStride);
        t1.sub(t3).intoArray(v, at2 + 3 * xiStride);
        t0 = d20.sub(d10);
        t1 = d21.sub(d11);
        t2 = d22.sub(d12);
        t3 = d23.sub(d13);
        t0.sub(t2).intoArray(v, at3);
        t1.add(t2).intoArray(v, at3 + xiStride);
        t2.sub(t1).intoArray(v, at3 + 2 * xiStride);
        t1.sub(t3).intoArray(v, at3 + 3 * xiStride);
        t0 = d00.sub(d20);
        t1 = d01.sub(d21);
        t2 = d02.sub(d22);
        t3 = d03.sub(d23);
        t0.sub(t2).intoArray(v, at1);
        t1.add(t2).intoArray(v, at1 + xiStride);
        t2.sub(t1).intoArray(v, at1 + 2 * xiStride);
        t1.sub(t3).intoArray(v, at1 + 3 * xiStride);
        int at4 = at3 + 4 * xiStride;
        t0 = d10.sub(FloatVector.fromArray(S, p, oe + q + s));
        t1 = d11.sub(FloatVector.fromArray(S, p, oo + q + s));
        t2 = d12.sub(FloatVector.fromArray(S, p, oe + q + s + u));
        t3 = d13.sub(FloatVector.fromArray(S, p, oo + q + s + u));
        t0.sub(t2).intoArray(v, at4);
        t1.add(t2).intoArray(v, at4 + xiStride);
        t2.sub(t1).intoArray(v, at4 + 2 * xiStride);
        t1.sub(t3).intoArray(v, at4 + 3 * xiStride);
      }
    }

    /**
     * The 2 × 2 outputs Aᵀ m A of every tile of one image and output channel, from m[ξ][·][at + q],
     * into four planes at {@code dst}: (row parity, column parity) each perImage + L long. Aᵀ = [1
     * 1 1 0; 0 1 −1 −1].
     */
    private void transformOutput(float[] m, int at, int q0, int q1, float[] y, int dst) {
      int xiStride = mStride, plane = perImage + L;
      for (int q = q0; q < q1; q += L) {
        int i = at + q - q0;
        // Aᵀ m: row 0 = m0 + m1 + m2, row 1 = m1 − m2 − m3, column j by column (ξ = 4r + j)
        FloatVector m1 = FloatVector.fromArray(S, m, i + 4 * xiStride);
        FloatVector m2 = FloatVector.fromArray(S, m, i + 8 * xiStride);
        FloatVector a0 = FloatVector.fromArray(S, m, i).add(m1).add(m2);
        FloatVector b0 = m1.sub(m2).sub(FloatVector.fromArray(S, m, i + 12 * xiStride));
        m1 = FloatVector.fromArray(S, m, i + 5 * xiStride);
        m2 = FloatVector.fromArray(S, m, i + 9 * xiStride);
        FloatVector a1 = FloatVector.fromArray(S, m, i + xiStride).add(m1).add(m2);
        FloatVector b1 = m1.sub(m2).sub(FloatVector.fromArray(S, m, i + 13 * xiStride));
        m1 = FloatVector.fromArray(S, m, i + 6 * xiStride);
        m2 = FloatVector.fromArray(S, m, i + 10 * xiStride);
        FloatVector a2 = FloatVector.fromArray(S, m, i + 2 * xiStride).add(m1).add(m2);
        FloatVector b2 = m1.sub(m2).sub(FloatVector.fromArray(S, m, i + 14 * xiStride));
        m1 = FloatVector.fromArray(S, m, i + 7 * xiStride);
        m2 = FloatVector.fromArray(S, m, i + 11 * xiStride);
        FloatVector a3 = FloatVector.fromArray(S, m, i + 3 * xiStride).add(m1).add(m2);
        FloatVector b3 = m1.sub(m2).sub(FloatVector.fromArray(S, m, i + 15 * xiStride));
        // (Aᵀ m) A: the same combination along each row
        a0.add(a1).add(a2).intoArray(y, dst + q);
        a1.sub(a2).sub(a3).intoArray(y, dst + plane + q);
        b0.add(b1).add(b2).intoArray(y, dst + 2 * plane + q);
        b1.sub(b2).sub(b3).intoArray(y, dst + 3 * plane + q);
      }
    }

    /**
     * Where output pixel (r, c) lies among the four output phases: as {@link #interleave} reads.
     */
    private int[] pixelTable(int[] reuse) {
      int pixels = outH * outW, phase = perImage + L;
      int[] table = reuse != null && reuse.length >= pixels ? reuse : new int[pixels];
      for (int r = 0; r < outH; r++) {
        for (int c = 0; c < outW; c++) {
          table[r * outW + c] = (2 * (r & 1) + (c & 1)) * phase + (r >> 1) * stride + (c >> 1);
        }
      }
      return table;
    }

    // Small outputs (7 × 7): each pixel by the table, one load and store, where interleave below
    // spends two loads, two shuffles and two (masked) stores on each 7-pixel row.
    private void interleaveByTable(float[] y, int src, float[] out, int plane) {
      for (int i = 0, pixels = outH * outW; i < pixels; i++) {
        out[plane + i] = y[src + outputPixels[i]];
      }
    }

    // out[2ty + a][2tx + b] = phase (a, b) at ty·stride + tx, cropped to outH × outW by masks
    private void interleave(float[] y, int src, float[] out, int plane, int imageEnd) {
      int phase = perImage + L;
      for (int r = 0; r < outH; r++) {
        int from = src + (2 * (r & 1)) * phase + (r >> 1) * stride, to = plane + r * outW;
        for (int t = 0; 2 * t < outW; t += L) { // L column pairs a step
          FloatVector e = FloatVector.fromArray(S, y, from + t);
          FloatVector o = FloatVector.fromArray(S, y, from + phase + t);
          int col = 2 * t;
          FloatVector low = e.rearrange(ZIP_LOW, o), high = e.rearrange(ZIP_HIGH, o);
          if (to + col + 2 * L <= imageEnd) { // spill-over lands on outputs written after it
            low.intoArray(out, to + col);
            high.intoArray(out, to + col + L);
          } else {
            low.intoArray(out, to + col, S.indexInRange(col, outW));
            high.intoArray(out, to + col + L, S.indexInRange(col + L, outW));
          }
        }
      }
    }
  }
}
