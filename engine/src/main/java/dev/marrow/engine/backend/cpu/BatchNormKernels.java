package dev.marrow.engine.backend.cpu;

/**
 * Batch normalisation over x of shape (n, c, spatial): statistics per channel c over n·spatial
 * values. Channels are split over the team; each channel's sums run in double, in a fixed order.
 */
final class BatchNormKernels {
  private final ThreadTeam team;

  BatchNormKernels(ThreadTeam team) {
    this.team = team;
  }

  void forwardTraining(int n, int c, int spatial, float[] x, float[] gamma, float[] beta,
      float[] runningMean, float[] runningVar, float factor, float eps, float[] savedMean,
      float[] savedInvStd, float[] y) {
    int count = n * spatial;
    team.parallelFor(c, 1, (c0, c1) -> {
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
        normalize(x, y, n, c, spatial, ch, scale, shift);
      }
    });
  }

  void forwardInference(int n, int c, int spatial, float[] x, float[] gamma, float[] beta,
      float[] runningMean, float[] runningVar, float eps, float[] y) {
    team.parallelFor(c, 1, (c0, c1) -> {
      for (int ch = c0; ch < c1; ch++) {
        float scale = (float) (gamma[ch] / Math.sqrt(runningVar[ch] + eps));
        float shift = beta[ch] - runningMean[ch] * scale;
        normalize(x, y, n, c, spatial, ch, scale, shift);
      }
    });
  }

  private static void normalize(float[] x, float[] y, int n, int c, int spatial, int ch,
      float scale, float shift) {
    for (int i = 0; i < n; i++) {
      int o = (i * c + ch) * spatial;
      for (int s = 0; s < spatial; s++) {
        y[o + s] = x[o + s] * scale + shift;
      }
    }
  }

  // dx = γ·invStd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ(dy·x̂), dβ = Σdy
  void backward(int n, int c, int spatial, float[] x, float[] dy, float[] gamma,
      float[] savedMean, float[] savedInvStd, float[] dx, float[] dGamma, float[] dBeta) {
    int count = n * spatial;
    team.parallelFor(c, 1, (c0, c1) -> {
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
    });
  }
}
