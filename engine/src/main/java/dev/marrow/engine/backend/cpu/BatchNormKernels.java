package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.BatchNormArgs;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch normalisation over x of shape (n, c, spatial): statistics per channel c over n·spatial
 * values, on float vectors. Channels are split over the team; each channel's sums are added into
 * doubles in a fixed order. A call allocates nothing: its arguments go into the calling thread's
 * {@link Call}, whose loop bodies are built once.
 */
final class BatchNormKernels {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;
  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

  /** Where the thread running a range of channels keeps its lanes and sums. */
  private static final class Scratch {
    final float[] lanes = new float[L];
    final float[] lanes2 = new float[L];
    final double[] sums = new double[L];
    final double[] sums2 = new double[L];
    final float[] scales = new float[L];
    final float[] offsets = new float[L];
    double sum;
    double squares;
    float scale;
    float offset;
  }

  /**
   * Float vectors add this many values a lane before their lanes go into the double sums: adding
   * them into doubles after every image row cost a chain of 2·L dependent double additions a row, 2
   * ns an element for vgg's 3 × 3 images (9 values a row) against 0.5 at 28 × 28.
   */
  private static final int LANE_BLOCK = 32;

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final ThreadTeam team;

  BatchNormKernels(ThreadTeam team) {
    this.team = team;
  }

  // x, y: (n, c, spatial) of bn; writes y = γ·x̂ + β (then max(0, ·) when relu), the saved
  // statistics and the running ones
  void forwardTraining(BatchNormArgs bn, float[] x, boolean relu, float[] y) {
    Call k = CALLS.get().shape(bn, x);
    k.relu = relu;
    k.beta = bn.beta().array();
    k.runningMean = bn.runningMean().array();
    k.runningVar = bn.runningVar().array();
    k.factor = bn.factor();
    k.eps = bn.epsilon();
    k.savedMean = bn.savedMean().array();
    k.savedInvStd = bn.savedInvStd().array();
    k.y = y;
    if (bn.spatial() == 1) {
      team.parallelFor(columnBlocks(bn.c()), 1, k.forwardTrainingColumns);
    } else {
      team.parallelFor(bn.c(), 1, k.forwardTraining);
    }
    k.release();
  }

  // x, y: (n, c, spatial) of bn, normalised with the running statistics
  void forwardInference(BatchNormArgs bn, float[] x, boolean relu, float[] y) {
    Call k = CALLS.get().shape(bn, x);
    k.relu = relu;
    k.beta = bn.beta().array();
    k.runningMean = bn.runningMean().array();
    k.runningVar = bn.runningVar().array();
    k.eps = bn.epsilon();
    k.y = y;
    if (bn.spatial() == 1) {
      team.parallelFor(columnBlocks(bn.c()), 1, k.forwardInferenceColumns);
    } else {
      team.parallelFor(bn.c(), 1, k.forwardInference);
    }
    k.release();
  }

  // x, dy, dx: (n, c, spatial) of bn; dγ, dβ: (c).
  // dx = γ·invStd/N · (N·g − Σg − x̂·Σ(g·x̂)), dγ = Σ(g·x̂), dβ = Σg, where g = dy, or with a
  // ReLU after the batch norm (relu) g = dy where x·scale + offset > 0 and 0 elsewhere: the
  // forward's test recomputed from the saved statistics ({@link Call#reluOffset})
  void backward(
      BatchNormArgs bn,
      float[] x,
      float[] dy,
      boolean relu,
      float[] dx,
      float[] dGamma,
      float[] dBeta) {
    Call k = CALLS.get().shape(bn, x);
    k.relu = relu;
    k.beta = relu ? bn.beta().array() : null;
    k.dy = dy;
    k.savedMean = bn.savedMean().array();
    k.savedInvStd = bn.savedInvStd().array();
    k.dx = dx;
    k.dGamma = dGamma;
    k.dBeta = dBeta;
    if (bn.spatial() == 1) {
      team.parallelFor(columnBlocks(bn.c()), 1, k.backwardColumns);
    } else {
      team.parallelFor(bn.c(), 1, k.backward);
    }
    k.release();
  }

  /** Blocks of L channels (the last may be partial) for x of shape (n, c), spatial 1. */
  private static int columnBlocks(int c) {
    return (c + L - 1) / L;
  }

  /** One thread's batch-norm call in flight and its loop bodies over ranges of channels. */
  private static final class Call {
    private int n;
    private int c;
    private int spatial;
    private float[] x;
    private float[] gamma;
    private float[] beta;
    private float[] runningMean;
    private float[] runningVar;
    private float factor;
    private float eps;
    private float[] savedMean;
    private float[] savedInvStd;
    private float[] y;
    private float[] dy;
    private float[] dx;
    private float[] dGamma;
    private float[] dBeta;

    /** A ReLU after the batch norm: y = max(0, ·) forward, dy masked by the same test backward. */
    private boolean relu;

    private final ThreadTeam.RangeBody forwardTraining = this::forwardTraining;
    private final ThreadTeam.RangeBody forwardInference = this::forwardInference;
    private final ThreadTeam.RangeBody backward = this::backward;
    private final ThreadTeam.RangeBody forwardTrainingColumns = this::forwardTrainingColumns;
    private final ThreadTeam.RangeBody forwardInferenceColumns = this::forwardInferenceColumns;
    private final ThreadTeam.RangeBody backwardColumns = this::backwardColumns;

    Call shape(BatchNormArgs bn, float[] x) {
      this.n = bn.n();
      this.c = bn.c();
      this.spatial = bn.spatial();
      this.x = x;
      this.gamma = bn.gamma().array();
      return this;
    }

    void release() {
      x = gamma = beta = runningMean = runningVar = savedMean = savedInvStd = null;
      y = dy = dx = dGamma = dBeta = null;
    }

    // Σ(x − shift) and Σ(x − shift)² over one channel, in one pass: float vectors per image row,
    // their lanes added into doubles in a fixed order (deterministic). Shifting by a value of the
    // channel keeps E[(x−k)²] − E[x−k]² free of cancellation when the mean is large beside the
    // spread, which plain sums of x and x² are not. Results go to the running thread's scratch:
    // this Call is shared by the team's threads, each on its own channels.
    private void shiftedMoments(int ch, float shift, Scratch t) {
      float[] lanes = t.lanes, lanes2 = t.lanes2;
      FloatVector vk = FloatVector.broadcast(S, shift);
      double sum = 0, sq = 0;
      int bound = Vectors.loopBound(spatial), rows = imagesPerBlock();
      for (int i0 = 0; i0 < n; i0 += rows) {
        FloatVector vs = FloatVector.zero(S), vq = FloatVector.zero(S);
        float ts = 0, tq = 0;
        for (int i = i0, i1 = Math.min(n, i0 + rows); i < i1; i++) {
          int o = (i * c + ch) * spatial, s = 0;
          for (; s < bound; s += L) {
            FloatVector d = FloatVector.fromArray(S, x, o + s).sub(vk);
            vs = vs.add(d);
            vq = d.fma(d, vq);
          }
          for (; s < spatial; s++) {
            float d = x[o + s] - shift;
            ts += d;
            tq += d * d;
          }
        }
        vs.intoArray(lanes, 0);
        vq.intoArray(lanes2, 0);
        for (int l = 0; l < L; l++) {
          sum += lanes[l];
          sq += lanes2[l];
        }
        sum += ts;
        sq += tq;
      }
      t.sum = sum;
      t.squares = sq;
    }

    /** Images whose rows a lane adds in float before the double sums ({@link #LANE_BLOCK}). */
    private int imagesPerBlock() {
      return Math.max(1, LANE_BLOCK / Math.max(1, (spatial + L - 1) / L));
    }

    // Two passes over x: the moments, then y.
    private void forwardTraining(int c0, int c1) {
      Scratch t = SCRATCH.get();
      for (int ch = c0; ch < c1; ch++) {
        float shift = x[ch * spatial];
        shiftedMoments(ch, shift, t);
        statistics(ch, shift, t.sum, t.squares, t);
        normalize(ch, t.scale, t.offset);
      }
    }

    // Saved and running statistics of channel ch from Σ(x − shift) and Σ(x − shift)²; y's scale
    // and offset (y = x·scale + offset) into t.
    private void statistics(int ch, float shift, double sum, double squares, Scratch t) {
      int count = n * spatial;
      double meanShifted = sum / count;
      double sq = Math.max(0, squares - sum * meanShifted); // Σ(x − mean)²
      double mean = shift + meanShifted, var = sq / count;
      float invStd = (float) (1 / Math.sqrt(var + eps));
      savedMean[ch] = (float) mean;
      savedInvStd[ch] = invStd;
      double unbiased = count > 1 ? sq / (count - 1) : var;
      runningMean[ch] = (float) ((1 - factor) * runningMean[ch] + factor * mean);
      runningVar[ch] = (float) ((1 - factor) * runningVar[ch] + factor * unbiased);
      float scale = gamma[ch] * invStd;
      t.scale = scale;
      t.offset = relu ? reluOffset(ch, scale) : (float) (beta[ch] - mean * scale);
    }

    /**
     * y's offset when a ReLU follows, from the saved (float) mean so that the backward pass can
     * recompute the ReLU's test x·scale + offset > 0 exactly; scale = γ·savedInvStd.
     */
    private float reluOffset(int ch, float scale) {
      return beta[ch] - savedMean[ch] * scale;
    }

    /** The least value of y: 0 with a ReLU after the batch norm, none without. */
    private float floor() {
      return relu ? 0f : Float.NEGATIVE_INFINITY;
    }

    // Spatial 1 (after Dense): x is (n, c), so a channel is a column c floats apart and read one
    // by one it costs a cache line an element (11 ns an element at 128 × 1024). L channels are a
    // vector of each row instead, their sums lanes, in the same shifted form and block order; y =
    // x·scale + offset rounds the product first, as the scalar path did (a constant column → 0).
    private void forwardTrainingColumns(int b0, int b1) {
      Scratch t = SCRATCH.get();
      for (int blk = b0; blk < b1; blk++) {
        int ch = blk * L;
        if (ch + L > c) { // the last, partial block channel by channel
          forwardTraining(ch, c);
          continue;
        }
        FloatVector vk = FloatVector.fromArray(S, x, ch); // each channel's first value
        java.util.Arrays.fill(t.sums, 0);
        java.util.Arrays.fill(t.sums2, 0);
        for (int i0 = 0; i0 < n; i0 += LANE_BLOCK) {
          FloatVector vs = FloatVector.zero(S), vq = FloatVector.zero(S);
          for (int i = i0, i1 = Math.min(n, i0 + LANE_BLOCK); i < i1; i++) {
            FloatVector d = FloatVector.fromArray(S, x, i * c + ch).sub(vk);
            vs = vs.add(d);
            vq = d.fma(d, vq);
          }
          addLanes(vs, vq, t);
        }
        vk.intoArray(t.lanes, 0);
        for (int l = 0; l < L; l++) {
          statistics(ch + l, t.lanes[l], t.sums[l], t.sums2[l], t);
          t.scales[l] = t.scale;
          t.offsets[l] = t.offset;
        }
        normalizeColumns(ch, t);
      }
    }

    // y = max(floor, x·scale + offset) for channels ch … ch + L of every row, scales and offsets
    // from t.scales and t.offsets
    private void normalizeColumns(int ch, Scratch t) {
      FloatVector va = FloatVector.fromArray(S, t.scales, 0);
      FloatVector vb = FloatVector.fromArray(S, t.offsets, 0);
      FloatVector vf = FloatVector.broadcast(S, floor());
      for (int i = 0; i < n; i++) {
        FloatVector.fromArray(S, x, i * c + ch).mul(va).add(vb).max(vf).intoArray(y, i * c + ch);
      }
    }

    // t.sums[l] += vs[l], t.sums2[l] += vq[l]
    private static void addLanes(FloatVector vs, FloatVector vq, Scratch t) {
      vs.intoArray(t.lanes, 0);
      vq.intoArray(t.lanes2, 0);
      for (int l = 0; l < L; l++) {
        t.sums[l] += t.lanes[l];
        t.sums2[l] += t.lanes2[l];
      }
    }

    private void forwardInference(int c0, int c1) {
      for (int ch = c0; ch < c1; ch++) {
        float scale = (float) (gamma[ch] / Math.sqrt(runningVar[ch] + eps));
        float shift = beta[ch] - runningMean[ch] * scale;
        normalize(ch, scale, shift);
      }
    }

    // y = max(floor, x·scale + shift) over one channel (a fused multiply-add in the vectors; the
    // tail, all of a channel when spatial < L, rounds the product first)
    private void normalize(int ch, float scale, float shift) {
      FloatVector va = FloatVector.broadcast(S, scale), vb = FloatVector.broadcast(S, shift);
      float floor = floor();
      FloatVector vf = FloatVector.broadcast(S, floor);
      int bound = Vectors.loopBound(spatial);
      for (int i = 0; i < n; i++) {
        int o = (i * c + ch) * spatial, s = 0;
        for (; s < bound; s += L) {
          FloatVector.fromArray(S, x, o + s).fma(va, vb).max(vf).intoArray(y, o + s);
        }
        for (; s < spatial; s++) {
          y[o + s] = Math.max(floor, x[o + s] * scale + shift);
        }
      }
    }

    private void forwardInferenceColumns(int b0, int b1) {
      Scratch t = SCRATCH.get();
      for (int blk = b0; blk < b1; blk++) {
        int ch = blk * L;
        if (ch + L > c) {
          forwardInference(ch, c);
          continue;
        }
        for (int l = 0; l < L; l++) {
          float scale = (float) (gamma[ch + l] / Math.sqrt(runningVar[ch + l] + eps));
          t.scales[l] = scale;
          t.offsets[l] = beta[ch + l] - runningMean[ch + l] * scale;
        }
        normalizeColumns(ch, t);
      }
    }

    // Two passes: Σdy and Σdy·x̂ (float vectors over blocks of image rows, lanes into doubles),
    // then dx.
    private void backward(int c0, int c1) {
      int bound = Vectors.loopBound(spatial), rows = imagesPerBlock();
      Scratch t = SCRATCH.get();
      float[] lanes = t.lanes, lanes2 = t.lanes2;
      for (int ch = c0; ch < c1; ch++) {
        float mean = savedMean[ch], invStd = savedInvStd[ch];
        FloatVector vm = FloatVector.broadcast(S, mean), vi = FloatVector.broadcast(S, invStd);
        float scale = gamma[ch] * invStd, offset = testOffset(ch, scale);
        FloatVector vsc = FloatVector.broadcast(S, scale), vof = FloatVector.broadcast(S, offset);
        double sumDy = 0, sumDyXhat = 0;
        for (int i0 = 0; i0 < n; i0 += rows) {
          FloatVector vd = FloatVector.zero(S), vdx = FloatVector.zero(S);
          float td = 0, tdx = 0;
          for (int i = i0, i1 = Math.min(n, i0 + rows); i < i1; i++) {
            int o = (i * c + ch) * spatial, s = 0;
            for (; s < bound; s += L) {
              FloatVector xv = FloatVector.fromArray(S, x, o + s);
              FloatVector d = masked(FloatVector.fromArray(S, dy, o + s), xv.fma(vsc, vof));
              FloatVector xhat = xv.sub(vm).mul(vi);
              vd = vd.add(d);
              vdx = d.fma(xhat, vdx);
            }
            for (; s < spatial; s++) {
              float xv = x[o + s], d = keptWhere(xv * scale + offset, dy[o + s]);
              td += d;
              tdx += d * ((xv - mean) * invStd);
            }
          }
          vd.intoArray(lanes, 0);
          vdx.intoArray(lanes2, 0);
          for (int l = 0; l < L; l++) {
            sumDy += lanes[l];
            sumDyXhat += lanes2[l];
          }
          sumDy += td;
          sumDyXhat += tdx;
        }
        dGamma[ch] = (float) sumDyXhat;
        dBeta[ch] = (float) sumDy;
        inputGradient(ch, mean, invStd, (float) sumDy, (float) sumDyXhat);
      }
    }

    /**
     * The offset of the ReLU's test x·scale + offset > 0 (as the forward pass computed it), or +∞
     * without a ReLU, which lets every dy through.
     */
    private float testOffset(int ch, float scale) {
      return relu ? reluOffset(ch, scale) : Float.POSITIVE_INFINITY;
    }

    /**
     * dy where z > 0 (or z is NaN, as the vectors' test), else 0, without a branch: the ReLU's test
     * is a coin toss per element, and as a branch it made the backward pass at 3 × 3 images (all of
     * a channel in this scalar path) 2.7× slower than batch norm's and the ReLU's apart.
     */
    private static float keptWhere(float z, float dy) {
      int bits = Float.floatToRawIntBits(z);
      int keep = ~(((bits - 1) | bits) >> 31); // all ones where bits > 0 as an int: z > 0, NaN
      return Float.intBitsToFloat(Float.floatToRawIntBits(dy) & keep);
    }

    // g = dy where the ReLU's input z = x·scale + offset (as the forward pass rounded it) > 0
    private static FloatVector masked(FloatVector dy, FloatVector z) {
      return dy.blend(0f, z.compare(VectorOperators.LE, 0f));
    }

    // dx = k·(count·g − Σg − x̂·Σg·x̂), k = γ·invStd / count, over one channel
    private void inputGradient(int ch, float mean, float invStd, float sumDy, float sumDyXhat) {
      int count = n * spatial, bound = Vectors.loopBound(spatial);
      float scale = gamma[ch] * invStd, k = scale / count, offset = testOffset(ch, scale);
      FloatVector vsc = FloatVector.broadcast(S, scale), vof = FloatVector.broadcast(S, offset);
      FloatVector vm = FloatVector.broadcast(S, mean), vi = FloatVector.broadcast(S, invStd);
      FloatVector vk = FloatVector.broadcast(S, k), vc = FloatVector.broadcast(S, (float) count);
      FloatVector vsd = FloatVector.broadcast(S, sumDy);
      FloatVector vsx = FloatVector.broadcast(S, sumDyXhat);
      for (int i = 0; i < n; i++) {
        int o = (i * c + ch) * spatial, s = 0;
        for (; s < bound; s += L) {
          FloatVector xv = FloatVector.fromArray(S, x, o + s);
          FloatVector xhat = xv.sub(vm).mul(vi);
          masked(FloatVector.fromArray(S, dy, o + s), xv.fma(vsc, vof))
              .mul(vc)
              .sub(vsd)
              .sub(xhat.mul(vsx))
              .mul(vk)
              .intoArray(dx, o + s);
        }
        for (; s < spatial; s++) {
          float xv = x[o + s], xhat = (xv - mean) * invStd;
          float g = keptWhere(xv * scale + offset, dy[o + s]);
          dx[o + s] = k * (count * g - sumDy - xhat * sumDyXhat);
        }
      }
    }

    // The backward of forwardTrainingColumns: L channels a vector of each row of (n, c).
    private void backwardColumns(int b0, int b1) {
      Scratch t = SCRATCH.get();
      FloatVector vc = FloatVector.broadcast(S, (float) n);
      for (int blk = b0; blk < b1; blk++) {
        int ch = blk * L;
        if (ch + L > c) {
          backward(ch, c);
          continue;
        }
        FloatVector vm = FloatVector.fromArray(S, savedMean, ch);
        FloatVector vi = FloatVector.fromArray(S, savedInvStd, ch);
        FloatVector vsc = FloatVector.fromArray(S, gamma, ch).mul(vi);
        FloatVector vof = // testOffset, lane by lane
            relu
                ? FloatVector.fromArray(S, beta, ch).sub(vm.mul(vsc))
                : FloatVector.broadcast(S, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(t.sums, 0);
        java.util.Arrays.fill(t.sums2, 0);
        for (int i0 = 0; i0 < n; i0 += LANE_BLOCK) {
          FloatVector vd = FloatVector.zero(S), vdx = FloatVector.zero(S);
          for (int i = i0, i1 = Math.min(n, i0 + LANE_BLOCK); i < i1; i++) {
            FloatVector xv = FloatVector.fromArray(S, x, i * c + ch);
            FloatVector z = xv.mul(vsc).add(vof);
            FloatVector d = masked(FloatVector.fromArray(S, dy, i * c + ch), z);
            FloatVector xhat = xv.sub(vm).mul(vi);
            vd = vd.add(d);
            vdx = d.fma(xhat, vdx);
          }
          addLanes(vd, vdx, t);
        }
        for (int l = 0; l < L; l++) {
          dGamma[ch + l] = (float) t.sums2[l];
          dBeta[ch + l] = (float) t.sums[l];
          t.scales[l] = (float) t.sums[l];
          t.offsets[l] = (float) t.sums2[l];
        }
        FloatVector vsd = FloatVector.fromArray(S, t.scales, 0);
        FloatVector vsx = FloatVector.fromArray(S, t.offsets, 0);
        FloatVector vk = vsc.div(vc);
        for (int i = 0; i < n; i++) {
          FloatVector xv = FloatVector.fromArray(S, x, i * c + ch);
          FloatVector xhat = xv.sub(vm).mul(vi);
          masked(FloatVector.fromArray(S, dy, i * c + ch), xv.mul(vsc).add(vof))
              .mul(vc)
              .sub(vsd)
              .sub(xhat.mul(vsx))
              .mul(vk)
              .intoArray(dx, i * c + ch);
        }
      }
    }
  }
}
