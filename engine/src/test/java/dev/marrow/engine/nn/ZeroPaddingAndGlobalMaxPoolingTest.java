package dev.marrow.engine.nn;

import static dev.marrow.engine.Assertions2.assertClose;
import static dev.marrow.engine.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ZeroPadding2D and GlobalMaxPooling2D forward and backward on every backend, against plain loops
 * over (n, c, h, w). Both only move or select values, so results must match exactly.
 */
class ZeroPaddingAndGlobalMaxPoolingTest {
  private static final List<Backend> BACKENDS =
      TestBackends.withCuda(TestBackends.cpu(1), TestBackends.cpu(3), new ReferenceBackend());

  static Stream<Arguments> backends() {
    return BACKENDS.stream().map(b -> Arguments.of(b.name() + "x" + b.threads(), b));
  }

  @AfterAll
  static void close() {
    BACKENDS.forEach(Backend::close);
  }

  /** loss = Σ y·dy, so the gradient flowing into the layer is dy itself. */
  private record DotLoss(Tensor dy) implements Loss {
    @Override
    public String name() {
      return "dot";
    }

    @Override
    public TargetEncoding targetEncoding() {
      return TargetEncoding.CLASS_INDEX;
    }

    @Override
    public float compute(
        Backend backend, Tensor predictions, Tensor targets, Tensor dPred, int rows, int cols) {
      if (dPred != null) {
        dPred.copyFrom(dy);
      }
      return 0;
    }

    @Override
    public int countCorrect(Backend b, Tensor p, Tensor t, int rows, int cols) {
      return 0;
    }
  }

  /** A plan of the one layer, on an input of shape (n, c, h, w), its gradients computed once. */
  private static Plan run(Layer layer, Tensor x, Tensor dy, Backend b) {
    Sequential model = new Sequential(x.shape().dropFirst()).add(layer).build(0);
    assertEquals(dy.shape().dropFirst(), layer.outputShape(), "output shape");
    Plan plan = Plan.forTrainingWithInputGradient(model, b, x.shape().dim(0), new DotLoss(dy));
    plan.input().copyFrom(x);
    plan.computeGradients();
    return plan;
  }

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

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void zeroPaddingSurroundsEachImageWithZerosAndCropsTheGradient(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(21);
    for (int[] p : PADDINGS) {
      int n = p[0], c = p[1], h = p[2], w = p[3], top = p[4], left = p[6];
      int ph = h + top + p[5], pw = w + left + p[7];
      String what = "ZeroPadding2D " + Arrays.toString(p);
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
      Plan plan = run(new ZeroPadding2D(top, p[5], left, p[7]), x, dy, b);
      assertClose(y, plan.output(), 0, 0, what + " output");
      assertClose(dx, plan.inputGrad(), 0, 0, what + " input gradient");
      // The border is written on every step, whatever the buffer held before.
      Arrays.fill(plan.output().array(), Float.NaN);
      plan.forward(true);
      assertClose(y, plan.output(), 0, 0, what + " output of a second step");
    }
  }

  // n, c, h, w: non-square planes, a single row or column, 2 × 2 (the CPU's 2 × 2 max-pooling
  // path), a single pixel, and a larger batch.
  private static final int[][] PLANES = {
    {2, 3, 5, 4}, {1, 2, 1, 7}, {2, 1, 6, 1}, {4, 5, 2, 2}, {3, 2, 1, 1}, {16, 8, 9, 9}
  };

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void globalMaxPoolingTakesEachPlanesMaximumAndRoutesTheGradientToTheFirst(
      String name, Backend b) {
    SplittableRandom r = new SplittableRandom(22);
    for (int[] s : PLANES) {
      int n = s[0], c = s[1], plane = s[2] * s[3];
      String what = "GlobalMaxPooling2D " + Arrays.toString(s);
      Tensor x = random(r, n, c, s[2], s[3]), dy = random(r, n, c);
      // Ties, as after a ReLU: the first maximum wins on the CPU. cuDNN does not document which of
      // equal maxima it picks, so CUDA gets distinct values.
      for (int i = 0; i < x.size() && !TestBackends.isCuda(b); i++) {
        x.set(i, Math.max(0, Math.round(x.get(i) * 2)) / 2f);
      }
      Tensor y = Tensor.zeros(n, c), dx = Tensor.zeros(n, c, s[2], s[3]);
      for (int p = 0; p < n * c; p++) {
        int first = p * plane;
        for (int i = p * plane; i < (p + 1) * plane; i++) {
          first = x.get(i) > x.get(first) ? i : first;
        }
        y.set(p, x.get(first));
        dx.set(first, dy.get(p));
      }
      Plan plan = run(new GlobalMaxPooling2D(), x, dy, b);
      assertClose(y, plan.output(), 0, 0, what + " output");
      assertClose(dx, plan.inputGrad(), 0, 0, what + " input gradient");
    }
  }
}
