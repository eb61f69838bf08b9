package dev.marrow.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Winograd F(2×2, 3×3) against the direct convolution summed in double precision: every output
 * within a bound proportional to the sum of the magnitudes of its products (the transforms add and
 * halve; their rounding grows with those magnitudes, not with the result, which may cancel to
 * nearly 0), forward, backward data and the filter gradient, on odd and even sizes, every padding
 * it takes, uneven blocks and deep products; bit-identical on one thread and on two (the filter
 * gradient, whose parts follow the team's size: run to run).
 */
class WinogradConvTest {
  private static final CpuBackend ONE = new CpuBackend(1);
  private static final CpuBackend TWO = new CpuBackend(2);

  /**
   * Relative bound on |winograd − exact| / Σ|w·x|: float rounding of the 4 × 4 transforms and of
   * the products' sums, a few units of 2⁻²⁴ times the terms that meet in one output.
   */
  private static final double BOUND = 2e-6;

  @AfterAll
  static void close() {
    ONE.close();
    TWO.close();
  }

  // n, c, h, w, f, padTop, padLeft, outH, outW
  static int[][] geometries() {
    return new int[][] {
      {1, 1, 3, 3, 1, 0, 0, 1, 1}, // one output, one tile, mostly padding
      {2, 3, 5, 5, 2, 1, 1, 5, 5}, // odd 'same': the last tile row and column cropped
      {3, 2, 8, 6, 4, 1, 1, 8, 6}, // even 'same'
      {2, 4, 9, 7, 3, 0, 0, 7, 5}, // valid
      {1, 3, 6, 6, 2, 2, 2, 8, 8}, // 'full' (the backward pass of valid)
      {2, 5, 10, 11, 3, 0, 1, 9, 11}, // asymmetric: top 0, left 1
      {2, 2, 7, 9, 3, 1, 0, 6, 7}, // bottom and right padding unlike top and left
      // groups of several images, the last one short; 16 and 64 input channels (whole vectors):
      // the filter gradient's input transformed channel-minor, the others channel-major
      {13, 16, 7, 7, 24, 1, 1, 7, 7},
      {7, 56, 7, 7, 52, 1, 1, 7, 7}, // groups with prepacked filters, an edge block of 4 rows
      {5, 40, 14, 14, 33, 1, 1, 14, 14}, // 33 filters: an edge row of GEMM tiles
      // 64 filters through the packed GEMM: the output gradient transformed channel-minor too
      {3, 40, 7, 7, 64, 1, 1, 7, 7},
      {2, 64, 28, 28, 32, 1, 1, 28, 28}, // vgg's and resnet's shape family
      {3, 130, 4, 5, 9, 1, 1, 4, 5}, // deeper than a k slice of the packed GEMM's
    };
  }

  static ConvGeometry geometry(int[] s) {
    return new ConvGeometry(s[0], s[1], s[2], s[3], s[4], 3, 3, 1, 1, s[5], s[6], 1, 1, s[7], s[8]);
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void forwardIsWithinTheBoundOfTheExactConvolution(int[] s) {
    ConvGeometry g = geometry(s);
    SplittableRandom r = new SplittableRandom(31);
    float[] x = random(r, g.n() * g.inputPlaneSize()), w = random(r, g.f() * g.patchSize());
    float[] bias = random(r, g.f());
    Tensor y = Tensor.zeros(g.n() * g.outputImageSize());
    TWO.conv2dForwardWinograd(g, vector(x), vector(w), vector(bias), y);
    double[][] exact = forwardExact(g, x, w);
    for (int i = 0; i < exact[0].length; i++) {
      int o = i / g.outputPixels() % g.f();
      check(exact[0][i] + bias[o], exact[1][i] + Math.abs(bias[o]), y.get(i), "forward", g, i);
    }
    Tensor one = Tensor.zeros(y.size());
    ONE.conv2dForwardWinograd(g, vector(x), vector(w), vector(bias), one);
    assertArrayEquals(y.array(), one.array(), "one thread and two differ: " + g);
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void backwardDataIsWithinTheBoundOfTheExactAdjoint(int[] s) {
    ConvGeometry g = geometry(s);
    SplittableRandom r = new SplittableRandom(32);
    float[] w = random(r, g.f() * g.patchSize()), dy = random(r, g.n() * g.outputImageSize());
    Tensor dx = vector(random(r, g.n() * g.inputPlaneSize())); // overwritten, not added to
    TWO.conv2dBackwardDataWinograd(g, vector(w), vector(dy), dx);
    double[][] exact = backwardDataExact(g, w, dy);
    for (int i = 0; i < exact[0].length; i++) {
      check(exact[0][i], exact[1][i], dx.get(i), "backward data", g, i);
    }
    Tensor one = Tensor.zeros(dx.size());
    ONE.conv2dBackwardDataWinograd(g, vector(w), vector(dy), one);
    assertArrayEquals(dx.array(), one.array(), "one thread and two differ: " + g);
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void filterGradientIsWithinTheBoundOfTheExactSum(int[] s) {
    ConvGeometry g = geometry(s);
    SplittableRandom r = new SplittableRandom(34);
    float[] x = random(r, g.n() * g.inputPlaneSize()), dy = random(r, g.n() * g.outputImageSize());
    float[] before = random(r, g.f() * g.patchSize());
    Tensor dw = vector(before.clone());
    TWO.conv2dBackwardFilterWinograd(g, vector(x), vector(dy), dw, 0.5f);
    double[][] exact = filterGradientExact(g, x, dy);
    for (int i = 0; i < before.length; i++) {
      double expected = 0.5 * before[i] + exact[0][i];
      check(expected, exact[1][i] + 0.5 * Math.abs(before[i]), dw.get(i), "filter gradient", g, i);
    }
    // parts are summed in a fixed order: the same bits run to run (not across team sizes, as
    // for im2col's filter gradient)
    Tensor again = vector(before.clone());
    TWO.conv2dBackwardFilterWinograd(g, vector(x), vector(dy), again, 0.5f);
    assertArrayEquals(dw.array(), again.array(), "two runs differ: " + g);
    Tensor fresh = vector(random(r, before.length)); // beta = 0 ignores what was there
    ONE.conv2dBackwardFilterWinograd(g, vector(x), vector(dy), fresh, 0f);
    for (int i = 0; i < before.length; i++) {
      check(exact[0][i], exact[1][i], fresh.get(i), "filter gradient, beta 0", g, i);
    }
  }

  @Test
  void theBoundIsTightEnoughToCatchAWrongTap() {
    // The same check on im2col's result for filters with one tap moved must fail: the bound is
    // not so loose that any convolution-like output passes.
    ConvGeometry g = geometry(new int[] {2, 8, 6, 6, 4, 1, 1, 6, 6});
    SplittableRandom r = new SplittableRandom(33);
    float[] x = random(r, g.n() * g.inputPlaneSize()), w = random(r, g.f() * g.patchSize());
    float[] moved = w.clone();
    moved[4] += 1e-3f;
    Tensor y = Tensor.zeros(g.n() * g.outputImageSize());
    TWO.conv2dForwardIm2col(g, vector(x), vector(moved), null, y);
    double[][] exact = forwardExact(g, x, w);
    boolean anyOutside = false;
    for (int i = 0; i < exact[0].length; i++) {
      anyOutside |= Math.abs(y.get(i) - exact[0][i]) > BOUND * exact[1][i] + 1e-30;
    }
    assertTrue(anyOutside, "a 1e-3 change of one tap stayed within the bound");
  }

  @Test
  void imageGroupsFillWholeColumnBlocksAndShareOutEvenly() {
    // 7 × 7 (20 tiles an image) and 14 × 14 (56) at batch 64 on two threads: whole GEMM column
    // blocks per group and the same number of groups on each thread, on either vector width.
    for (int perImage : new int[] {20, 56}) {
      int g = ConvKernels.imagesPerGroup(64, perImage, 2);
      assertEquals(0, g * perImage % Gemm.NR, perImage + " tiles: groups of " + g);
      assertEquals(0, (64 + g - 1) / g % 2, perImage + " tiles: groups of " + g);
    }
    int few = ConvKernels.imagesPerGroup(3, 20, 2);
    assertTrue(few >= 1 && few <= 3, "fewer images than a group: " + few);
    assertEquals(1, ConvKernels.imagesPerGroup(64, 4 * Gemm.NR, 2), "large images: one each");
    // The padded grid groups by the same rule: resnet's stride-2 64 → 128 (7 rows of 8 columns
    // an image) in whole column blocks; its 1 × 1 projection, which reads the padded image in
    // place, one image at a time.
    ConvGeometry strided = new ConvGeometry(64, 64, 14, 14, 128, 3, 3, 2, 2, 1, 1, 1, 1, 7, 7);
    int grid = ConvKernels.imagesPerProduct(strided, 2);
    assertEquals(0, grid * 56 % Gemm.NR, "stride-2 grid groups of " + grid);
    // 8-column blocks (128-bit vectors) are filled by one image's 56 columns: no group needed
    assertTrue(grid > 1 || 56 % Gemm.NR == 0, "stride-2 grid groups of " + grid);
    ConvGeometry projection = new ConvGeometry(64, 64, 14, 14, 128, 1, 1, 2, 2, 0, 0, 1, 1, 7, 7);
    assertEquals(1, ConvKernels.imagesPerProduct(projection, 2));
  }

  @Test
  void theRoutingRuleAndItsLimits() {
    ConvGeometry deep = geometry(new int[] {1, 32, 14, 14, 32, 1, 1, 14, 14});
    assertTrue(WinogradConv.pays(deep, deep.c()));
    assertFalse(WinogradConv.pays(deep, 3), "3 channels deep: im2col");
    ConvGeometry small = geometry(new int[] {1, 128, 7, 7, 128, 1, 1, 7, 7});
    // 7 × 7: 61 % of the tiles' outputs used; pays with images grouped (an image has 20 tiles),
    // and only deep
    assertTrue(WinogradConv.pays(small, small.c()), "128 → 128 at 7 × 7");
    ConvGeometry widening = geometry(new int[] {1, 64, 7, 7, 128, 1, 1, 7, 7});
    assertTrue(WinogradConv.pays(widening, widening.c()), "64 → 128 at 7 × 7, grouped");
    ConvGeometry narrow = geometry(new int[] {1, 32, 7, 7, 64, 1, 1, 7, 7});
    assertFalse(WinogradConv.pays(narrow, narrow.c()), "32 → 64 at 7 × 7: too shallow");
    assertTrue(WinogradConv.paysForFilterGradient(small), "the filter gradient pays at 7 × 7");
    ConvGeometry tiny = geometry(new int[] {1, 256, 3, 3, 256, 1, 1, 3, 3});
    assertFalse(WinogradConv.paysForFilterGradient(tiny), "3 × 3: 38 % used");
    ConvGeometry shallow = geometry(new int[] {1, 1, 28, 28, 32, 1, 1, 28, 28});
    assertFalse(WinogradConv.paysForFilterGradient(shallow), "one input channel");
    ConvGeometry strided = new ConvGeometry(1, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 7, 7);
    assertFalse(WinogradConv.applies(strided));
    ConvGeometry fiveByFive = new ConvGeometry(1, 32, 14, 14, 32, 5, 5, 1, 1, 2, 2, 1, 1, 14, 14);
    assertFalse(WinogradConv.applies(fiveByFive));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                TWO.conv2dForwardWinograd(
                    strided,
                    Tensor.zeros(strided.n() * strided.inputPlaneSize()),
                    Tensor.zeros(strided.f() * strided.patchSize()),
                    null,
                    Tensor.zeros(strided.n() * strided.outputImageSize())));
    assertTrue(e.getMessage().contains("stride 1"), e.getMessage());
  }

  private static void check(
      double exact, double magnitude, float actual, String what, ConvGeometry g, int i) {
    if (!(Math.abs(actual - exact) <= BOUND * magnitude + 1e-30)) {
      fail(
          String.format(
              "%s %s: element %d is %.9g, exact %.9g, error %.3g > %.1g × Σ|terms| %.4g",
              what, g, i, actual, exact, Math.abs(actual - exact), BOUND, magnitude));
    }
  }

  /** Visits every product of the convolution: (input index, filter index, output index). */
  private interface Term {
    void add(int x, int w, int y);
  }

  private static void forEachTerm(ConvGeometry g, Term term) {
    for (int n = 0; n < g.n(); n++) {
      for (int o = 0; o < g.f(); o++) {
        for (int r = 0; r < g.outH(); r++) {
          for (int c = 0; c < g.outW(); c++) {
            int y = ((n * g.f() + o) * g.outH() + r) * g.outW() + c;
            for (int i = 0; i < g.c(); i++) {
              for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 3; b++) {
                  int rr = r - g.padTop() + a, cc = c - g.padLeft() + b;
                  if (rr >= 0 && rr < g.h() && cc >= 0 && cc < g.w()) {
                    term.add(
                        ((n * g.c() + i) * g.h() + rr) * g.w() + cc,
                        ((o * g.c() + i) * 3 + a) * 3 + b,
                        y);
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /** y and Σ|w·x| per output, in double: {value, magnitude}. */
  private static double[][] forwardExact(ConvGeometry g, float[] x, float[] w) {
    int size = g.n() * g.outputImageSize();
    double[][] out = {new double[size], new double[size]};
    forEachTerm(g, (xi, wi, yi) -> accumulate(out, yi, (double) w[wi] * x[xi]));
    return out;
  }

  /** dx = the adjoint of the forward map applied to dy, and Σ|terms| per element. */
  private static double[][] backwardDataExact(ConvGeometry g, float[] w, float[] dy) {
    int size = g.n() * g.inputPlaneSize();
    double[][] out = {new double[size], new double[size]};
    forEachTerm(g, (xi, wi, yi) -> accumulate(out, xi, (double) dy[yi] * w[wi]));
    return out;
  }

  /** dw = Σ_n Σ_pixels dy · x at the tap's offset, and Σ|terms| per weight. */
  private static double[][] filterGradientExact(ConvGeometry g, float[] x, float[] dy) {
    int size = g.f() * g.patchSize();
    double[][] out = {new double[size], new double[size]};
    forEachTerm(g, (xi, wi, yi) -> accumulate(out, wi, (double) dy[yi] * x[xi]));
    return out;
  }

  private static void accumulate(double[][] out, int at, double term) {
    out[0][at] += term;
    out[1][at] += Math.abs(term);
  }

  private static Tensor vector(float[] a) {
    return Tensor.of(a, a.length);
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
