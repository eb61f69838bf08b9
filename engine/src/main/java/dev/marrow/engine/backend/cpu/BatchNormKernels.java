package dev.marrow.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
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
    double sum;
    double squares;
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final ThreadTeam team;

  BatchNormKernels(ThreadTeam team) {
    this.team = team;
  }

  void forwardTraining(
      int n,
      int c,
      int spatial,
      float[] x,
      float[] gamma,
      float[] beta,
      float[] runningMean,
      float[] runningVar,
      float factor,
      float eps,
      float[] savedMean,
      float[] savedInvStd,
      float[] y) {
    Call k = CALLS.get().shape(n, c, spatial, x, gamma);
    k.beta = beta;
    k.runningMean = runningMean;
    k.runningVar = runningVar;
    k.factor = factor;
    k.eps = eps;
    k.savedMean = savedMean;
    k.savedInvStd = savedInvStd;
    k.y = y;
    team.parallelFor(c, 1, k.forwardTraining);
    k.release();
  }

  void forwardInference(
      int n,
      int c,
      int spatial,
      float[] x,
      float[] gamma,
      float[] beta,
      float[] runningMean,
      float[] runningVar,
      float eps,
      float[] y) {
    Call k = CALLS.get().shape(n, c, spatial, x, gamma);
    k.beta = beta;
    k.runningMean = runningMean;
    k.runningVar = runningVar;
    k.eps = eps;
    k.y = y;
    team.parallelFor(c, 1, k.forwardInference);
    k.release();
  }

  // dx = γ·invStd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ(dy·x̂), dβ = Σdy
  void backward(
      int n,
      int c,
      int spatial,
      float[] x,
      float[] dy,
      float[] gamma,
      float[] savedMean,
      float[] savedInvStd,
      float[] dx,
      float[] dGamma,
      float[] dBeta) {
    Call k = CALLS.get().shape(n, c, spatial, x, gamma);
    k.dy = dy;
    k.savedMean = savedMean;
    k.savedInvStd = savedInvStd;
    k.dx = dx;
    k.dGamma = dGamma;
    k.dBeta = dBeta;
    team.parallelFor(c, 1, k.backward);
    k.release();
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

    private final ThreadTeam.RangeBody forwardTraining = this::forwardTraining;
    private final ThreadTeam.RangeBody forwardInference = this::forwardInference;
    private final ThreadTeam.RangeBody backward = this::backward;

    Call shape(int n, int c, int spatial, float[] x, float[] gamma) {
      this.n = n;
      this.c = c;
      this.spatial = spatial;
      this.x = x;
      this.gamma = gamma;
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
      int bound = Vectors.loopBound(spatial);
      for (int i = 0; i < n; i++) {
        int o = (i * c + ch) * spatial, s = 0;
        FloatVector vs = FloatVector.zero(S), vq = FloatVector.zero(S);
        for (; s < bound; s += L) {
          FloatVector d = FloatVector.fromArray(S, x, o + s).sub(vk);
          vs = vs.add(d);
          vq = d.fma(d, vq);
        }
        vs.intoArray(lanes, 0);
        vq.intoArray(lanes2, 0);
        for (int l = 0; l < L; l++) {
          sum += lanes[l];
          sq += lanes2[l];
        }
        for (; s < spatial; s++) {
          float d = x[o + s] - shift;
          sum += d;
          sq += d * d;
        }
      }
      t.sum = sum;
      t.squares = sq;
    }

    // Two passes over x: the moments, then y.
    private void forwardTraining(int c0, int c1) {
      int count = n * spatial;
      Scratch t = SCRATCH.get();
      for (int ch = c0; ch < c1; ch++) {
        float shift = x[ch * spatial];
        shiftedMoments(ch, shift, t);
        double meanShifted = t.sum / count;
        double sq = Math.max(0, t.squares - t.sum * meanShifted); // Σ(x − mean)²
        double mean = shift + meanShifted, var = sq / count;
        float invStd = (float) (1 / Math.sqrt(var + eps));
        savedMean[ch] = (float) mean;
        savedInvStd[ch] = invStd;
        double unbiased = count > 1 ? sq / (count - 1) : var;
        runningMean[ch] = (float) ((1 - factor) * runningMean[ch] + factor * mean);
        runningVar[ch] = (float) ((1 - factor) * runningVar[ch] + factor * unbiased);
        float scale = gamma[ch] * invStd, shiftOut = (float) (beta[ch] - mean * scale);
        normalize(ch, scale, shiftOut);
      }
    }

    private void forwardInference(int c0, int c1) {
      for (int ch = c0; ch < c1; ch++) {
        float scale = (float) (gamma[ch] / Math.sqrt(runningVar[ch] + eps));
        float shift = beta[ch] - runningMean[ch] * scale;
        normalize(ch, scale, shift);
      }
    }

    // y = x·scale + shift over one channel
    private void normalize(int ch, float scale, float shift) {
      FloatVector va = FloatVector.broadcast(S, scale), vb = FloatVector.broadcast(S, shift);
      int bound = Vectors.loopBound(spatial);
      for (int i = 0; i < n; i++) {
        int o = (i * c + ch) * spatial, s = 0;
        for (; s < bound; s += L) {
          FloatVector.fromArray(S, x, o + s).fma(va, vb).intoArray(y, o + s);
        }
        for (; s < spatial; s++) {
          y[o + s] = x[o + s] * scale + shift;
        }
      }
    }

    // Two passes: Σdy and Σdy·x̂ (vectors per image row, lanes into doubles), then dx.
    private void backward(int c0, int c1) {
      int count = n * spatial, bound = Vectors.loopBound(spatial);
      Scratch t = SCRATCH.get();
      float[] lanes = t.lanes, lanes2 = t.lanes2;
      for (int ch = c0; ch < c1; ch++) {
        float mean = savedMean[ch], invStd = savedInvStd[ch];
        FloatVector vm = FloatVector.broadcast(S, mean), vi = FloatVector.broadcast(S, invStd);
        double sumDy = 0, sumDyXhat = 0;
        for (int i = 0; i < n; i++) {
          int o = (i * c + ch) * spatial, s = 0;
          FloatVector vd = FloatVector.zero(S), vdx = FloatVector.zero(S);
          for (; s < bound; s += L) {
            FloatVector d = FloatVector.fromArray(S, dy, o + s);
            FloatVector xhat = FloatVector.fromArray(S, x, o + s).sub(vm).mul(vi);
            vd = vd.add(d);
            vdx = d.fma(xhat, vdx);
          }
          vd.intoArray(lanes, 0);
          vdx.intoArray(lanes2, 0);
          for (int l = 0; l < L; l++) {
            sumDy += lanes[l];
            sumDyXhat += lanes2[l];
          }
          for (; s < spatial; s++) {
            float d = dy[o + s];
            sumDy += d;
            sumDyXhat += d * ((x[o + s] - mean) * invStd);
          }
        }
        dGamma[ch] = (float) sumDyXhat;
        dBeta[ch] = (float) sumDy;
        float k = gamma[ch] * invStd / count;
        float meanDy = (float) sumDy, meanDyXhat = (float) sumDyXhat;
        // dx = k·(count·dy − Σdy − x̂·Σdy·x̂)
        FloatVector vk = FloatVector.broadcast(S, k), vc = FloatVector.broadcast(S, (float) count);
        FloatVector vsd = FloatVector.broadcast(S, meanDy);
        FloatVector vsx = FloatVector.broadcast(S, meanDyXhat);
        for (int i = 0; i < n; i++) {
          int o = (i * c + ch) * spatial, s = 0;
          for (; s < bound; s += L) {
            FloatVector xhat = FloatVector.fromArray(S, x, o + s).sub(vm).mul(vi);
            FloatVector.fromArray(S, dy, o + s)
                .mul(vc)
                .sub(vsd)
                .sub(xhat.mul(vsx))
                .mul(vk)
                .intoArray(dx, o + s);
          }
          for (; s < spatial; s++) {
            float xhat = (x[o + s] - mean) * invStd;
            dx[o + s] = k * (count * dy[o + s] - meanDy - xhat * meanDyXhat);
          }
        }
      }
    }
  }
}
