package dev.marrow.engine.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-major single-precision GEMM, {@code C = alpha · op(A) · op(B) + beta · C}, on the Vector API.
 *
 * <p>C is cut into register tiles of {@link #MR} rows × {@link #NR} columns (two vectors). The
 * micro-kernel keeps a tile's 12 accumulators in registers over the whole k loop: each step
 * broadcasts one element of each of the 6 rows of op(A) and multiplies it into two vectors of
 * op(B), then adds alpha · accumulators into C. op(A) is read in place whether transposed or not
 * (a row stride and a k stride); op(B) must have unit column stride, so a transposed B is first
 * packed into a k × n workspace.
 *
 * <p>The micro-kernel is deliberately branch-free. C2 compiles one version of it for all shapes,
 * and in measurements a kernel with edge-case branches ran 5-10× slower on short-k products after
 * being compiled for long-k ones. So: beta is applied to C in a separate pass, and edge tiles
 * (fewer than 6 rows or 32 columns) run the same kernel into a small scratch tile whose valid part
 * is then added to C.
 *
 * <p>Tiles are shared out over the thread team; small products run on the calling thread because a
 * hand-off costs more than they do.
 */
final class Gemm {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int L = S.length();
  static final int MR = 6;
  static final int NR = 2 * L;
  /** Depth of one k slice: a KC × NR panel of B is 32 KiB, an L1 data cache. */
  static final int KC = 256;

  /** Below this many multiply-adds a product runs on one thread. */
  private static final long PARALLEL_MIN_FLOPS = 64 * 1024;

  private final ThreadTeam team;
  // Workspaces belong to the calling thread, not to a backend: per-instance ThreadLocals would
  // leave one stale entry per discarded backend in every thread that used it.
  private static final ThreadLocal<float[]> PACKED_B =
      ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> EDGE_PANEL =
      ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> PACKED_PANELS =
      ThreadLocal.withInitial(() -> new float[0]);
  private static final ThreadLocal<float[]> SCRATCH_TILE =
      ThreadLocal.withInitial(() -> new float[MR * NR]);

  Gemm(ThreadTeam team) {
    this.team = team;
  }

  // a is m×k (or k×m when transA), b is k×n (or n×k when transB), c is m×n; all row-major.
  void run(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff,
      int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
    run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, true);
  }

  /**
   * The same product on the calling thread only: for kernels that already split their work over
   * the team (a convolution runs one image per thread) and call GEMM from inside that split.
   */
  void runSerial(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
    run(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, false);
  }

  private void run(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc,
      boolean parallel) {
    if (m == 0 || n == 0) {
      return;
    }
    boolean big = parallel && (long) m * n * k >= PARALLEL_MIN_FLOPS;
    scaleC(c, cOff, ldc, m, n, beta, big);
    if (k == 0 || alpha == 0) {
      return;
    }
    float[] bp = b;
    int bpOff = bOff, ldbp = ldb;
    if (transB) {
      bp = packTransposed(b, bOff, ldb, k, n, big);
      bpOff = 0;
      ldbp = n;
    }
    int rowStride = transA ? 1 : lda; // distance between rows i and i+1 of op(A)
    int kStride = transA ? lda : 1; //  distance between columns p and p+1 of op(A)
    int mBlocks = (m + MR - 1) / MR;
    int nBlocks = (n + NR - 1) / NR;
    // Long products run in slices of KC along k: all tiles of one slice share a KC × NR panel of
    // B small enough to stay in L1 while A's rows stream past. The kernel adds into C, so
    // slices simply accumulate (beta was applied above).
    // B rows ldb apart (4 KiB for n = 1024) alias in the L1 sets: when enough row blocks reuse
    // them, each slice of B is first packed into contiguous KC × NR panels (128-byte rows).
    // Measured at 1024³: 144 → 182 GFLOP/s on 2 threads. Packing A the same way gained nothing.
    boolean packB = mBlocks >= 8 && (long) n * k >= 64 * 1024;
    for (int k0 = 0; k0 < k; k0 += KC) {
      int kc = Math.min(KC, k - k0);
      if (packB) {
        float[] panels = packB(bp, bpOff + k0 * ldbp, ldbp, kc, n, nBlocks, big);
        runSlice(m, n, kc, alpha, a, aOff + k0 * kStride, rowStride, kStride, panels, 0,
            -NR, c, cOff, ldc, mBlocks, nBlocks, big);
      } else {
        runSlice(m, n, kc, alpha, a, aOff + k0 * kStride, rowStride, kStride, bp,
            bpOff + k0 * ldbp, ldbp, c, cOff, ldc, mBlocks, nBlocks, big);
      }
    }
  }

  // panels[(jb·kc + p)·NR + j] = op(B)[p][jb·NR + j], zero past n.
  private float[] packB(float[] b, int bOff, int ldb, int kc, int n, int nBlocks,
      boolean parallel) {
    float[] bp = PACKED_PANELS.get();
    if (bp.length < nBlocks * kc * NR) {
      bp = new float[nBlocks * kc * NR];
      PACKED_PANELS.set(bp);
    }
    float[] out = bp;
    ThreadTeam.RangeBody pack = (j0, j1) -> {
      for (int jb = j0; jb < j1; jb++) {
        int width = Math.min(NR, n - jb * NR), base = jb * kc * NR;
        for (int p = 0; p < kc; p++) {
          System.arraycopy(b, bOff + p * ldb + jb * NR, out, base + p * NR, width);
          if (width < NR) {
            Arrays.fill(out, base + p * NR + width, base + (p + 1) * NR, 0f);
          }
        }
      }
    };
    if (parallel) {
      team.parallelFor(nBlocks, 2, pack);
    } else {
      pack.run(0, nBlocks);
    }
    return out;
  }

  // One k slice of the product; ldbp < 0 means bp holds packed panels (see packB).
  private void runSlice(int m, int n, int k, float alpha, float[] a, int aOff, int rowStride,
      int kStride, float[] bp, int bpOff, int ldbp, float[] c, int cOff, int ldc, int mBlocks,
      int nBlocks, boolean big) {
    // When the array extends far enough, a partial last column block reads B in place: the
    // columns past n hold other data, but they only feed scratch columns that are never added to
    // C. Otherwise it is copied into a zero-padded k × NR panel.
    boolean PACKED_B = ldbp < 0; // panels of NR columns, each k × NR contiguous
    boolean edgeInPlace = PACKED_B || n % NR == 0
        || bpOff + (long) (k - 1) * ldbp + (long) nBlocks * NR <= bp.length;
    int inPlaceBlocks = edgeInPlace ? nBlocks : n / NR;
    float[] edge = edgeInPlace ? null : packEdge(bp, bpOff, ldbp, k, n, inPlaceBlocks * NR);
    ThreadTeam.RangeBody tiles = (begin, end) -> {
      for (int t = begin; t < end; t++) {
        // Column-block-major order: consecutive tiles share a panel of B in cache.
        int jb = t / mBlocks, ib = t % mBlocks;
        int i0 = ib * MR, j0 = jb * NR;
        int rows = Math.min(MR, m - i0), cols = Math.min(NR, n - j0);
        float[] panel = jb < inPlaceBlocks ? bp : edge;
        int panelOff = PACKED_B ? jb * k * NR : jb < inPlaceBlocks ? bpOff + j0 : 0;
        int panelLd = PACKED_B ? NR : jb < inPlaceBlocks ? ldbp : NR;
        // Rows past the edge re-read the last valid row; their results are never stored.
        int a0 = aOff + i0 * rowStride;
        int a1 = aOff + (i0 + Math.min(1, rows - 1)) * rowStride;
        int a2 = aOff + (i0 + Math.min(2, rows - 1)) * rowStride;
        int a3 = aOff + (i0 + Math.min(3, rows - 1)) * rowStride;
        int a4 = aOff + (i0 + Math.min(4, rows - 1)) * rowStride;
        int a5 = aOff + (i0 + Math.min(5, rows - 1)) * rowStride;
        if (rows == MR && cols == NR) {
          kernel(k, alpha, a, a0, a1, a2, a3, a4, a5, kStride, panel, panelOff, panelLd, c,
              cOff + i0 * ldc + j0, ldc);
        } else {
          float[] scratch = SCRATCH_TILE.get();
          Arrays.fill(scratch, 0f);
          kernel(k, alpha, a, a0, a1, a2, a3, a4, a5, kStride, panel, panelOff, panelLd, scratch,
              0, NR);
          for (int r = 0; r < rows; r++) {
            int co = cOff + (i0 + r) * ldc + j0;
            for (int j = 0; j < cols; j++) {
              c[co + j] += scratch[r * NR + j];
            }
          }
        }
      }
    };
    int tileCount = mBlocks * nBlocks;
    if (!big) {
      tiles.run(0, tileCount);
    } else {
      team.parallelFor(tileCount, 1, tiles);
    }
  }

  // C[m×n] *= beta; beta = 0 writes zeros, ignoring what C held (even NaN), as BLAS specifies.
  private void scaleC(float[] c, int cOff, int ldc, int m, int n, float beta, boolean parallel) {
    if (beta == 1) {
      return;
    }
    ThreadTeam.RangeBody rows = (r0, r1) -> {
      for (int r = r0; r < r1; r++) {
        int o = cOff + r * ldc;
        if (beta == 0) {
          Arrays.fill(c, o, o + n, 0f);
        } else {
          int j = 0;
          for (int bound = S.loopBound(n); j < bound; j += L) {
            FloatVector.fromArray(S, c, o + j).mul(beta).intoArray(c, o + j);
          }
          for (; j < n; j++) {
            c[o + j] *= beta;
          }
        }
      }
    };
    if (parallel && (long) m * n >= 1 << 16) {
      team.parallelFor(m, 8, rows);
    } else {
      rows.run(0, m);
    }
  }

  private float[] packEdge(float[] b, int bOff, int ldb, int k, int n, int j0) {
    float[] panel = EDGE_PANEL.get();
    if (panel.length < k * NR) {
      panel = new float[k * NR];
      EDGE_PANEL.set(panel);
    }
    int width = n - j0;
    for (int p = 0; p < k; p++) {
      System.arraycopy(b, bOff + p * ldb + j0, panel, p * NR, width);
      Arrays.fill(panel, p * NR + width, (p + 1) * NR, 0f);
    }
    return panel;
  }

  private float[] packTransposed(float[] b, int bOff, int ldb, int k, int n, boolean parallel) {
    float[] bp = PACKED_B.get();
    if (bp.length < k * n + NR) { // NR spare floats let the edge block be read in place
      bp = new float[k * n + NR];
      PACKED_B.set(bp);
    }
    float[] out = bp;
    // op(B)[p][j] = b[j*ldb + p]: walk b row by row (contiguous) and scatter into columns.
    ThreadTeam.RangeBody pack = (begin, end) -> {
      for (int j = begin; j < end; j++) {
        int src = bOff + j * ldb;
        for (int p = 0; p < k; p++) {
          out[p * n + j] = b[src + p];
        }
      }
    };
    if (!parallel || (long) k * n < 256 * 1024) {
      pack.run(0, n);
    } else {
      team.parallelFor(n, 16, pack);
    }
    return out;
  }

  // C[6 × NR at cOff, row stride ldc] += alpha · A[rows a0..a5, k] · B[k × NR at bOff, stride ldb]
  private static void kernel(int k, float alpha, float[] a, int a0, int a1, int a2, int a3,
      int a4, int a5, int kStride, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
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
    }
    FloatVector va = FloatVector.broadcast(S, alpha);
    int o = cOff;
    c00.fma(va, FloatVector.fromArray(S, c, o)).intoArray(c, o);
    c01.fma(va, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
    o += ldc;
    c10.fma(va, FloatVector.fromArray(S, c, o)).intoArray(c, o);
    c11.fma(va, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
    o += ldc;
    c20.fma(va, FloatVector.fromArray(S, c, o)).intoArray(c, o);
    c21.fma(va, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
    o += ldc;
    c30.fma(va, FloatVector.fromArray(S, c, o)).intoArray(c, o);
    c31.fma(va, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
    o += ldc;
    c40.fma(va, FloatVector.fromArray(S, c, o)).intoArray(c, o);
    c41.fma(va, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
    o += ldc;
    c50.fma(va, FloatVector.fromArray(S, c, o)).intoArray(c, o);
    c51.fma(va, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
  }
}
