package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct convolution forward for stride 1 without dilation: every filter tap adds weight · (a
 * shifted input row) into an output row, in vectors along the output width, with no im2col buffer.
 * Kept as the measured alternative: ConvBenchmark runs it beside im2col + GEMM on every zoo layer
 * shape, and so far it loses on all of them (4× on single-channel inputs, 10-18× on deep layers),
 * so the backend does not route to it.
 */
final class DirectConv {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  private final ThreadTeam team;

  DirectConv(ThreadTeam team) {
    this.team = team;
  }

  // x is (n, c, h, w), w is (f, c, kh, kw), y is (n, f, outH, outW); stride 1, no dilation
  void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] y) {
    int outW = g.outW(), bound = Vectors.loopBound(outW);
    team.parallelFor(
        g.n() * g.f(),
        1,
        (t0, t1) -> {
          for (int t = t0; t < t1; t++) {
            int n = t / g.f(), f = t % g.f();
            int out = t * g.outputPixels();
            java.util.Arrays.fill(y, out, out + g.outputPixels(), bias == null ? 0f : bias[f]);
            for (int c = 0; c < g.c(); c++) {
              int plane = (n * g.c() + c) * g.h() * g.w();
              for (int i = 0; i < g.kh(); i++) {
                for (int j = 0; j < g.kw(); j++) {
                  float wv = w[((f * g.c() + c) * g.kh() + i) * g.kw() + j];
                  FloatVector vw = FloatVector.broadcast(S, wv);
                  for (int oh = 0; oh < g.outH(); oh++) {
                    int r = oh - g.padTop() + i;
                    if (r < 0 || r >= g.h()) {
                      continue;
                    }
                    int yo = out + oh * outW;
                    int xo = plane + r * g.w() + j - g.padLeft();
                    int from = Math.max(0, g.padLeft() - j);
                    int to = Math.min(outW, g.w() + g.padLeft() - j);
                    int ow = from;
                    if (from == 0 && to == outW) {
                      for (; ow < bound; ow += L) {
                        FloatVector.fromArray(S, x, xo + ow)
                            .fma(vw, FloatVector.fromArray(S, y, yo + ow))
                            .intoArray(y, yo + ow);
                      }
                    }
                    for (; ow < to; ow++) {
                      y[yo + ow] += wv * x[xo + ow];
                    }
                  }
                }
              }
            }
          }
        });
  }
}
