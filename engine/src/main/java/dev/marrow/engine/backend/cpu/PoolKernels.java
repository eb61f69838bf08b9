package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;

/** Max and average pooling over NCHW planes; planes are split over the team. */
final class PoolKernels {
  private final ThreadTeam team;

  PoolKernels(ThreadTeam team) {
    this.team = team;
  }

  // The CNNs' case: 2×2 windows, stride 2, no padding, no dilation.
  private static boolean isPlain2x2(ConvGeometry g) {
    return g.kh() == 2 && g.kw() == 2 && g.strideH() == 2 && g.strideW() == 2 && g.padTop() == 0
        && g.padLeft() == 0 && g.dilationH() == 1 && g.dilationW() == 1
        && 2 * g.outH() <= g.h() && 2 * g.outW() <= g.w(); // no window hangs over the edge
  }

  // x is (n, c, h, w), y is (n, c, outH, outW)
  void forward(PoolMode mode, ConvGeometry g, float[] x, float[] y) {
    if (mode == PoolMode.MAX && isPlain2x2(g)) {
      maxForward2x2(g, x, y);
      return;
    }
    int inPlane = g.h() * g.w(), outPlane = g.outputPixels();
    team.parallelFor(g.n() * g.c(), 4, (p0, p1) -> {
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
            y[yo + oh * g.outW() + ow] = switch (mode) {
              case MAX -> max;
              case AVERAGE_EXCLUDE_PADDING -> sum / count;
              case AVERAGE_INCLUDE_PADDING -> sum / (g.kh() * g.kw());
            };
          }
        }
      }
    });
  }

  private void maxForward2x2(ConvGeometry g, float[] x, float[] y) {
    int w = g.w(), inPlane = g.h() * w, outPlane = g.outputPixels();
    team.parallelFor(g.n() * g.c(), 4, (p0, p1) -> {
      for (int plane = p0; plane < p1; plane++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          int top = plane * inPlane + 2 * oh * w, out = plane * outPlane + oh * g.outW();
          for (int ow = 0; ow < g.outW(); ow++) {
            int t = top + 2 * ow;
            y[out + ow] = Math.max(Math.max(x[t], x[t + 1]), Math.max(x[t + w], x[t + w + 1]));
          }
        }
      }
    });
  }

  // Windows do not overlap: each input gets the gradient of at most one output.
  private void maxBackward2x2(ConvGeometry g, float[] x, float[] dy, float[] dx) {
    int w = g.w(), inPlane = g.h() * w, outPlane = g.outputPixels();
    team.parallelFor(g.n() * g.c(), 4, (p0, p1) -> {
      java.util.Arrays.fill(dx, p0 * inPlane, p1 * inPlane, 0f);
      for (int plane = p0; plane < p1; plane++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          int top = plane * inPlane + 2 * oh * w, out = plane * outPlane + oh * g.outW();
          for (int ow = 0; ow < g.outW(); ow++) {
            int t = top + 2 * ow, best = t; // first maximum in row-major order, as PyTorch
            if (x[t + 1] > x[best]) {
              best = t + 1;
            }
            if (x[t + w] > x[best]) {
              best = t + w;
            }
            if (x[t + w + 1] > x[best]) {
              best = t + w + 1;
            }
            dx[best] = dy[out + ow];
          }
        }
      }
    });
  }

  void backward(PoolMode mode, ConvGeometry g, float[] x, float[] dy, float[] dx) {
    if (mode == PoolMode.MAX && isPlain2x2(g)) {
      maxBackward2x2(g, x, dy, dx);
      return;
    }
    int inPlane = g.h() * g.w(), outPlane = g.outputPixels();
    team.parallelFor(g.n() * g.c(), 4, (p0, p1) -> {
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
    });
  }
}
