package dev.marrow.engine.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Gemm}'s path for products big enough to reuse panels: {@code C += alpha · op(A) · op(B)}
 * with both operands packed first, GotoBLAS style.
 *
 * <p>For each slice of KC along k, op(A) is packed into blocks of {@link #MR} rows interleaved
 * along k ({@code a[(ib·kc + p)·MR + r]}) and op(B) into blocks of {@link Gemm#NR} columns ({@code
 * b[(jb·kc + p)·NR + j]}), zero-padded past m and n. The micro-kernel then walks both with constant
 * strides, which lets C2 prove every index in bounds before the loop (read in place, 15% of GEMM
 * time was bounds checks), and a transposed operand costs nothing beyond its packing.
 *
 * <p>Work is split statically: the product is cut into one part per team member along its longer
 * block dimension, and each part packs what it needs into its own thread's buffers and multiplies
 * them at once. The other operand is therefore packed once per part, but nothing a core packed has
 * to travel to the other core: with shared buffers packing took 3.4× longer in place than in
 * isolation (128×784 · 784×128: 78 µs of packing against 23), and each product needed two hand-offs
 * instead of one.
 */
final class PackedGemm {
  static final VectorSpecies<Float> S = Gemm.S;
  static final int L = Gemm.L;

  /**
   * Rows of a tile, the same as the in-place path's (8 × 2 vectors on AVX-512, 4 × 2 on AVX2), so
   * both share one edge-tile scratch.
   */
  static final int MR = Gemm.MR;

  static final int NR = Gemm.NR;

  /** MR floats: a column of a row block of op(A) where A's rows are neighbours (transA). */
  private static final VectorSpecies<Float> A_COLUMN =
      VectorSpecies.of(float.class, VectorShape.forBitSize(MR * Float.SIZE));

  /** Depth of one k slice: a KC × NR block of B is 32 KiB and stays in L1 while A streams. */
  static final int KC = 256;

  /** One thread's packed slices, reused by every product that thread works on. */
  private static final class Buffers {
    float[] a = new float[0];
    float[] b = new float[0];

    /** What a holds: row blocks [aFrom, aTo) of the op(A) of token aToken (0: nothing reusable). */
    long aToken;

    int aFrom;
    int aTo;
  }

  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  // The product in flight; team workers read these through the hand-off.
  private float[] a;
  private float[] b;
  private float[] c;
  private int m;
  private int n;
  private int k;
  private int aOff;
  private int lda;
  private int bOff;
  private int ldb;
  private int cOff;
  private int ldc;
  private float alpha;
  private boolean transA;
  private boolean transB;
  private int rowBlocks;
  private int colBlocks;
  private int parts;
  private boolean splitRows;

  /** beta = 0: the first k slice zeroes each tile of C just before adding into it (no pass). */
  private boolean overwrite;

  /** Names op(A) across calls (see {@link #run}); 0 for a one-off product. */
  private long aToken;

  /** A already in the packed layout ({@link #runPrepackedA}), or null. */
  private float[] prepacked;

  private int prepackedOff;

  private final ThreadTeam.RangeBody partRange = this::partRange;

  /**
   * {@code aToken}, when not 0, says that op(A) is the same, contents included, as in every other
   * call with this token: a thread that still holds it packed (all its k slices) skips packing it.
   * A convolution multiplies the same W (forward) or Wᵀ (backward data) into every image of a
   * batch.
   */
  void run(
      ThreadTeam team,
      boolean parallel,
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
      boolean overwrite,
      float[] c,
      int cOff,
      int ldc,
      long aToken) {
    this.overwrite = overwrite;
    this.aToken = aToken;
    this.transA = transA;
    this.transB = transB;
    this.m = m;
    this.n = n;
    this.k = k;
    this.alpha = alpha;
    this.a = a;
    this.aOff = aOff;
    this.lda = lda;
    this.b = b;
    this.bOff = bOff;
    this.ldb = ldb;
    this.c = c;
    this.cOff = cOff;
    this.ldc = ldc;
    rowBlocks = (m + MR - 1) / MR;
    colBlocks = (n + NR - 1) / NR;
    splitRows = rowBlocks >= colBlocks;
    parts = parallel ? Math.min(team.size(), splitRows ? rowBlocks : colBlocks) : 1;
    if (parts > 1) {
      team.parallelFor(parts, 1, partRange);
    } else {
      partRange(0, 1);
    }
    this.a = this.b = this.c = null;
  }

  /**
   * The product on the calling thread with A (m × k, k ≤ {@link #KC}) given already packed at
   * {@code aOff}: row block ib's k columns of MR values at {@code aOff + ib·MR·k} ({@link
   * #packedIndex}), rows past m zero. Winograd's transformed filters are written so once per call
   * and then multiply every block of tiles, where packing them for each product cost 14 % of a 7 ×
   * 7 layer.
   */
  void runPrepackedA(
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
    if (k > KC) {
      throw new IllegalArgumentException("a prepacked A has at most " + KC + " columns, got " + k);
    }
    this.prepacked = packedA;
    this.prepackedOff = aOff;
    try {
      run(null, false, false, false, m, n, k, 1f, null, 0, 0, b, bOff, ldb, true, c, cOff, ldc, 0);
    } finally {
      this.prepacked = null;
    }
  }

  /** Where A[i][p] (p < k ≤ KC) lies in the packed layout of {@link #runPrepackedA}. */
  static int packedIndex(int i, int p, int k) {
    return ((i / MR) * k + p) * MR + i % MR;
  }

  private void partRange(int begin, int end) {
    for (int part = begin; part < end; part++) {
      int blocks = splitRows ? rowBlocks : colBlocks;
      int from = (int) ((long) blocks * part / parts);
      int to = (int) ((long) blocks * (part + 1) / parts);
      if (splitRows) {
        multiply(from, to, 0, colBlocks);
      } else {
        multiply(0, rowBlocks, from, to);
      }
    }
  }

  // Row blocks [r0, r1) × column blocks [c0, c1) of C, slice by slice along k.
  private void multiply(int r0, int r1, int c0, int c1) {
    Buffers buf = BUFFERS.get();
    int kcMax = Math.min(KC, k);
    // A shared op(A) keeps every k slice packed (one region per slice); a one-off only the current.
    int aSlice = (r1 - r0) * MR * kcMax, aSlices = aToken != 0 ? (k + KC - 1) / KC : 1;
    if (prepacked == null && buf.a.length < aSlice * aSlices) {
      buf.a = new float[aSlice * aSlices];
    }
    if (buf.b.length < (c1 - c0) * NR * kcMax) {
      buf.b = new float[(c1 - c0) * NR * kcMax];
    }
    float[] pb = buf.b, scratch = Gemm.scratchTile(); // once: a lookup per edge tile
    float[] pa = prepacked != null ? prepacked : buf.a;
    boolean packedAlready =
        prepacked != null
            || aToken != 0 && buf.aToken == aToken && buf.aFrom == r0 && buf.aTo == r1;
    if (prepacked == null) {
      buf.aToken = 0; // until every slice is packed
    }
    for (int k0 = 0; k0 < k; k0 += KC) {
      int kc = Math.min(KC, k - k0), aBase = aSlices > 1 ? (k0 / KC) * aSlice : 0;
      if (prepacked != null) { // one slice (k ≤ KC): row block ib at prepackedOff + ib·MR·k
        aBase = prepackedOff + r0 * MR * kc;
      }
      for (int ib = r0; ib < r1 && !packedAlready; ib++) {
        packRowBlock(ib, k0, kc, pa, aBase + (ib - r0) * MR * kc);
      }
      for (int jb = c0; jb < c1; jb++) {
        packColumnBlock(jb, k0, kc, pb, (jb - c0) * NR * kc);
      }
      // Column-block-major: consecutive tiles share a block of B in L1 while A's blocks stream.
      // (Chunks of 128 or 256 rows of A kept in L2, GotoBLAS's MC blocking, measured no better at
      // 1024³ on either vector width here: 130-172 against 155-174 GFLOP/s on 256-bit vectors.)
      for (int jb = c0; jb < c1; jb++) {
        int j0 = jb * NR, cols = Math.min(NR, n - j0), bo = (jb - c0) * NR * kc;
        for (int ib = r0; ib < r1; ib++) {
          int i0 = ib * MR, rows = Math.min(MR, m - i0), ao = aBase + (ib - r0) * MR * kc;
          int co = cOff + i0 * ldc + j0;
          boolean first = overwrite && k0 == 0;
          boolean full = rows == MR && cols == NR;
          float[] out = full ? c : scratch;
          int o = full ? co : 0, ldo = full ? ldc : NR;
          if (!full) {
            Arrays.fill(out, 0f);
          }
          boolean fromZero = full && first; // the kernel adds to zeros, not to C (Gemm.ZERO_ROW)
          float[] in = fromZero ? Gemm.ZERO_ROW : out;
          int io = fromZero ? 0 : o, ldi = fromZero ? 0 : ldo;
          if (MR == 8) {
            kernel(kc, alpha, pa, ao, pb, bo, in, io, ldi, out, o, ldo);
          } else {
            kernel4(kc, alpha, pa, ao, pb, bo, in, io, ldi, out, o, ldo);
          }
          if (!full) {
            Gemm.addTile(out, rows, cols, c, co, ldc, first);
          }
        }
      }
    }
    if (prepacked == null) {
      buf.aToken = aToken;
      buf.aFrom = r0;
      buf.aTo = r1;
    }
  }

  // Both packers walk k in the outer loop so that writes are sequential: writing one row (or
  // column) at a time stores with a 24- or 128-byte stride and measured 3.6× slower.
  private void packRowBlock(int ib, int k0, int kc, float[] dst, int d0) {
    int i0 = ib * MR, rows = Math.min(MR, m - i0);
    if (rows < MR) {
      Arrays.fill(dst, d0, d0 + MR * kc, 0f);
    }
    // op(A)[i][p] = a[i·rowStep + p·kStep]
    int rowStep = transA ? 1 : lda, kStep = transA ? lda : 1;
    int first = aOff + i0 * rowStep + k0 * kStep;
    if (rows == MR && rowStep == 1) { // a column of op(A) is MR neighbouring floats: one vector
      for (int p = 0, src = first; p < kc; p++, src += kStep) {
        FloatVector.fromArray(A_COLUMN, a, src).intoArray(dst, d0 + p * MR);
      }
    } else if (rows == MR) {
      // kStep 1. Each row's index moves with p, so C2 hoists the bounds checks (MR is a constant:
      // the second four rows fold away on 4-row tiles). With a loop over the rows inside, packing
      // took 11 % of a 128×784 · 784×128 product's JFR samples on AVX2, this 7 %.
      int s0 = first, s1 = s0 + rowStep, s2 = s1 + rowStep, s3 = s2 + rowStep;
      int s4 = s3 + rowStep, s5 = s4 + rowStep, s6 = s5 + rowStep, s7 = s6 + rowStep;
      for (int p = 0; p < kc; p++) {
        int d = d0 + p * MR;
        dst[d] = a[s0 + p];
        dst[d + 1] = a[s1 + p];
        dst[d + 2] = a[s2 + p];
        dst[d + 3] = a[s3 + p];
        if (MR == 8) {
          dst[d + 4] = a[s4 + p];
          dst[d + 5] = a[s5 + p];
          dst[d + 6] = a[s6 + p];
          dst[d + 7] = a[s7 + p];
        }
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int r = 0, src = first + p * kStep; r < rows; r++, src += rowStep) {
          dst[d0 + p * MR + r] = a[src];
        }
      }
    }
  }

  private void packColumnBlock(int jb, int k0, int kc, float[] dst, int d0) {
    int j0 = jb * NR, cols = Math.min(NR, n - j0);
    if (cols < NR) {
      Arrays.fill(dst, d0, d0 + NR * kc, 0f);
    }
    if (transB) { // op(B)[p][j] = b[j·ldb + p]
      for (int p = 0; p < kc; p++) {
        for (int j = 0, src = bOff + j0 * ldb + k0 + p; j < cols; j++, src += ldb) {
          dst[d0 + p * NR + j] = b[src];
        }
      }
    } else if (cols == NR) { // op(B)[p][j] = b[p·ldb + j]
      for (int p = 0, src = bOff + k0 * ldb + j0; p < kc; p++, src += ldb) {
        FloatVector.fromArray(S, b, src).intoArray(dst, d0 + p * NR);
        FloatVector.fromArray(S, b, src + L).intoArray(dst, d0 + p * NR + L);
      }
    } else {
      for (int p = 0, src = bOff + k0 * ldb + j0; p < kc; p++, src += ldb) {
        System.arraycopy(b, src, dst, d0 + p * NR, cols);
      }
    }
  }

  // C[8 × NR at cOff, row stride ldc] = Cin + alpha · A · B for a packed row block of A (MR values
  // per step of k) and a packed column block of B (NR values per step of k); Cin (row stride ldIn)
  // is C itself, or Gemm.ZERO_ROW with ldIn 0 where the tile is overwritten. The indices are
  // linear in p with constant scales: that is what lets C2 prove them in bounds once, before the
  // loop. The stores are written out: a helper taking the accumulators was not inlined (C2's
  // node-count cutoff), and boxing them made GEMM 20× slower. For the same reason there is one
  // store path only: a second one (store instead of add, for beta = 0) pushed the method past what
  // C2 inlines, and the last rows' vector operations then ran boxed. The parameter lists of this
  // kernel, kernel4 and Gemm's two stay flat for the same reason: no object to read per tile.
  private static void kernel(
      int k,
      float alpha,
      float[] a,
      int aOff,
      float[] b,
      int bOff,
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
    for (int p = 0; p < k; p++) {
      int ap = aOff + p * MR, bp = bOff + p * NR;
      FloatVector b0 = FloatVector.fromArray(S, b, bp);
      FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
      FloatVector x = FloatVector.broadcast(S, a[ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[ap + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[ap + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[ap + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[ap + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[ap + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
      x = FloatVector.broadcast(S, a[ap + 6]);
      c60 = x.fma(b0, c60);
      c61 = x.fma(b1, c61);
      x = FloatVector.broadcast(S, a[ap + 7]);
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

  // The 256-bit tile (see Gemm.MR): C[4 × NR at cOff, row stride ldc] = Cin + alpha · A · B,
  // packed as for kernel.
  private static void kernel4(
      int k,
      float alpha,
      float[] a,
      int aOff,
      float[] b,
      int bOff,
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
    for (int p = 0; p < k; p++) {
      int ap = aOff + p * MR, bp = bOff + p * NR;
      FloatVector b0 = FloatVector.fromArray(S, b, bp);
      FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
      FloatVector x = FloatVector.broadcast(S, a[ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[ap + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[ap + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[ap + 3]);
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
