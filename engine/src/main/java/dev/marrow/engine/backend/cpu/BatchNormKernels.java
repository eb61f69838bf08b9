package dev.marrow.engine.backend.cpu;

/**
 * Batch normalisation over x of shape (n, c, spatial): statistics per channel c over n·spatial
 * values. Channels are split over the team; each channel's sums run in double, in a fixed order. A
 * call allocates nothing: its arguments go into the calling thread's {@link Call}, whose loop
 * bodies are built once.
 */
final class BatchNormKernels {
  private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

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

    private void forwardTraining(int c0, int c1) {
      int count = n * spatial;
      for (int ch = c0; ch < c1; ch++) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
          int o = (i * c + ch) * spatial;
          for (int s = 0; s < spatial; s++) {
            sum += x[o + s];
          }
        }
        double mean = sum / count, sq = 0;
        for (int i = 0; i < n; i++) {
          int o = (i * c + ch) * spatial;
          for (int s = 0; s < spatial; s++) {
            double d = x[o + s] - mean;
            sq += d * d;
          }
        }
        double var = sq / count;
        float invStd = (float) (1 / Math.sqrt(var + eps));
        savedMean[ch] = (float) mean;
        savedInvStd[ch] = invStd;
        double unbiased = count > 1 ? sq / (count - 1) : var;
        runningMean[ch] = (float) ((1 - factor) * runningMean[ch] + factor * mean);
        runningVar[ch] = (float) ((1 - factor) * runningVar[ch] + factor * unbiased);
        float scale = gamma[ch] * invStd, shift = (float) (beta[ch] - mean * scale);
        normalize(ch, scale, shift);
      }
    }

    private void forwardInference(int c0, int c1) {
      for (int ch = c0; ch < c1; ch++) {
        float scale = (float) (gamma[ch] / Math.sqrt(runningVar[ch] + eps));
        float shift = beta[ch] - runningMean[ch] * scale;
        normalize(ch, scale, shift);
      }
    }

    private void normalize(int ch, float scale, float shift) {
      for (int i = 0; i < n; i++) {
        int o = (i * c + ch) * spatial;
        for (int s = 0; s < spatial; s++) {
          y[o + s] = x[o + s] * scale + shift;
        }
      }
    }

    private void backward(int c0, int c1) {
      int count = n * spatial;
      for (int ch = c0; ch < c1; ch++) {
        float mean = savedMean[ch], invStd = savedInvStd[ch];
        double sumDy = 0, sumDyXhat = 0;
        for (int i = 0; i < n; i++) {
          int o = (i * c + ch) * spatial;
          for (int s = 0; s < spatial; s++) {
            float d = dy[o + s];
            sumDy += d;
            sumDyXhat += d * ((x[o + s] - mean) * invStd);
          }
        }
        dGamma[ch] = (float) sumDyXhat;
        dBeta[ch] = (float) sumDy;
        float k = gamma[ch] * invStd / count;
        float meanDy = (float) sumDy, meanDyXhat = (float) sumDyXhat;
        for (int i = 0; i < n; i++) {
          int o = (i * c + ch) * spatial;
          for (int s = 0; s < spatial; s++) {
            float xhat = (x[o + s] - mean) * invStd;
            dx[o + s] = k * (count * dy[o + s] - meanDy - xhat * meanDyXhat);
          }
        }
      }
    }
  }
}
