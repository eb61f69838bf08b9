package dev.marrow.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-major single-precision GEMM, {@code C = alpha · op(A) · op(B) + beta · C}, on the Vector API.
 *
 * <p>C is cut into register tiles of {@link #MR} rows × {@link #NR} columns (two vectors). A tile
 * keeps its 12 accumulators in registers over the whole k loop: each step broadcasts one element
 * of each of the 6 rows of op(A) and multiplies it into two vectors of op(B). op(A) is read in
 * place whether transposed or not (a row stride and a k stride); op(B) must be row-major with unit
 * column stride, so a transposed B is first packed into a k × n workspace. A partial last column
 * block is packed into a zero-padded panel and stored with masks, and short row blocks repeat their
 * last row (computed, not stored), so the hot loop has neither masks nor a scalar path.
 *
 * <p>Tiles are shared out over the thread team; small products run on the calling thread because a
 * hand-off costs more than they do.
 */
final class Gemm {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int L = S.length();
  static final int MR = 6;
  static final int NR = 2 * L;

  /** Below this many multiply-adds a product runs on one thread. */
  private static final long PARALLEL_MIN_FLOPS = 64 * 1024;

  private final ThreadTeam team;
  private final ThreadLocal<float[]> packedB = ThreadLocal.withInitial(() -> new float[0]);
  private final ThreadLocal<float[]> edgePanel = ThreadLocal.withInitial(() -> new float[0]);

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
    float[] bp = b;
    int bpOff = bOff, ldbp = ldb;
    if (transB) {
      bp = packTransposed(b, bOff, ldb, k, n, parallel);
      bpOff = 0;
      ldbp = n;
    }
    int rowStride = transA ? 1 : lda; // distance between rows i and i+1 of op(A)
    int kStride = transA ? lda : 1; //  distance between columns p and p+1 of op(A)
    int mBlocks = (m + MR - 1) / MR;
    int nBlocks = (n + NR - 1) / NR;
    float[] bFinal = bp;
    int bFinalOff = bpOff, ldbFinal = ldbp;
    // A last, partial column block is copied into a zero-padded k × NR panel so that every tile
    // runs the same unmasked loop (masked loads inside the k loop cost 8× here).
    int fullBlocks = n / NR;
    float[] edge = fullBlocks == nBlocks ? null : packEdge(bp, bpOff, ldbp, k, n, fullBlocks * NR);
    ThreadTeam.RangeBody tiles = (begin, end) -> {
      for (int t = begin; t < end; t++) {
        // Column-block-major order: consecutive tiles share a panel of B in cache.
        int jb = t / mBlocks, ib = t % mBlocks;
        if (jb < fullBlocks) {
          tile(ib * MR, jb * NR, m, n, k, alpha, a, aOff, rowStride, kStride, bFinal,
              bFinalOff + jb * NR, ldbFinal, beta, c, cOff, ldc);
        } else {
          tile(ib * MR, jb * NR, m, n, k, alpha, a, aOff, rowStride, kStride, edge, 0, NR, beta,
              c, cOff, ldc);
        }
      }
    };
    int tileCount = mBlocks * nBlocks;
    if (!parallel || (long) m * n * k < PARALLEL_MIN_FLOPS) {
      tiles.run(0, tileCount);
    } else {
      team.parallelFor(tileCount, 1, tiles);
    }
  }

  private float[] packEdge(float[] b, int bOff, int ldb, int k, int n, int j0) {
    float[] panel = edgePanel.get();
    if (panel.length < k * NR) {
      panel = new float[k * NR];
      edgePanel.set(panel);
    }
    int width = n - j0;
    for (int p = 0; p < k; p++) {
      System.arraycopy(b, bOff + p * ldb + j0, panel, p * NR, width);
      java.util.Arrays.fill(panel, p * NR + width, (p + 1) * NR, 0f);
    }
    return panel;
  }

  private float[] packTransposed(float[] b, int bOff, int ldb, int k, int n, boolean parallel) {
    float[] bp = packedB.get();
    if (bp.length < k * n) {
      bp = new float[k * n];
      packedB.set(bp);
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

  // One MR × NR tile of C at (i0, j0); b[bOff + p*ldb + jj] is op(B)[p][j0 + jj] for jj < NR.
  private static void tile(int i0, int j0, int m, int n, int k, float alpha, float[] a, int aOff,
      int rowStride, int kStride, float[] b, int bOff, int ldb, float beta, float[] c, int cOff,
      int ldc) {
    int rows = Math.min(MR, m - i0);
    // Rows past the edge re-read the last valid row; their results are never stored.
    int a0 = aOff + i0 * rowStride;
    int a1 = aOff + (i0 + Math.min(1, rows - 1)) * rowStride;
    int a2 = aOff + (i0 + Math.min(2, rows - 1)) * rowStride;
    int a3 = aOff + (i0 + Math.min(3, rows - 1)) * rowStride;
    int a4 = aOff + (i0 + Math.min(4, rows - 1)) * rowStride;
    int a5 = aOff + (i0 + Math.min(5, rows - 1)) * rowStride;
    int cols = n - j0;

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
    int co = cOff + i0 * ldc + j0;
    store(c, co, c00, c01, alpha, beta, cols);
    if (rows > 1) {
      store(c, co + ldc, c10, c11, alpha, beta, cols);
    }
    if (rows > 2) {
      store(c, co + 2 * ldc, c20, c21, alpha, beta, cols);
    }
    if (rows > 3) {
      store(c, co + 3 * ldc, c30, c31, alpha, beta, cols);
    }
    if (rows > 4) {
      store(c, co + 4 * ldc, c40, c41, alpha, beta, cols);
    }
    if (rows > 5) {
      store(c, co + 5 * ldc, c50, c51, alpha, beta, cols);
    }
  }

  private static void store(float[] c, int off, FloatVector v0, FloatVector v1, float alpha,
      float beta, int cols) {
    v0 = v0.mul(alpha);
    v1 = v1.mul(alpha);
    if (cols >= NR) { // a full tile: plain stores. Masks stay out of the hot method: C2 compiles
      // tile() several times slower when it creates them.
      if (beta != 0) {
        // beta = 0 must ignore C entirely (it may hold NaN), as BLAS specifies.
        v0 = FloatVector.fromArray(S, c, off).fma(FloatVector.broadcast(S, beta), v0);
        v1 = FloatVector.fromArray(S, c, off + L).fma(FloatVector.broadcast(S, beta), v1);
      }
      v0.intoArray(c, off);
      v1.intoArray(c, off + L);
    } else {
      storePartial(c, off, v0, v1, beta, cols);
    }
  }

  private static void storePartial(float[] c, int off, FloatVector v0, FloatVector v1,
      float beta, int cols) {
    VectorMask<Float> m0 = S.indexInRange(0, cols);
    VectorMask<Float> m1 = S.indexInRange(L, cols);
    if (beta != 0) {
      v0 = FloatVector.fromArray(S, c, off, m0).fma(FloatVector.broadcast(S, beta), v0);
      v1 = FloatVector.fromArray(S, c, off + L, m1).fma(FloatVector.broadcast(S, beta), v1);
    }
    v0.intoArray(c, off, m0);
    v1.intoArray(c, off + L, m1);
  }
}
