package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max and average pooling over NCHW planes; planes are split over the team. A call allocates
 * nothing: its arguments go into the calling thread's {@link Call}, whose loop bodies are built
 * once.
 */
final class PoolKernels {
  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);
  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  /** Lane i takes lane i ^ 1: each lane meets its neighbour in the same window. */
  private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);

  /** Lanes 0, 2, 4, … into the lower half (the upper half is not stored). */
  private static final VectorShuffle<Float> EVEN_LANES_FIRST =
      VectorShuffle.fromOp(S, i -> 2 * i % L);

  private static final VectorMask<Float> LOWER_HALF = S.indexInRange(0, L / 2);

  /** Input elements below which pooling stays on the calling thread. */
  private static final int PARALLEL_MIN_ELEMENTS = 1 << 15;

  private final ThreadTeam team;

  PoolKernels(ThreadTeam team) {
    this.team = team;
  }

  // The CNNs' case: 2×2 windows, stride 2, no padding, no dilation.
  private static boolean isPlain2x2(ConvGeometry g) {
    return g.kh() == 2
        && g.kw() == 2
        && g.strideH() == 2
        && g.strideW() == 2
        && g.padTop() == 0
        && g.padLeft() == 0
        && g.dilationH() == 1
        && g.dilationW() == 1
        && 2 * g.outH() <= g.h()
        && 2 * g.outW() <= g.w(); // no window hangs over the edge
  }

  // x is (n, c, h, w), y is (n, c, outH, outW)
  void forward(PoolMode mode, ConvGeometry g, float[] x, float[] y) {
    Call c = CALLS.get().with(mode, g, x, null, null, y);
    boolean plain = mode == PoolMode.MAX && isPlain2x2(g);
    run(g, plain ? c.maxForward2x2Planes : c.forwardPlanes);
    c.release();
  }

  // dx (overwritten) from dy; max routes to the first maximum of each window, y being the
  // forward output for x.
  void backward(PoolMode mode, ConvGeometry g, float[] x, float[] y, float[] dy, float[] dx) {
    Call c = CALLS.get().with(mode, g, x, dy, dx, y);
    boolean plain = mode == PoolMode.MAX && isPlain2x2(g);
    run(g, plain ? c.maxBackward2x2Planes : c.backwardPlanes);
    c.release();
  }

  /**
   * Over the planes, on the team only when there is enough to share: waking the team for one
   * image's 16 planes cost more than pooling them (cnn inference at batch 1).
   */
  private void run(ConvGeometry g, ThreadTeam.RangeBody planes) {
    team.forRange(g.n() * g.c(), Math.max(4, PARALLEL_MIN_ELEMENTS / (g.h() * g.w())), planes);
  }

  /** One thread's pooling call in flight and its loop bodies over ranges of planes. */
  private static final class Call {
    private PoolMode mode;
    private ConvGeometry g;
    private float[] x;
    private float[] dy;
    private float[] dx;
    private float[] y;

    private final ThreadTeam.RangeBody forwardPlanes = this::forwardPlanes;
    private final ThreadTeam.RangeBody maxForward2x2Planes = this::maxForward2x2Planes;
    private final ThreadTeam.RangeBody maxBackward2x2Planes = this::maxBackward2x2Planes;
    private final ThreadTeam.RangeBody backwardPlanes = this::backwardPlanes;

    Call with(PoolMode mode, ConvGeometry g, float[] x, float[] dy, float[] dx, float[] y) {
      this.mode = mode;
      this.g = g;
      this.x = x;
      this.dy = dy;
      this.dx = dx;
      this.y = y;
      return this;
    }

    void release() {
      mode = null;
      g = null;
      x = dy = dx = y = null;
    }

    private void forwardPlanes(int p0, int p1) {
      int inPlane = g.h() * g.w(), outPlane = g.outputPixels();

      for (int plane = p0; plane < p1; plane++) {
        int xo = plane * inPlane, yo = plane * outPlane;
        for (int oh = 0; oh < g.outH(); oh++) {
          int r0 = oh * g.strideH() - g.padTop();
          for (int ow = 0; ow < g.outW(); ow++) {
            int c0 = ow * g.strideW() - g.padLeft();
            float max = Float.NEGATIVE_INFINITY, sum = 0;
            int count = 0;
            for (int i = 0; i < g.kh(); i++) {
              int r = r0 + i * g.dilationH();
              if (r < 0 || r >= g.h()) {
                continue;
              }
              for (int j = 0; j < g.kw(); j++) {
                int cc = c0 + j * g.dilationW();
                if (cc >= 0 && cc < g.w()) {
                  float v = x[xo + r * g.w() + cc];
                  max = Math.max(max, v);
                  sum += v;
                  count++;
                }
              }
            }
            y[yo + oh * g.outW() + ow] =
                switch (mode) {
                  case MAX -> max;
                  case AVERAGE_EXCLUDE_PADDING -> sum / count;
                  case AVERAGE_INCLUDE_PADDING -> sum / (g.kh() * g.kw());
                };
          }
        }
      }
    }

    // Half a vector of outputs at a time: the maximum of the two input rows, then of each lane
    // and its neighbour, the even lanes gathered into the lower half and stored under a mask.
    private void maxForward2x2Planes(int p0, int p1) {
      int w = g.w(), inPlane = g.h() * w, outPlane = g.outputPixels(), half = L / 2;

      for (int plane = p0; plane < p1; plane++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          int top = plane * inPlane + 2 * oh * w, out = plane * outPlane + oh * g.outW();
          int ow = 0;
          for (; ow + half <= g.outW(); ow += half) {
            int t = top + 2 * ow;
            FloatVector v = FloatVector.fromArray(S, x, t).max(FloatVector.fromArray(S, x, t + w));
            v.max(v.rearrange(SWAP_PAIRS))
                .rearrange(EVEN_LANES_FIRST)
                .intoArray(y, out + ow, LOWER_HALF);
          }
          for (; ow < g.outW(); ow++) {
            int t = top + 2 * ow;
            y[out + ow] = Math.max(Math.max(x[t], x[t + 1]), Math.max(x[t + w], x[t + w + 1]));
          }
        }
      }
    }

    // Windows do not overlap, so every input of a window is written once: the window's gradient
    // where it holds the window's first maximum (row-major, as PyTorch), +0 elsewhere. The maximum
    // is read from y (bit for bit one of the window's inputs) rather than searched for, and the
    // choice is made with integer masks: which of four inputs wins is a coin toss, and C2 compiled
    // comparisons and float selects into branches the predictor kept losing. Pool1 of the cnn at
    // batch 128: 1.61 → 0.54 ms.
    private void maxBackward2x2Planes(int p0, int p1) {
      int w = g.w(), inPlane = g.h() * w, outPlane = g.outputPixels();
      if (2 * g.outH() != g.h() || 2 * g.outW() != g.w()) {
        // a last odd row or column lies in no window: it gets no gradient
        java.util.Arrays.fill(dx, p0 * inPlane, p1 * inPlane, 0f);
      }
      for (int plane = p0; plane < p1; plane++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          int top = plane * inPlane + 2 * oh * w, out = plane * outPlane + oh * g.outW();
          for (int ow = 0; ow < g.outW(); ow++) {
            int t = top + 2 * ow, b = t + w;
            int max = Float.floatToRawIntBits(y[out + ow]);
            int grad = Float.floatToRawIntBits(dy[out + ow]);
            int first = equalMask(Float.floatToRawIntBits(x[t]), max);
            int second = equalMask(Float.floatToRawIntBits(x[t + 1]), max) & ~first;
            int taken = first | second;
            int third = equalMask(Float.floatToRawIntBits(x[b]), max) & ~taken;
            int fourth = equalMask(Float.floatToRawIntBits(x[b + 1]), max) & ~(taken | third);
            dx[t] = Float.intBitsToFloat(grad & first);
            dx[t + 1] = Float.intBitsToFloat(grad & second);
            dx[b] = Float.intBitsToFloat(grad & third);
            dx[b + 1] = Float.intBitsToFloat(grad & fourth);
          }
        }
      }
    }

    /** −1 (all bits set) when a == b, else 0, without a branch: d | −d is negative iff d ≠ 0. */
    private static int equalMask(int a, int b) {
      int d = a ^ b;
      return ~((d | -d) >> 31);
    }

    private void backwardPlanes(int p0, int p1) {
      int inPlane = g.h() * g.w(), outPlane = g.outputPixels();

      java.util.Arrays.fill(dx, p0 * inPlane, p1 * inPlane, 0f);
      for (int plane = p0; plane < p1; plane++) {
        int xo = plane * inPlane, yo = plane * outPlane;
        for (int oh = 0; oh < g.outH(); oh++) {
          int r0 = oh * g.strideH() - g.padTop();
          for (int ow = 0; ow < g.outW(); ow++) {
            int c0 = ow * g.strideW() - g.padLeft();
            float d = dy[yo + oh * g.outW() + ow];
            if (mode == PoolMode.MAX) {
              int best = -1;
              float max = 0;
              for (int i = 0; i < g.kh(); i++) {
                int r = r0 + i * g.dilationH();
                if (r < 0 || r >= g.h()) {
                  continue;
                }
                for (int j = 0; j < g.kw(); j++) {
                  int cc = c0 + j * g.dilationW();
                  if (cc >= 0 && cc < g.w()) {
                    int idx = xo + r * g.w() + cc;
                    if (best < 0 || x[idx] > max) { // first maximum wins, as in PyTorch
                      max = x[idx];
                      best = idx;
                    }
                  }
                }
              }
              dx[best] += d;
              continue;
            }
            int count = 0;
            if (mode == PoolMode.AVERAGE_EXCLUDE_PADDING) {
              for (int i = 0; i < g.kh(); i++) {
                int r = r0 + i * g.dilationH();
                for (int j = 0; j < g.kw(); j++) {
                  int cc = c0 + j * g.dilationW();
                  count += r >= 0 && r < g.h() && cc >= 0 && cc < g.w() ? 1 : 0;
                }
              }
            } else {
              count = g.kh() * g.kw();
            }
            float share = d / count;
            for (int i = 0; i < g.kh(); i++) {
              int r = r0 + i * g.dilationH();
              if (r < 0 || r >= g.h()) {
                continue;
              }
              for (int j = 0; j < g.kw(); j++) {
                int cc = c0 + j * g.dilationW();
                if (cc >= 0 && cc < g.w()) {
                  dx[xo + r * g.w() + cc] += share;
                }
              }
            }
          }
        }
      }
    }
  }
}
