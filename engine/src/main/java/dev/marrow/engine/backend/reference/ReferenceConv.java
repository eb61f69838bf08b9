package dev.marrow.engine.backend.reference;

import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Tensor;

/**
 * Direct-loop convolution, pooling and batch norm: the definitions, written out. Indexing helpers
 * return −1 for positions in the padding.
 */
final class ReferenceConv {
  private ReferenceConv() {}

  // Input row touched by output row oh and kernel row i, or -1 in the padding.
  private static int inRow(ConvGeometry g, int oh, int i) {
    int r = oh * g.strideH() - g.padTop() + i * g.dilationH();
    return r >= 0 && r < g.h() ? r : -1;
  }

  private static int inCol(ConvGeometry g, int ow, int j) {
    int c = ow * g.strideW() - g.padLeft() + j * g.dilationW();
    return c >= 0 && c < g.w() ? c : -1;
  }

  static void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    float[] xv = x.array(), wv = w.array(), yv = y.array();
    for (int n = 0; n < g.n(); n++) {
      for (int f = 0; f < g.f(); f++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          for (int ow = 0; ow < g.outW(); ow++) {
            double sum = bias == null ? 0 : bias.array()[f];
            for (int c = 0; c < g.c(); c++) {
              for (int i = 0; i < g.kh(); i++) {
                int r = inRow(g, oh, i);
                for (int j = 0; j < g.kw(); j++) {
                  int col = inCol(g, ow, j);
                  if (r >= 0 && col >= 0) {
                    sum +=
                        (double) xv[((n * g.c() + c) * g.h() + r) * g.w() + col]
                            * wv[((f * g.c() + c) * g.kh() + i) * g.kw() + j];
                  }
                }
              }
            }
            yv[((n * g.f() + f) * g.outH() + oh) * g.outW() + ow] = (float) sum;
          }
        }
      }
    }
  }

  static void backwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    double[] acc = new double[dx.size()];
    float[] wv = w.array(), dyv = dy.array();
    for (int n = 0; n < g.n(); n++) {
      for (int f = 0; f < g.f(); f++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          for (int ow = 0; ow < g.outW(); ow++) {
            double d = dyv[((n * g.f() + f) * g.outH() + oh) * g.outW() + ow];
            for (int c = 0; c < g.c(); c++) {
              for (int i = 0; i < g.kh(); i++) {
                int r = inRow(g, oh, i);
                for (int j = 0; j < g.kw(); j++) {
                  int col = inCol(g, ow, j);
                  if (r >= 0 && col >= 0) {
                    acc[((n * g.c() + c) * g.h() + r) * g.w() + col] +=
                        d * wv[((f * g.c() + c) * g.kh() + i) * g.kw() + j];
                  }
                }
              }
            }
          }
        }
      }
    }
    for (int i = 0; i < acc.length; i++) {
      dx.array()[i] = (float) acc[i];
    }
  }

  static void backwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    float[] xv = x.array(), dyv = dy.array();
    for (int f = 0; f < g.f(); f++) {
      for (int c = 0; c < g.c(); c++) {
        for (int i = 0; i < g.kh(); i++) {
          for (int j = 0; j < g.kw(); j++) {
            double sum = 0;
            for (int n = 0; n < g.n(); n++) {
              for (int oh = 0; oh < g.outH(); oh++) {
                int r = inRow(g, oh, i);
                for (int ow = 0; ow < g.outW(); ow++) {
                  int col = inCol(g, ow, j);
                  if (r >= 0 && col >= 0) {
                    sum +=
                        (double) xv[((n * g.c() + c) * g.h() + r) * g.w() + col]
                            * dyv[((n * g.f() + f) * g.outH() + oh) * g.outW() + ow];
                  }
                }
              }
            }
            int k = ((f * g.c() + c) * g.kh() + i) * g.kw() + j;
            dw.array()[k] = (float) (sum + (beta == 0 ? 0 : beta * dw.array()[k]));
          }
        }
      }
    }
  }

  static void backwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta) {
    int plane = g.outputPixels();
    for (int f = 0; f < g.f(); f++) {
      double sum = 0;
      for (int n = 0; n < g.n(); n++) {
        for (int p = 0; p < plane; p++) {
          sum += dy.array()[(n * g.f() + f) * plane + p];
        }
      }
      db.array()[f] = (float) (sum + (beta == 0 ? 0 : beta * db.array()[f]));
    }
  }

  static void poolForward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    for (int plane = 0; plane < g.n() * g.c(); plane++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        for (int ow = 0; ow < g.outW(); ow++) {
          double max = Double.NEGATIVE_INFINITY, sum = 0;
          int count = 0;
          for (int i = 0; i < g.kh(); i++) {
            for (int j = 0; j < g.kw(); j++) {
              int r = inRow(g, oh, i), col = inCol(g, ow, j);
              if (r >= 0 && col >= 0) {
                float v = x.array()[(plane * g.h() + r) * g.w() + col];
                max = Math.max(max, v);
                sum += v;
                count++;
              }
            }
          }
          int window = mode == PoolMode.AVERAGE_INCLUDE_PADDING ? g.kh() * g.kw() : count;
          y.array()[(plane * g.outH() + oh) * g.outW() + ow] =
              (float) (mode == PoolMode.MAX ? max : sum / window);
        }
      }
    }
  }

  static void poolBackward(PoolMode mode, ConvGeometry g, Tensor x, Tensor dy, Tensor dx) {
    java.util.Arrays.fill(dx.array(), 0, dx.size(), 0f);
    for (int plane = 0; plane < g.n() * g.c(); plane++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        for (int ow = 0; ow < g.outW(); ow++) {
          float d = dy.array()[(plane * g.outH() + oh) * g.outW() + ow];
          int best = -1, count = 0;
          float max = Float.NEGATIVE_INFINITY;
          for (int i = 0; i < g.kh(); i++) {
            for (int j = 0; j < g.kw(); j++) {
              int r = inRow(g, oh, i), col = inCol(g, ow, j);
              if (r >= 0 && col >= 0) {
                int idx = (plane * g.h() + r) * g.w() + col;
                if (best < 0 || x.array()[idx] > max) {
                  max = x.array()[idx];
                  best = idx;
                }
                count++;
              }
            }
          }
          if (mode == PoolMode.MAX) {
            dx.array()[best] += d;
            continue;
          }
          int window = mode == PoolMode.AVERAGE_INCLUDE_PADDING ? g.kh() * g.kw() : count;
          for (int i = 0; i < g.kh(); i++) {
            for (int j = 0; j < g.kw(); j++) {
              int r = inRow(g, oh, i), col = inCol(g, ow, j);
              if (r >= 0 && col >= 0) {
                dx.array()[(plane * g.h() + r) * g.w() + col] += d / window;
              }
            }
          }
        }
      }
    }
  }

  static void batchNormTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    int n = bn.n(), c = bn.c(), spatial = bn.spatial();
    Tensor gamma = bn.gamma(), beta = bn.beta(), runningMean = bn.runningMean();
    Tensor runningVar = bn.runningVar(), savedMean = bn.savedMean(), savedInvStd = bn.savedInvStd();
    float factor = bn.factor(), eps = bn.epsilon();
    int count = n * spatial;
    for (int ch = 0; ch < c; ch++) {
      double sum = 0, sq = 0;
      for (int i = 0; i < n; i++) {
        for (int s = 0; s < spatial; s++) {
          double v = x.array()[(i * c + ch) * spatial + s];
          sum += v;
        }
      }
      double mean = sum / count;
      for (int i = 0; i < n; i++) {
        for (int s = 0; s < spatial; s++) {
          double d = x.array()[(i * c + ch) * spatial + s] - mean;
          sq += d * d;
        }
      }
      double var = sq / count, invStd = 1 / Math.sqrt(var + eps);
      savedMean.array()[ch] = (float) mean;
      savedInvStd.array()[ch] = (float) invStd;
      double unbiased = count > 1 ? sq / (count - 1) : var;
      runningMean.array()[ch] = (float) ((1 - factor) * runningMean.array()[ch] + factor * mean);
      runningVar.array()[ch] = (float) ((1 - factor) * runningVar.array()[ch] + factor * unbiased);
      for (int i = 0; i < n; i++) {
        for (int s = 0; s < spatial; s++) {
          int k = (i * c + ch) * spatial + s;
          y.array()[k] =
              (float) ((x.array()[k] - mean) * invStd * gamma.array()[ch] + beta.array()[ch]);
        }
      }
    }
  }

  static void batchNormInference(BatchNormArgs bn, Tensor x, Tensor y) {
    int n = bn.n(), c = bn.c(), spatial = bn.spatial();
    Tensor gamma = bn.gamma(), beta = bn.beta(), runningMean = bn.runningMean();
    Tensor runningVar = bn.runningVar();
    float eps = bn.epsilon();
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        double invStd = 1 / Math.sqrt(runningVar.array()[ch] + eps);
        for (int s = 0; s < spatial; s++) {
          int k = (i * c + ch) * spatial + s;
          y.array()[k] =
              (float)
                  ((x.array()[k] - runningMean.array()[ch]) * invStd * gamma.array()[ch]
                      + beta.array()[ch]);
        }
      }
    }
  }

  static void batchNormBackward(
      BatchNormArgs bn, Tensor x, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    int n = bn.n(), c = bn.c(), spatial = bn.spatial();
    Tensor gamma = bn.gamma(), savedMean = bn.savedMean(), savedInvStd = bn.savedInvStd();
    int count = n * spatial;
    for (int ch = 0; ch < c; ch++) {
      double mean = savedMean.array()[ch], invStd = savedInvStd.array()[ch];
      double sumDy = 0, sumDyXhat = 0;
      for (int i = 0; i < n; i++) {
        for (int s = 0; s < spatial; s++) {
          int k = (i * c + ch) * spatial + s;
          double xhat = (x.array()[k] - mean) * invStd;
          sumDy += dy.array()[k];
          sumDyXhat += dy.array()[k] * xhat;
        }
      }
      dGamma.array()[ch] = (float) sumDyXhat;
      dBeta.array()[ch] = (float) sumDy;
      double g = gamma.array()[ch];
      for (int i = 0; i < n; i++) {
        for (int s = 0; s < spatial; s++) {
          int k = (i * c + ch) * spatial + s;
          double xhat = (x.array()[k] - mean) * invStd;
          dx.array()[k] =
              (float) (g * invStd / count * (count * dy.array()[k] - sumDy - xhat * sumDyXhat));
        }
      }
    }
  }
}
