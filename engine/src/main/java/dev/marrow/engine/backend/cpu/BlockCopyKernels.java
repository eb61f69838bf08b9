package dev.marrow.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Strided block copies ({@code Backend#copyBlocks}): the data movement of padding, cropping and
 * concatenation. Overwriting copies go through {@link System#arraycopy} (an intrinsic that already
 * runs at memory speed); accumulating ones add in vectors with a scalar tail.
 *
 * <p>The work is one flat range over all copied elements, so that both shapes a layer produces are
 * split evenly over the team: many short blocks (one image row per plane, when padding) and a few
 * long ones (one image per block, when concatenating). A call allocates nothing: its arguments go
 * into the calling thread's {@link Call}, whose loop body is built once.
 */
final class BlockCopyKernels {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  /** Copied elements below which a call stays on the calling thread, as element-wise passes. */
  private static final int PARALLEL_MIN = 1 << 15;

  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

  private final ThreadTeam team;

  BlockCopyKernels(ThreadTeam team) {
    this.team = team;
  }

  // block b: dst[dstOffset + b·dstStride + i] (+)= src[srcOffset + b·srcStride + i], i < length.
  // The caller has checked that every block lies inside both arrays and that blocks · length fits
  // in dst (blocks never overlap there), so the flat range fits an int.
  void copy(
      float[] src,
      int srcOffset,
      int srcStride,
      float[] dst,
      int dstOffset,
      int dstStride,
      int blocks,
      int length,
      boolean accumulate) {
    if (blocks == 0 || length == 0) {
      return;
    }
    long total = (long) blocks * length;
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          blocks + " blocks of " + length + " overlap in dst: they cannot all fit in an array");
    }
    Call c = CALLS.get().with(src, srcOffset, srcStride, dst, dstOffset, dstStride, length);
    c.accumulate = accumulate;
    team.forRange((int) total, PARALLEL_MIN, c.elements);
    c.release();
  }

  /** One thread's copy in flight and its loop body over a range of flat element indices. */
  private static final class Call {
    private float[] src;
    private float[] dst;
    private int srcOffset;
    private int srcStride;
    private int dstOffset;
    private int dstStride;
    private int length;
    private boolean accumulate;

    private final ThreadTeam.RangeBody elements = this::elements;

    Call with(
        float[] src,
        int srcOffset,
        int srcStride,
        float[] dst,
        int dstOffset,
        int dstStride,
        int length) {
      this.src = src;
      this.srcOffset = srcOffset;
      this.srcStride = srcStride;
      this.dst = dst;
      this.dstOffset = dstOffset;
      this.dstStride = dstStride;
      this.length = length;
      return this;
    }

    void release() {
      src = dst = null;
    }

    // Flat elements [from, to) of the blocks laid end to end: a partial first block, whole ones,
    // a partial last one.
    private void elements(int from, int to) {
      int block = from / length, i = from - block * length;
      while (from < to) {
        int n = Math.min(length - i, to - from);
        int s = srcOffset + block * srcStride + i, d = dstOffset + block * dstStride + i;
        if (accumulate) {
          add(s, d, n);
        } else {
          System.arraycopy(src, s, dst, d, n);
        }
        from += n;
        block++;
        i = 0;
      }
    }

    // dst[d .. d + n) += src[s .. s + n)
    private void add(int s, int d, int n) {
      int i = 0;
      for (int bound = Vectors.loopBound(n); i < bound; i += L) {
        FloatVector.fromArray(S, src, s + i)
            .add(FloatVector.fromArray(S, dst, d + i))
            .intoArray(dst, d + i);
      }
      for (; i < n; i++) {
        dst[d + i] += src[s + i];
      }
    }
  }
}
