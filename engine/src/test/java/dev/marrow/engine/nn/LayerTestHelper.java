package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.Json;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The one check every layer goes through (Keras' {@code run_layer_test}, tinygrad's {@code
 * helper_test_op}), for built-in layers and users' own alike:
 *
 * <ol>
 *   <li>the output has the shape {@code computeOutputShape} promises, on every backend;
 *   <li>the config round-trips through JSON and {@link LayerRegistry} to a layer with the same
 *       class, config and output shape;
 *   <li>finite differences match the analytic gradient of every parameter and of the layer's
 *       input(s), on the CPU and the reference backend (the layer reads the model input directly,
 *       so its input gradient is the plan's);
 *   <li>the CUDA backend (the host emulation in CI) computes the same gradients as the CPU.
 * </ol>
 *
 * A Flatten → Dense(3) head turns any output into class scores for a cross-entropy loss.
 */
public final class LayerTestHelper {
  private LayerTestHelper() {}

  /** A single-input layer on inputs of per-sample shape {@code input}. */
  public static void check(Supplier<? extends Layer> make, Shape input) {
    check(make, List.of(input));
  }

  /** A layer reading one node per entry of {@code inputs} (a merge layer for several). */
  public static void check(Supplier<? extends Layer> make, List<Shape> inputs) {
    checkConfigRoundTrip(make.get(), inputs);
    Supplier<Graph> model = () -> model(make.get(), inputs);
    Graph probe = model.get().build(1);
    Layer layer =
        probe.layers().stream()
            .filter(
                l -> l.inputShapes().equals(inputs) && l.className().equals(make.get().className()))
            .findFirst()
            .orElseThrow();
    assertEquals(layer.computeOutputShape(inputs), layer.outputShape(), "output shape of " + layer);
    var loss = new SparseCategoricalCrossentropy(true);
    Dataset data = GradientCheck.randomData(probe.inputShape(), 5, 3, 13);
    for (Backend b : List.of(TestBackends.cpu(2), new ReferenceBackend())) {
      try (b) {
        GradientCheck.check(model.get().build(7), loss, b, data, 2e-2, 2e-3);
        checkInputGradient(model.get().build(7), b, data);
      }
    }
    TestBackends.cuda()
        .ifPresent(
            cuda -> {
              try (Backend cpu = TestBackends.cpu(1);
                  cuda) {
                GradientCheck.sameGradients(model, 7, loss, cpu, cuda, data, 1e-4);
              }
            });
  }

  /**
   * One model input, split into the layer's inputs by Dense layers when it reads several (each
   * branch a different projection), then the head.
   */
  private static Graph model(Layer layer, List<Shape> inputs) {
    if (inputs.size() == 1) {
      Node x = Node.input(inputs.get(0), "x");
      return new Graph(List.of(x), List.of(head(layer.apply(x))));
    }
    Node x = Node.input(Shape.of(6), "x");
    List<Node> branches = new ArrayList<>();
    for (Shape s : inputs) {
      Node flat = new Dense(s.size(), "tanh").apply(x);
      branches.add(s.rank() == 1 ? flat : new Reshape(s.dims()).apply(flat));
    }
    return new Graph(List.of(x), List.of(head(layer.apply(branches.toArray(new Node[0])))));
  }

  private static Node head(Node out) {
    Node flat = out.shape().rank() == 1 ? out : new Flatten().apply(out);
    return new Dense(3).apply(flat);
  }

  private static void checkConfigRoundTrip(Layer layer, List<Shape> inputs) {
    Map<String, Object> config = layer.config();
    Object parsed = Json.parse(Json.write(config));
    Layer again =
        LayerRegistry.create(
            layer.className(), new LayerConfig((Map<?, ?>) parsed, layer.className()));
    assertEquals(layer.getClass(), again.getClass(), "the registry makes " + layer.className());
    assertEquals(Json.write(config), Json.write(again.config()), "config round trip");
    assertEquals(layer.computeOutputShape(inputs), again.computeOutputShape(inputs));
  }

  /** d(loss)/d(input) of the plan against central differences of the input values. */
  private static void checkInputGradient(Graph g, Backend b, Dataset data) {
    var loss = new SparseCategoricalCrossentropy(true);
    Plan plan = Plan.forTrainingWithInputGradient(g, b, data.size(), loss);
    plan.loadBatch(data, null, 0);
    plan.setStepSeed(99);
    plan.computeGradients();
    float[] analytic = plan.inputGrad().toArray();
    Tensor input = plan.input();
    float[] x = input.array();
    double eps = 1e-3;
    int kinks = 0;
    for (int i = 0; i < x.length; i++) {
      float saved = x[i];
      x[i] = (float) (saved + eps);
      double up = plan.computeGradients();
      x[i] = (float) (saved - eps);
      double down = plan.computeGradients();
      x[i] = saved;
      double numeric = (up - down) / (2 * eps);
      if (Math.abs(numeric - analytic[i]) > 2e-3 + 2e-2 * Math.abs(numeric)) {
        kinks++; // a ReLU or max-pool kink between the two points; too many fail below
        if (kinks > x.length / 20) {
          fail(
              String.format(
                  "input[%d] on %s: analytic %.6g, finite difference %.6g",
                  i, b.name(), analytic[i], numeric));
        }
      }
    }
    plan.computeGradients();
    assertArrayEquals(analytic, plan.inputGrad().toArray(), "deterministic input gradient");
  }
}
