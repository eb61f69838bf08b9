package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import java.util.SplittableRandom;

/**
 * The one helper every gradient test goes through: compares each parameter's analytic gradient (one
 * backward pass of a compiled plan) with central finite differences of the loss.
 */
public final class GradientCheck {
  private GradientCheck() {}

  private static double centralDifference(Plan plan, float[] w, int i, double eps) {
    float saved = w[i];
    w[i] = (float) (saved + eps);
    double up = plan.computeGradients();
    w[i] = (float) (saved - eps);
    double down = plan.computeGradients();
    w[i] = saved;
    return (up - down) / (2 * eps);
  }

  /**
   * A random data set of {@code n} samples of the model's input shape and {@code classes} labels.
   */
  public static Dataset randomData(Shape sampleShape, int n, int classes, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor x = Tensor.zeros(sampleShape.withBatch(n));
    for (int i = 0; i < x.size(); i++) {
      x.array()[i] = (float) (r.nextDouble() * 2 - 1);
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(classes);
    }
    return new Dataset(x, y, classes);
  }

  /**
   * Checks d(loss)/d(every parameter element) of a built model on a batch. Stochastic layers keep
   * their random draws fixed across the perturbed evaluations (the step seed does not change).
   */
  public static void check(
      Graph model, Loss loss, Backend backend, Dataset batch, double rtol, double atol) {
    Plan plan = Plan.forTraining(model, backend, batch.size(), loss);
    plan.loadBatch(batch, null, 0);
    check(plan, loss.name(), rtol, atol);
  }

  /**
   * The same check on a training plan with its batch loaded (a model with several inputs and
   * outputs, several losses): d(the plan's total loss)/d(every parameter element).
   */
  public static void check(Plan plan, String what, double rtol, double atol) {
    Graph model = plan.model();
    plan.setStepSeed(99);
    plan.computeGradients();
    double eps = 1e-3;
    int checked = 0, kinks = 0;
    for (Parameter p : model.parameters()) {
      float[] analytic = p.grad().toArray();
      float[] w = p.value().array();
      for (int i = 0; i < w.length; i++) {
        double numeric = centralDifference(plan, w, i, eps);
        if (Math.abs(numeric - analytic[i]) > atol + rtol * Math.abs(numeric)) {
          // A smaller step separates two cases. Strong curvature (batch norm amplifies it)
          // makes the larger step inaccurate: the smaller one then agrees with the analytic
          // value. A kink (a ReLU input or two max-pool candidates crossing) makes differences
          // disagree with each other: that element says nothing and is skipped.
          double small = centralDifference(plan, w, i, eps / 4);
          boolean agrees = Math.abs(small - analytic[i]) <= atol + rtol * Math.abs(small);
          if (!agrees && Math.abs(small - numeric) > atol + rtol * Math.abs(numeric)) {
            kinks++;
            continue;
          }
          if (!agrees) {
            fail(
                String.format(
                    "%s[%d]: analytic gradient %.6g, finite difference %.6g (loss %s)",
                    p.name(), i, analytic[i], numeric, what));
          }
        }
        checked++;
      }
    }
    if (kinks > checked / 20) {
      fail(
          kinks
              + " of "
              + (checked + kinks)
              + " elements sit on kinks: the check is not"
              + " informative for this configuration");
    }
    plan.computeGradients(); // leave the gradients as analytic ones for the caller
  }

  /**
   * For devices whose weights cannot be perturbed from the host (CUDA): the same model, built from
   * the same seed, gives every parameter the same analytic gradient on {@code device} as on the
   * {@code host} backend that {@link #check} verified, within {@code tol} relative to the largest
   * gradient element of the model.
   */
  public static void sameGradients(
      java.util.function.Supplier<Graph> model,
      long seed,
      Loss loss,
      Backend host,
      Backend device,
      Dataset batch,
      double tol) {
    java.util.List<float[]> expected = gradients(model.get().build(seed), loss, host, batch);
    java.util.List<float[]> actual = gradients(model.get().build(seed), loss, device, batch);
    // Relative to the largest gradient of the model: a conv bias before batch norm has a gradient
    // of rounding noise (~1e-8) whose sign differs between summation orders.
    double scale = 1e-6;
    for (float[] e : expected) {
      for (float v : e) {
        scale = Math.max(scale, Math.abs(v));
      }
    }
    for (int p = 0; p < expected.size(); p++) {
      float[] e = expected.get(p), a = actual.get(p);
      for (int i = 0; i < e.length; i++) {
        if (Math.abs(e[i] - a[i]) > tol * scale) {
          fail(
              String.format(
                  "parameter %d element %d: %s gives %.6g, %s gives %.6g",
                  p, i, host.name(), e[i], device.name(), a[i]));
        }
      }
    }
  }

  private static java.util.List<float[]> gradients(
      Graph g, Loss loss, Backend backend, Dataset batch) {
    Plan plan = Plan.forTraining(g, backend, batch.size(), loss);
    plan.loadBatch(batch, null, 0);
    plan.setStepSeed(99);
    plan.computeGradients();
    java.util.List<float[]> out = new java.util.ArrayList<>();
    for (Parameter p : g.parameters()) {
      out.add(p.grad().toArray());
    }
    return out;
  }
}
