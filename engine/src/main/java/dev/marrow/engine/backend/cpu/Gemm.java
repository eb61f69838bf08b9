package dev.marrow.engine.backend.cpu;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-major single-precision GEMM, {@code C = alpha · op(A) · op(B) + beta · C}, on the Vector API.
 *
 * <p>Products big enough to reuse panels (at least {@link #PACK_MIN_ROWS} rows and two column
 * blocks) go to {@link PackedGemm}, which packs both operands. At 1024³ on 2 cores that took sgemm
 * from 165 to 230 GFLOP/s. The others are handled here with both operands read in place, a
 * transposed B packed into a k × n workspace: C is cut into register tiles of {@link #MR} rows ×
 * {@link #NR} columns (two vectors), and the micro-kernel keeps a tile's accumulators in registers
 * over a slice of k, broadcasting one element of each row of op(A) per step and multiplying it into
 * two vectors of op(B). Eight rows (four on 256-bit vectors) divide the 16 and 32 filters of the
 * MNIST CNNs, which six left as 6 + 6 + 4 and 5 × 6 + 2 with an edge tile per column block.
 *
 * <p>The micro-kernels are deliberately branch-free. C2 compiles one version of each for all
 * shapes, and in measurements a kernel with edge-case branches ran 5-10× slower on short-k products
 * after being compiled for long-k ones. So: beta other than 0 and 1 is applied to C in a separate
 * pass (with beta = 0 the first k slice zeroes each tile just before adding into it), and edge
 * tiles (fewer rows or columns than a tile) run the same kernel into a small scratch tile whose
 * valid part is then added to C.
 *
 * <p>Tiles are shared out over the thread team; small products run on the calling thread because a
 * hand-off costs more than they do.
 */
final class Gemm {
  static final VectorSpecies<Float> S = Vectors.FLOAT;
  static final int L = Vectors.LANES;

  /**
   * Rows of a register tile, chosen by vector width: a tile holds MR × 2 accumulators. With 512-bit
   * vectors (32 registers on AVX-512) 8 × 2 runs at 110 GFLOP/s on one Zen 4 core, in L1, near its
   * peak. With 256-bit vectors (16 registers, AVX2 or {@code -XX:UseAVX=2}) the same tile ran at
   * 52-60, and so did the shapes that fit 16 registers on paper (6 × 2: 44-48, BLIS's Haswell
   * shape; 4 × 3: 42-45), while 4 × 2 ran at 82-90 and 8 × 1 at 79-94: C2 spills the larger tiles'
   * accumulators inside the loop. 4 × 2 keeps B's two vectors per step.
   */
  static final int MR = L >= 16 ? 8 : 4;

  static final int NR = 2 * L;

  /** Depth of one k slice: a KC × NR panel of B is 32 KiB, an L1 data cache. */
  static final int KC = PackedGemm.KC;

  /**
   * Below this many multiply-adds a product runs on one thread: waking the team costs more than it
   * saves. Measured on Nielsen's net (batch 10, 10×30×784 products, 235 Ki): 64 Ki → 1 Mi took an
   * epoch from 0.52 to 0.40 s on 2 cores; the MLP at batch 32 and 128 did not change. 1 Mi → 512 Ki
   * (2 cores, {@code bench/run --gemm SHAPE --alternate}, ratio to OpenBLAS): the cnn's 32×400 ·
   * 400×64 0.82 → 1.11-1.37× on AVX-512 and 0.55 → 0.94-1.00× on AVX2, 64×128 · 128×64 0.62 →
   * 1.05×, 32×600 · 600×32 0.83-0.89 → 1.30-1.40×. (At 256 Ki, 64×64 · 64×64 gained on AVX-512 but
   * not on AVX2, and Nielsen's products would sit just under the line.)
   */
  private static final long PARALLEL_MIN_FLOPS = 512 * 1024;

  /**
   * Both operands are packed when op(A) has at least this many rows and op(B) more than one column
   * block, so that every panel is reused; below that the copy costs more than it saves (a 32×784 ·
   * 784×128 product: 121 GFLOP/s in place, 86 packed).
   */
  static final int PACK_MIN_ROWS = 48;

  private final ThreadTeam team;
  // Per-thread state, not per-backend: per-instance ThreadLocals would leave one stale entry per
  // discarded backend in every thread that used it.
  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

  /** The edge-tile scratch of the thread that runs a tile (a worker or the caller). */
  private static final ThreadLocal<float[]> SCRATCH_TILE =
      ThreadLocal.withInitial(() -> new float[MR * NR]);

  private static final AtomicLong SHARED_OPERANDS = new AtomicLong();

  Gemm(ThreadTeam team) {
    this.team = team;
  }

  // a is m×k (or k×m when transA), b is k×n (or n×k when transB), c is m×n; all row-major.
  void run(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc) {
    CALLS
        .get()
        .run(
            team, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
            true, 0);
  }

  /**
   * The same product on the calling thread only: for kernels that already split their work over the
   * team (a convolution runs one image per thread) and call GEMM from inside that split.
   */
  void runSerial(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float beta,
      float[] c,
      int cOff,
      int ldc) {
    CALLS
        .get()
        .run(
            team, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
            false, 0);
  }

  /**
   * {@link #runSerial} for a series of products sharing op(A), contents included, named by a token
   * no other series uses ({@link #newSharedOperand}): a thread packs it once per series.
   */
  void runSerialSharedA(
      long aToken,
      boolean transA,
      int m,
      int n,
      int k,
      float[] a,
      int aOff,
      int lda,
      float[] b,
      int bOff,
      int ldb,
      float[] c,
      int cOff,
      int ldc) {
    CALLS
        .get()
        .run(
            team, transA, false, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, 0f, c, cOff, ldc, false,
            aToken);
  }

  /**
   * {@link #runSerial} of C (m × n, overwritten) = A · B with A already packed ({@link
   * PackedGemm#runPrepackedA}), always on the packed path.
   */
  void runSerialPrepackedA(
      int m,
      int n,
      int k,
      float[] packedA,
      int aOff,
      float[] b,
      int bOff,
      int ldb,
      float[] c,
      int cOff,
      int ldc) {
    CALLS.get().packed.runPrepackedA(m, n, k, packedA, aOff, b, bOff, ldb, c, cOff, ldc);
  }

  /** A token for {@link #runSerialSharedA}, never returned before. */
  static long newSharedOperand() {
    return SHARED_OPERANDS.incrementAndGet();
  }

  /** The edge-tile scratch (MR × NR) of the calling thread, for both GEMM paths. */
  static float[] scratchTile() {
    return SCRATCH_TILE.get();
  }

  /**
   * One thread's GEMM: its workspaces, the arguments of the step in flight, and the loop bodies
   * over them, built once. A product therefore allocates nothing (a capturing lambda per loop was
   * ~0.5 KiB per call, 60-110 KiB per convolutional training step). Team workers run the bodies
   * against the caller's fields, published by the team's hand-off.
   */
  private static final class Call {
    private float[] packedB = new float[0];
    private float[] edgePanel = new float[0];
    private final PackedGemm packed = new PackedGemm();

    // The step in flight: C (scaling), B (packing) and one k slice (tiles).
    private float[] a;
    private float[] b;
    private float[] c;
    private float[] panel;
    private float[] edge;
    private int m;
    private int n;
    private int k;
    private int aOff;
    private int bOff;
    private int ldb;
    private int cOff;
    private int ldc;
    private int rowStride;
    private int kStride;
    private int mBlocks;
    private int inPlaceBlocks;
    private float alpha;
    private float beta;

    /** This k slice zeroes each tile before adding into it (beta = 0, first slice). */
    private boolean overwrite;

    private final ThreadTeam.RangeBody scaleRows = this::scaleRows;
    private final ThreadTeam.RangeBody packTransposedRange = this::packTransposedRange;
    private final ThreadTeam.RangeBody tiles = this::tiles;

    void run(
        ThreadTeam team,
        boolean transA,
        boolean transB,
        int m,
        int n,
        int k,
        float alpha,
        float[] a,
        int aOff,
        int lda,
        float[] b,
        int bOff,
        int ldb,
        float beta,
        float[] c,
        int cOff,
        int ldc,
        boolean parallel,
        long aToken) {
      if (m == 0 || n == 0) {
        return;
      }
      boolean big = parallel && (long) m * n * k >= PARALLEL_MIN_FLOPS;
      this.m = m;
      this.n = n;
      this.c = c;
      this.cOff = cOff;
      this.ldc = ldc;
      int nBlocks = (n + NR - 1) / NR;
      boolean usePacked = packs(m, n);
      // With beta = 0 the first k slice zeroes each tile of C as it goes: no separate pass.
      if (k == 0 || alpha == 0 || beta != 0) {
        scaleC(team, beta, big);
      }
      if (k == 0 || alpha == 0) {
        release();
        return;
      }
      if (usePacked) {
        packed.run(
            team, big, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta == 0, c,
            cOff, ldc, aToken);
        release();
        return;
      }
      this.mBlocks = (m + MR - 1) / MR;
      float[] bp = b;
      int bpOff = bOff, ldbp = ldb;
      if (transB) {
        bp = packTransposed(team, b, bOff, ldb, k, big);
        bpOff = 0;
        ldbp = n;
      }
      this.alpha = alpha;
      this.a = a;
      this.rowStride = transA ? 1 : lda; // distance between rows i and i+1 of op(A)
      this.kStride = transA ? lda : 1; //  distance between columns p and p+1 of op(A)
      // Long products run in slices of KC along k so that a KC × NR block of B stays in L1 while
      // A's rows stream past; later slices add into C.
      for (int k0 = 0; k0 < k; k0 += KC) {
        this.k = Math.min(KC, k - k0);
        this.aOff = aOff + k0 * kStride;
        this.overwrite = beta == 0 && k0 == 0;
        runSlice(team, bp, bpOff + k0 * ldbp, ldbp, nBlocks, big);
      }
      release();
    }

    /** Drops the references to the caller's arrays once the product is done. */
    private void release() {
      a = b = c = panel = edge = null;
    }

    // C[m×n] *= beta; beta = 0 writes zeros, ignoring what C held (even NaN), as BLAS specifies.
    private void scaleC(ThreadTeam team, float beta, boolean parallel) {
      if (beta == 1) {
        return;
      }
      this.beta = beta;
      if (parallel && (long) m * n >= 1 << 16) {
        team.parallelFor(m, 8, scaleRows);
      } else {
        scaleRows(0, m);
      }
    }

    private void scaleRows(int r0, int r1) {
      for (int r = r0; r < r1; r++) {
        int o = cOff + r * ldc;
        if (beta == 0) {
          Arrays.fill(c, o, o + n, 0f);
        } else {
          int j = 0;
          for (int bound = Vectors.loopBound(n); j < bound; j += L) {
            FloatVector.fromArray(S, c, o + j).mul(beta).intoArray(c, o + j);
          }
          for (; j < n; j++) {
            c[o + j] *= beta;
          }
        }
      }
    }

    // One k slice of the product, op(B) read in place.
    private void runSlice(
        ThreadTeam team, float[] bp, int bpOff, int ldbp, int nBlocks, boolean big) {
      // When the array extends far enough, a partial last column block reads B in place: the
      // columns past n hold other data, but they only feed scratch columns that are never added
      // to C. Otherwise it is copied into a zero-padded k × NR panel.
      boolean edgeInPlace =
          n % NR == 0 || bpOff + (long) (k - 1) * ldbp + (long) nBlocks * NR <= bp.length;
      inPlaceBlocks = edgeInPlace ? nBlocks : n / NR;
      edge = edgeInPlace ? null : packEdge(bp, bpOff, ldbp, inPlaceBlocks * NR);
      panel = bp;
      bOff = bpOff;
      ldb = ldbp;
      int tileCount = mBlocks * nBlocks;
      if (!big) {
        tiles(0, tileCount);
      } else {
        team.parallelFor(tileCount, 1, tiles);
      }
    }

    private void tiles(int begin, int end) {
      float[] scratch =
          scratchTile(); // once: a thread-local lookup per edge tile showed in profiles
      // Column-block-major order: consecutive tiles share a panel of B in cache. The block
      // indices are counted along, not divided out per tile: with k = 32 (Winograd's 28 × 28
      // layers) an AVX2 tile is 32 steps of 8 multiply-adds, and a division costs a few of them.
      int jb = begin / mBlocks, ib = begin - jb * mBlocks;
      for (int t = begin; t < end; t++, ib++) {
        if (ib == mBlocks) {
          ib = 0;
          jb++;
        }
        int i0 = ib * MR, j0 = jb * NR;
        int rows = Math.min(MR, m - i0), cols = Math.min(NR, n - j0);
        float[] p = jb < inPlaceBlocks ? panel : edge;
        int panelOff = jb < inPlaceBlocks ? bOff + j0 : 0;
        int panelLd = jb < inPlaceBlocks ? ldb : NR;
        // Rows past the edge re-read the last valid row; their results are never stored.
        int a0 = aOff + i0 * rowStride;
        int a1 = aOff + (i0 + Math.min(1, rows - 1)) * rowStride;
        int a2 = aOff + (i0 + Math.min(2, rows - 1)) * rowStride;
        int a3 = aOff + (i0 + Math.min(3, rows - 1)) * rowStride;
        int a4 = aOff + (i0 + Math.min(4, rows - 1)) * rowStride;
        int a5 = aOff + (i0 + Math.min(5, rows - 1)) * rowStride;
        int a6 = aOff + (i0 + Math.min(6, rows - 1)) * rowStride;
        int a7 = aOff + (i0 + Math.min(7, rows - 1)) * rowStride;
        boolean full = rows == MR && cols == NR;
        float[] out = full ? c : scratch;
        int o = full ? cOff + i0 * ldc + j0 : 0, ldo = full ? ldc : NR;
        if (!full) {
          Arrays.fill(out, 0f);
        }
        // what the kernel adds to: C itself, or zeros when overwriting a whole tile
        boolean fromZero = full && overwrite;
        float[] in = fromZero ? ZERO_ROW : out;
        int io = fromZero ? 0 : o, ldi = fromZero ? 0 : ldo;
        if (MR == 8) {
          kernel(
              k, alpha, a, a0, a1, a2, a3, a4, a5, a6, a7, kStride, p, panelOff, panelLd, in, io,
              ldi, out, o, ldo);
        } else {
          kernel4(
              k, alpha, a, a0, a1, a2, a3, kStride, p, panelOff, panelLd, in, io, ldi, out, o, ldo);
        }
        if (!full) {
          addTile(out, rows, cols, c, cOff + i0 * ldc + j0, ldc, overwrite);
        }
      }
    }

    private float[] packEdge(float[] b, int bOff, int ldb, int j0) {
      if (edgePanel.length < k * NR) {
        edgePanel = new float[k * NR];
      }
      int width = n - j0;
      for (int p = 0; p < k; p++) {
        System.arraycopy(b, bOff + p * ldb + j0, edgePanel, p * NR, width);
        Arrays.fill(edgePanel, p * NR + width, (p + 1) * NR, 0f);
      }
      return edgePanel;
    }

    // packedB[p][j] = op(B)[p][j] = b[j·ldb + p], for all of k (before slicing).
    private float[] packTransposed(
        ThreadTeam team, float[] b, int bOff, int ldb, int k, boolean parallel) {
      if (packedB.length < k * n + NR) { // NR spare floats let the edge block be read in place
        packedB = new float[k * n + NR];
      }
      this.b = b;
      this.bOff = bOff;
      this.ldb = ldb;
      this.k = k;
      if (!parallel || (long) k * n < 256 * 1024) {
        packTransposedRange(0, n);
      } else {
        team.parallelFor(n, 16, packTransposedRange);
      }
      return packedB;
    }

    // op(B) = bᵀ into packedB, rows [begin, end) of b (see transposeRows)
    private void packTransposedRange(int begin, int end) {
      transposeRows(b, bOff, ldb, begin, end, k, packedB, 0, n);
    }
  }

  /**
   * dst[dOff + p·ldd + j] = src[sOff + j·lds + p] for rows j in [begin, end) of src and p in [0,
   * cols): eight rows at a time, each read front to back, written as runs of eight (one row at a
   * time scattered every store into another cache line; a Winograd filter gradient once spent more
   * time transposing than in its GEMMs).
   */
  static void transposeRows(
      float[] src,
      int sOff,
      int lds,
      int begin,
      int end,
      int cols,
      float[] dst,
      int dOff,
      int ldd) {
    int j = begin;
    for (; j + 8 <= end; j += 8) {
      int s = sOff + j * lds;
      for (int p = 0, d = dOff + j; p < cols; p++, d += ldd) {
        dst[d] = src[s + p];
        dst[d + 1] = src[s + lds + p];
        dst[d + 2] = src[s + 2 * lds + p];
        dst[d + 3] = src[s + 3 * lds + p];
        dst[d + 4] = src[s + 4 * lds + p];
        dst[d + 5] = src[s + 5 * lds + p];
        dst[d + 6] = src[s + 6 * lds + p];
        dst[d + 7] = src[s + 7 * lds + p];
      }
    }
    for (; j < end; j++) {
      for (int p = 0, s = sOff + j * lds, d = dOff + j; p < cols; p++, d += ldd) {
        dst[d] = src[s + p];
      }
    }
  }

  /** Whether an m × n product goes through {@link PackedGemm} (else the small kernel's tiles). */
  static boolean packs(int m, int n) {
    return m >= PACK_MIN_ROWS && (n + NR - 1) / NR >= 2;
  }

  /**
   * Two vectors of zeros: the kernels' C operand, read with row stride 0, when they overwrite a
   * whole tile (beta = 0, first k slice). Zeroing the tile in C first and reading it back was 5 %
   * of resnet's 28 × 28 Winograd products, whose k is only the 32 channels.
   */
  static final float[] ZERO_ROW = new float[2 * L];

  /**
   * C[rows × cols at co] += (or, overwriting, =) the valid part of an edge tile computed into
   * scratch (row stride NR).
   */
  static void addTile(
      float[] scratch, int rows, int cols, float[] c, int co, int ldc, boolean overwrite) {
    // Two masked vectors a row: the scalar loop was 248 loads, adds and stores for a 31-column
    // edge, and the 7 × 7 convolutions' 63-column grids make every other tile an edge tile.
    VectorMask<Float> low = S.indexInRange(0, cols), high = S.indexInRange(L, cols);
    for (int r = 0; r < rows; r++, co += ldc) {
      FloatVector s0 = FloatVector.fromArray(S, scratch, r * NR);
      FloatVector s1 = FloatVector.fromArray(S, scratch, r * NR + L);
      if (!overwrite) {
        s0 = s0.add(FloatVector.fromArray(S, c, co, low));
        s1 = s1.add(FloatVector.fromArray(S, c, co + L, high));
      }
      s0.intoArray(c, co, low);
      s1.intoArray(c, co + L, high);
    }
  }

  // C[8 × NR at cOff, row stride ldc] = Cin[8 × NR at cInOff, row stride ldIn] + alpha · A[rows
  // a0..a7, k] · B[k × NR at bOff, stride ldb]; Cin is C itself, or ZERO_ROW with ldIn 0
  private static void kernel(
      int k,
      float alpha,
      float[] a,
      int a0,
      int a1,
      int a2,
      int a3,
      int a4,
      int a5,
      int a6,
      int a7,
      int kStride,
      float[] b,
      int bOff,
      int ldb,
      float[] cIn,
      int cInOff,
      int ldIn,
      float[] c,
      int cOff,
      int ldc) {
    FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
    FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
    FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
    for (int p = 0, ap = 0, bo = bOff; p < k; p++, ap += kStride, bo += ldb) {
      FloatVector b0 = FloatVector.fromArray(S, b, bo);
      FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
      FloatVector x = FloatVector.broadcast(S, a[a0 + ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[a1 + ap]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[a2 + ap]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[a3 + ap]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[a4 + ap]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[a5 + ap]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
      x = FloatVector.broadcast(S, a[a6 + ap]);
      c60 = x.fma(b0, c60);
      c61 = x.fma(b1, c61);
      x = FloatVector.broadcast(S, a[a7 + ap]);
      c70 = x.fma(b0, c70);
      c71 = x.fma(b1, c71);
    }
    FloatVector va = FloatVector.broadcast(S, alpha);
    int o = cOff, oi = cInOff;
    c00.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c01.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c10.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c11.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c20.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c21.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c30.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c31.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c40.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c41.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c50.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c51.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c60.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c61.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c70.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c71.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
  }

  // The same for C[4 × NR at cOff]: the tile of 256-bit and narrower vectors (see MR).
  private static void kernel4(
      int k,
      float alpha,
      float[] a,
      int a0,
      int a1,
      int a2,
      int a3,
      int kStride,
      float[] b,
      int bOff,
      int ldb,
      float[] cIn,
      int cInOff,
      int ldIn,
      float[] c,
      int cOff,
      int ldc) {
    FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
    for (int p = 0, ap = 0, bo = bOff; p < k; p++, ap += kStride, bo += ldb) {
      FloatVector b0 = FloatVector.fromArray(S, b, bo);
      FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
      FloatVector x = FloatVector.broadcast(S, a[a0 + ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[a1 + ap]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[a2 + ap]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[a3 + ap]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
    }
    FloatVector va = FloatVector.broadcast(S, alpha);
    int o = cOff, oi = cInOff;
    c00.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c01.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c10.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c11.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c20.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c21.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
    o += ldc;
    oi += ldIn;
    c30.fma(va, FloatVector.fromArray(S, cIn, oi)).intoArray(c, o);
    c31.fma(va, FloatVector.fromArray(S, cIn, oi + L)).intoArray(c, o + L);
  }
}
