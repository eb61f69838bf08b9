package dev.marrow.engine.nn;

import static dev.marrow.engine.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.Json;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The one check every layer goes through (Keras' {@code run_layer_test}, tinygrad's {@code
 * helper_test_op}), for built-in layers and users' own alike:
 *
 * <ol>
 *   <li>the config round-trips through JSON and {@link LayerRegistry} to a layer with the same
 *       class, config and output shape;
 *   <li>the output has the shape {@code computeOutputShape} promises;
 *   <li>finite differences match the analytic gradient of every parameter and of the layer's
 *       input(s) on the CPU (one thread) and the reference backend; the layer reads the model input
 *       directly, so its input gradient is the plan's ({@link GradientCheck#checkOnEveryBackend});
 *   <li>the CPU on three threads and the CUDA backend (the host emulation in CI) compute the same
 *       outputs, in training and inference, and the same gradients as the verified CPU;
 *   <li>each golden of the case ({@link LayerGolden}: PyTorch's results for the same layer
 *       configuration, on inputs of its own shape) is met on every backend, and met again on a
 *       second step whose output and gradient buffers were filled with NaN first: every element is
 *       written each step, none accumulated or left from before.
 * </ol>
 *
 * A Flatten → Dense(3) head turns any output into class scores for a cross-entropy loss. The inputs
 * are {@link GradientCheck#spreadData}: distinct and away from 0, so that a ReLU or max-pool
 * reading them meets no kink; kinks that parameters create are handled by {@link GradientCheck}.
 */
public final class LayerTestHelper {
  private LayerTestHelper() {}

  /**
   * One layer configuration: how to make it (a fresh layer per call), the per-sample shapes of the
   * inputs it reads for the finite-difference check, and the names of its goldens in
   * goldens/layers.json. Its name is what the layer says of itself, so a case cannot claim to check
   * a configuration it does not build.
   */
  public record Case(Supplier<? extends Layer> make, List<Shape> inputs, List<String> goldens) {
    public Case {
      inputs = List.copyOf(inputs);
      goldens = List.copyOf(goldens);
    }

    public static Case of(Supplier<? extends Layer> make, Shape... inputs) {
      return new Case(make, List.of(inputs), List.of());
    }

    /** This case, also compared with these PyTorch goldens of goldens/layers.json. */
    public Case withGoldens(String... names) {
      List<String> all = new ArrayList<>(goldens);
      all.addAll(List.of(names));
      return new Case(make, inputs, all);
    }

    @Override
    public String toString() {
      Layer layer = make.get();
      String config =
          layer.config().entrySet().stream()
              .map(e -> e.getKey() + "=" + Json.write(e.getValue()))
              .collect(Collectors.joining(", "));
      String on = inputs.stream().map(Shape::toString).collect(Collectors.joining(" and "));
      return layer.className() + "(" + config + ") on " + on;
    }
  }

  /** A single-input layer on inputs of per-sample shape {@code input}. */
  public static void check(Supplier<? extends Layer> make, Shape input) {
    check(Case.of(make, input));
  }

  /** A layer reading one node per entry of {@code inputs} (a merge layer for several). */
  public static void check(Supplier<? extends Layer> make, List<Shape> inputs) {
    check(new Case(make, inputs, List.of()));
  }

  public static void check(Case c) {
    try {
      checkSteps(c);
    } catch (AssertionError e) { // name the case: runners number parameterized cases only
      throw new AssertionError(c + ": " + e.getMessage(), e);
    }
  }

  private static void checkSteps(Case c) {
    List<Shape> inputs = c.inputs();
    checkConfigRoundTrip(c.make().get(), inputs);
    Layer layer = c.make().get();
    Graph probe = model(layer, inputs).build(1);
    assertEquals(layer.computeOutputShape(inputs), layer.outputShape(), "output shape of " + layer);

    Dataset data = GradientCheck.spreadData(probe.inputShape(), 5, 3, 13);
    GradientCheck.checkOnEveryBackend(
        () -> model(c.make().get(), inputs),
        7,
        new SparseCategoricalCrossentropy(true),
        data,
        2e-2,
        2e-3);
    for (String name : c.goldens()) {
      checkGolden(c.make(), LayerGolden.pytorch(name));
    }
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

  /** {@code golden} on the CPU (one and three threads), the reference and the CUDA backend. */
  public static void checkGolden(Supplier<? extends Layer> make, LayerGolden golden) {
    List<Backend> backends =
        TestBackends.withCuda(TestBackends.cpu(1), TestBackends.cpu(3), new ReferenceBackend());
    try {
      for (Backend b : backends) {
        if (!(golden.firstOfTies() && TestBackends.isCuda(b))) {
          checkGolden(make.get(), golden, b);
        }
      }
    } finally {
      backends.forEach(Backend::close);
    }
  }

  private static void checkGolden(Layer layer, LayerGolden g, Backend b) {
    String at = g.name() + " on " + TestBackends.label(b);
    Graph model = new Sequential(g.x().shape().dropFirst()).add(layer).build(0);
    load(layer.parameters(), g.params(), at + ": parameters");
    if (!g.buffers().isEmpty()) { // else the layer's initial ones
      load(layer.buffers(), g.buffers(), at + ": buffers");
    }
    assertEquals(g.y().shape().dropFirst(), layer.outputShape(), at + ": output shape");
    Plan plan =
        Plan.forTrainingWithInputGradient(model, b, g.x().shape().dim(0), new DotLoss(g.dy()));
    plan.input().copyFrom(g.x());
    plan.computeGradients();
    compareStep(layer, g, plan, at);
    for (int i = 0; i < g.buffersAfter().size(); i++) {
      assertClose(
          g.buffersAfter().get(i),
          layer.buffers().get(i).value(),
          g.rtol(),
          g.atol() / 10,
          at + ": " + layer.buffers().get(i).name() + " after the step");
    }
    if (g.yEval() != null) {
      plan.forward(false);
      assertClose(g.yEval(), plan.output(), g.rtol(), g.atol(), at + ": inference output");
    }
    poison(plan.output());
    poison(plan.inputGrad());
    layer.parameters().forEach(p -> poison(p.grad()));
    plan.input().copyFrom(g.x()); // the output may be a view of it (Reshape)
    plan.computeGradients();
    compareStep(layer, g, plan, at + ", second step over buffers of NaN");
  }

  private static void compareStep(Layer layer, LayerGolden g, Plan plan, String at) {
    assertClose(g.y(), plan.output(), g.rtol(), g.atol(), at + ": output");
    assertClose(g.dx(), plan.inputGrad(), g.rtol(), g.atol(), at + ": input gradient");
    for (int i = 0; i < g.paramGrads().size(); i++) {
      Parameter p = layer.parameters().get(i);
      assertClose(
          g.paramGrads().get(i),
          p.grad(),
          g.rtol(),
          10 * g.atol(),
          at + ": gradient of " + p.name());
    }
  }

  private static void load(List<Parameter> into, List<Tensor> values, String what) {
    assertEquals(values.size(), into.size(), what);
    for (int i = 0; i < values.size(); i++) {
      into.get(i).value().copyFrom(values.get(i));
    }
  }

  private static void poison(Tensor t) {
    Arrays.fill(t.array(), Float.NaN);
  }

  /** loss = Σ y·dy, so d loss / d y = dy: the golden's upstream gradient flows in unchanged. */
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
      float[] y = predictions.readArray(), d = dy.readArray();
      double s = 0;
      for (int i = 0; i < d.length; i++) {
        s += (double) y[i] * d[i];
      }
      if (dPred != null) {
        dPred.copyFrom(dy);
      }
      return (float) s;
    }

    @Override
    public int countCorrect(Backend b, Tensor p, Tensor t, int rows, int cols) {
      return 0;
    }
  }
}
