package dev.marrow.engine.nn;

import static dev.marrow.engine.Assertions2.random;

import dev.marrow.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * ZeroPadding2D and GlobalMaxPooling2D on shapes beyond the goldens' (vector tails, whole planes
 * copied at once, enough planes to go parallel), against plain loops over (n, c, h, w), through
 * {@link LayerTestHelper#checkGolden} on every backend. Both only move or select values, so results
 * must match exactly.
 */
class ZeroPaddingAndGlobalMaxPoolingTest {
  // n, c, h, w, top, bottom, left, right: every side, none, rows only (whole planes copied at
  // once), columns only, rows narrower and wider than a vector, and enough planes to go parallel.
  private static final int[][] PADDINGS = {
    {3, 2, 5, 4, 1, 1, 1, 1},
    {2, 3, 4, 7, 2, 0, 1, 3},
    {2, 2, 3, 3, 0, 0, 0, 0},
    {3, 2, 5, 6, 1, 2, 0, 0},
    {1, 4, 6, 17, 0, 0, 2, 1},
    {32, 16, 3, 70, 1, 0, 0, 2}
  };

  @Test
  void zeroPaddingSurroundsEachImageWithZerosAndCropsTheGradient() {
    SplittableRandom r = new SplittableRandom(21);
    for (int[] p : PADDINGS) {
      int n = p[0], c = p[1], h = p[2], w = p[3], top = p[4], left = p[6];
      int ph = h + top + p[5], pw = w + left + p[7];
      Tensor x = random(r, n, c, h, w), dy = random(r, n, c, ph, pw);
      Tensor y = Tensor.zeros(n, c, ph, pw), dx = Tensor.zeros(n, c, h, w);
      for (int plane = 0; plane < n * c; plane++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < w; j++) {
            int inner = (plane * h + i) * w + j, outer = (plane * ph + i + top) * pw + j + left;
            y.set(outer, x.get(inner));
            dx.set(inner, dy.get(outer));
          }
        }
      }
      LayerTestHelper.checkGolden(
          () -> new ZeroPadding2D(top, p[5], left, p[7]),
          LayerGolden.exact("ZeroPadding2D " + Arrays.toString(p), x, y, dy, dx));
    }
  }

  // n, c, h, w: non-square planes, a single row or column, 2 × 2 (the CPU's 2 × 2 max-pooling
  // path), a single pixel, and a larger batch.
  private static final int[][] PLANES = {
    {2, 3, 5, 4}, {1, 2, 1, 7}, {2, 1, 6, 1}, {4, 5, 2, 2}, {3, 2, 1, 1}, {16, 8, 9, 9}
  };

  @Test
  void globalMaxPoolingTakesEachPlanesMaximumAndRoutesTheGradientToTheFirst() {
    SplittableRandom r = new SplittableRandom(22);
    for (int[] s : PLANES) {
      Tensor x = random(r, s), dy = random(r, s[0], s[1]);
      String what = "GlobalMaxPooling2D " + Arrays.toString(s);
      LayerTestHelper.checkGolden(GlobalMaxPooling2D::new, globalMax(what, x, dy));
      // Ties, as after a ReLU: the first maximum wins.
      for (int i = 0; i < x.size(); i++) {
        x.set(i, Math.max(0, Math.round(x.get(i) * 2)) / 2f);
      }
      LayerTestHelper.checkGolden(
          GlobalMaxPooling2D::new, globalMax(what + " with ties", x, dy).withTies());
    }
  }

  private static LayerGolden globalMax(String what, Tensor x, Tensor dy) {
    int[] s = x.shape().dims();
    int planes = s[0] * s[1], plane = s[2] * s[3];
    Tensor y = Tensor.zeros(s[0], s[1]), dx = Tensor.zeros(s);
    for (int p = 0; p < planes; p++) {
      int first = p * plane;
      for (int i = p * plane; i < (p + 1) * plane; i++) {
        first = x.get(i) > x.get(first) ? i : first;
      }
      y.set(p, x.get(first));
      dx.set(first, dy.get(p));
    }
    return LayerGolden.exact(what, x.copy(), y, dy, dx);
  }
}
