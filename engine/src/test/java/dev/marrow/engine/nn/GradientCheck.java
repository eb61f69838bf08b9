package dev.marrow.engine.nn;

import static dev.marrow.engine.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * The one finite-difference check every gradient test goes through: compares the analytic gradient
 * of each parameter element (and, when asked, of each input element) from one backward pass of a
 * compiled plan with central differences of the loss.
 *
 * <p>A kink (a ReLU input, two max-pool candidates crossing) between the points a difference
 * compares makes that difference meaningless. An element whose differences at steps 1e-3 and 2.5e-4
 * both miss the analytic value is accepted only when a one-sided difference at 2.5e-4 matches it:
 * the side of the kink the point lies on, where the analytic gradient is exact. Such elements are
 * counted; more than one in twenty means the data sits on kinks and the check says little, which
 * fails too.
 */
public final class GradientCheck {
  private static final double STEP = 1e-3;

  private GradientCheck() {}

  /**
   * A random data set of {@code n} samples of the model's input shape and {@code classes} labels.
   */
  public static Dataset randomData(Shape sampleShape, int n, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor x = Tensor.zeros(sampleShape.withBatch(n));
    for (int i = 0; i < x.size(); i++) {
      x.array()[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return new Dataset(x, labels(r, n, classes), classes);
  }

  /**
   * Like {@link #randomData}, but the values are a shuffled grid: all distinct, evenly spaced over
   * ±[0.1, 1]. A layer reading them directly meets no kink under a finite-difference step: none
   * lies near ReLU's 0, and no two are close enough for a step to change a max-pool window's
   * maximum (the spacing, 0.9 / (values / 2 − 1), exceeds the step up to 1,800 values).
   */
  public static Dataset spreadData(Shape sampleShape, int n, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor x = Tensor.zeros(sampleShape.withBatch(n));
    float[] v = x.array();
    int half = (v.length + 1) / 2;
    for (int i = 0; i < v.length; i++) {
      double magnitude = 0.1 + 0.9 * (i / 2) / Math.max(1, half - 1);
      v[i] = (float) (i % 2 == 0 ? magnitude : -magnitude);
    }
    for (int i = v.length - 1; i > 0; i--) { // Fisher–Yates
      int j = r.nextInt(i + 1);
      float t = v[i];
      v[i] = v[j];
      v[j] = t;
    }
    return new Dataset(x, labels(r, n, classes), classes);
  }

  private static int[] labels(SplittableRandom r, int n, int classes) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(classes);
    }
    return y;
  }

  /**
   * Checks d(loss)/d(every parameter element) of a built model on a batch. Stochastic layers keep
   * their random draws fixed across the perturbed evaluations (the step seed does not change).
   */
  public static void check(
      Graph model, Loss loss, Backend backend, Dataset batch, double rtol, double atol) {
    check(Plan.forTraining(model, backend, batch.size(), loss), backend, loss, batch, rtol, atol);
  }

  /**
   * {@link #check}, and d(loss)/d(every element of the input batch) as well; then the parameters'
   * gradients of a plan that computes no input gradient (other paths: nothing upstream to write, or
   * a scratch buffer) must be the ones just verified.
   */
  public static void checkWithInput(
      Graph model, Loss loss, Backend backend, Dataset batch, double rtol, double atol) {
    Plan plan = Plan.forTrainingWithInputGradient(model, backend, batch.size(), loss);
    check(plan, backend, loss, batch, rtol, atol);
    // Leaves the analytic gradients in place; a second pass must give the same.
    float[] inputGrad = plan.inputGrad().toArray();
    List<float[]> verified = model.parameters().stream().map(p -> p.grad().toArray()).toList();
    plan.computeGradients();
    assertArrayEquals(inputGrad, plan.inputGrad().toArray(), "deterministic input gradient");
    Plan withoutInputGradient = Plan.forTraining(model, backend, batch.size(), loss);
    withoutInputGradient.loadBatch(batch, null, 0);
    withoutInputGradient.setStepSeed(99);
    withoutInputGradient.computeGradients();
    for (int i = 0; i < verified.size(); i++) {
      Parameter p = model.parameters().get(i);
      assertClose(
          verified.get(i),
          p.grad().toArray(),
          1e-6,
          1e-7,
          p.name() + " gradient without an input gradient on " + backend.name());
    }
  }

  /**
   * The check on every backend: {@link #checkWithInput} on the CPU (one thread) and the reference
   * backend, each on the model built from {@code seed}; then the CPU on three threads and CUDA,
   * when the run has it, give the same results as the verified CPU ({@link #sameGradients}).
   */
  public static void checkOnEveryBackend(
      Supplier<Graph> model, long seed, Loss loss, Dataset batch, double rtol, double atol) {
    for (Backend b : List.of(TestBackends.cpu(1), new ReferenceBackend())) {
      try (b) {
        checkWithInput(model.get().build(seed), loss, b, batch, rtol, atol);
      }
    }
    try (Backend cpu = TestBackends.cpu(1)) {
      for (Backend other : TestBackends.withCuda(TestBackends.cpu(3))) {
        try (other) {
          sameGradients(model, seed, loss, cpu, other, batch, 1e-4);
        }
      }
    }
  }

  private static void check(
      Plan plan, Backend backend, Loss loss, Dataset batch, double rtol, double atol) {
    plan.loadBatch(batch, null, 0);
    DoubleSupplier forwardLoss =
        () -> {
          plan.forward(true); // all a difference needs: no backward pass
          double l =
              loss.compute(
                  backend, plan.output(), plan.targets(), null, plan.batch(), plan.outputColumns());
          for (Layer layer : plan.model().layers()) {
            l += layer.l2Penalty(backend);
          }
          return l;
        };
    check(plan, forwardLoss, loss.name(), rtol, atol);
  }

  /**
   * The same check on a training plan with its batch loaded (a model with several inputs and
   * outputs, several losses): d(the plan's total loss)/d(every parameter element).
   */
  public static void check(Plan plan, String what, double rtol, double atol) {
    check(plan, plan::computeGradients, what, rtol, atol);
  }

  private static void check(Plan plan, DoubleSupplier loss, String what, double rtol, double atol) {
    plan.setStepSeed(99);
    plan.computeGradients();
    List<float[]> analytic =
        plan.model().parameters().stream().map(p -> p.grad().toArray()).toList();
    boolean oneInput = plan.model().inputs().size() == 1;
    float[] inputGrad = !oneInput || plan.inputGrad() == null ? null : plan.inputGrad().toArray();
    Differences d = new Differences(loss, what, rtol, atol);
    List<Parameter> parameters = plan.model().parameters();
    for (int i = 0; i < parameters.size(); i++) {
      d.check(parameters.get(i).name(), parameters.get(i).value().array(), analytic.get(i));
    }
    if (inputGrad != null) {
      d.check("input", plan.input().array(), inputGrad);
    }
    if (d.kinks > d.checked / 20) {
      fail(
          d.kinks
              + " of "
              + d.checked
              + " elements sit on kinks: the check is not informative for this configuration");
    }
    plan.computeGradients(); // leave the gradients as analytic ones for the caller
  }

  /** Finite differences of one plan's loss, element by element, with a tally of kinks met. */
  private static final class Differences {
    private final DoubleSupplier loss;
    private final String what;
    private final double rtol;
    private final double atol;
    private final double atRest;
    int checked;
    int kinks;

    Differences(DoubleSupplier loss, String what, double rtol, double atol) {
      this.loss = loss;
      this.what = what;
      this.rtol = rtol;
      this.atol = atol;
      this.atRest = loss();
    }

    private double loss() {
      return loss.getAsDouble();
    }

    private boolean close(double numeric, double analytic) {
      return Math.abs(numeric - analytic) <= atol + rtol * Math.abs(numeric);
    }

    void check(String name, float[] w, float[] analytic) {
      for (int i = 0; i < w.length; i++) {
        checked++;
        double[] at = lossesAround(w, i, STEP);
        double central = (at[0] - at[1]) / (2 * STEP);
        if (close(central, analytic[i])) {
          continue;
        }
        // Strong curvature (batch norm amplifies it) makes the larger step inaccurate: the
        // smaller one then agrees. Failing that, a kink within the smaller step: one side agrees.
        double h = STEP / 4;
        double[] near = lossesAround(w, i, h);
        double small = (near[0] - near[1]) / (2 * h);
        if (close(small, analytic[i])) {
          continue;
        }
        double above = (near[0] - atRest) / h, below = (atRest - near[1]) / h;
        if (close(above, analytic[i]) || close(below, analytic[i])) {
          kinks++;
          continue;
        }
        fail(
            String.format(
                Locale.ROOT,
                "%s[%d]: analytic gradient %.6g, central differences %.6g (step %.0e) and %.6g"
                    + " (step %.1e), one-sided %.6g and %.6g (loss %s)",
                name,
                i,
                analytic[i],
                central,
                STEP,
                small,
                h,
                above,
                below,
                what));
      }
    }

    /** The losses with {@code w[i]} moved up and down by {@code step}; {@code w[i]} restored. */
    private double[] lossesAround(float[] w, int i, double step) {
      float saved = w[i];
      w[i] = (float) (saved + step);
      double up = loss();
      w[i] = (float) (saved - step);
      double down = loss();
      w[i] = saved;
      return new double[] {up, down};
    }
  }

  /**
   * For a backend whose results are checked against one that {@link #check} verified (CUDA, or the
   * CPU on more threads): the same model, built from the same seed, on the same batch gives the
   * same training output, loss, inference output and gradients of every parameter and of the input
   * on {@code other} as on {@code verified}. Values agree within {@code tol} of the largest
   * magnitude of their tensor, gradients within {@code tol} of the largest gradient element of the
   * model: a conv bias before batch norm has a gradient of rounding noise (~1e-8) whose sign
   * differs between summation orders.
   */
  public static void sameGradients(
      Supplier<Graph> model,
      long seed,
      Loss loss,
      Backend verified,
      Backend other,
      Dataset batch,
      double tol) {
    Map<String, float[]> values = new LinkedHashMap<>(), gradients = new LinkedHashMap<>();
    results(model.get().build(seed), loss, verified, batch, values, gradients);
    Map<String, float[]> otherValues = new LinkedHashMap<>(),
        otherGradients = new LinkedHashMap<>();
    results(model.get().build(seed), loss, other, batch, otherValues, otherGradients);
    values.forEach(
        (what, e) ->
            same(what, e, otherValues.get(what), tol * largest(List.of(e)), verified, other));
    double scale = tol * largest(gradients.values());
    gradients.forEach((what, e) -> same(what, e, otherGradients.get(what), scale, verified, other));
  }

  private static void results(
      Graph g,
      Loss loss,
      Backend backend,
      Dataset batch,
      Map<String, float[]> values,
      Map<String, float[]> gradients) {
    Plan plan = Plan.forTrainingWithInputGradient(g, backend, batch.size(), loss);
    plan.loadBatch(batch, null, 0);
    plan.setStepSeed(99);
    values.put("loss", new float[] {plan.computeGradients()});
    values.put("training output", plan.output().toArray());
    for (Parameter p : g.parameters()) {
      gradients.put("gradient of " + p.name(), p.grad().toArray());
    }
    gradients.put("input gradient", plan.inputGrad().toArray());
    plan.forward(false);
    values.put("inference output", plan.output().toArray());
  }

  private static double largest(Collection<float[]> tensors) {
    double m = 1e-6;
    for (float[] t : tensors) {
      for (float v : t) {
        m = Math.max(m, Math.abs(v));
      }
    }
    return m;
  }

  private static void same(
      String what, float[] e, float[] a, double tol, Backend verified, Backend other) {
    for (int i = 0; i < e.length; i++) {
      if (!(Math.abs(e[i] - a[i]) <= tol)) {
        fail(
            String.format(
                Locale.ROOT,
                "%s, element %d: %s gives %.6g, %s gives %.6g",
                what,
                i,
                TestBackends.label(verified),
                e[i],
                TestBackends.label(other),
                a[i]));
      }
    }
  }
}
