package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.marrow.engine.Goldens;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.optim.Sgd;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole blocks against PyTorch (engine/src/test/python/make_block_goldens.py): a residual block
 * with a 1×1 stride-2 projection shortcut, a concatenation block and a conv → BN → ReLU → pool →
 * Dense stack — logits, loss, the input's and every parameter's gradient, and the weights after
 * three Adam and three SGD-Nesterov steps as torch.optim takes them — on every backend.
 */
class BlockGoldenTest {
  private static final List<Backend> BACKENDS =
      TestBackends.withCuda(TestBackends.cpu(2), new ReferenceBackend());

  /** The largest absolute difference seen per quantity, printed at the end for the record. */
  private static final Map<String, Double> WORST = new TreeMap<>();

  @AfterAll
  static void close() {
    BACKENDS.forEach(Backend::close);
    WORST.forEach(
        (k, v) ->
            System.out.printf(Locale.ROOT, "block goldens, largest |difference| %s: %.3g%n", k, v));
  }

  static Stream<Arguments> cases() {
    return Goldens.cases("blocks.json", BACKENDS);
  }

  /** The graphs, made in the order the PyTorch modules name their layers. */
  static Graph model(String name) {
    return switch (name) {
      case "residual" -> {
        Node x = Node.input(3, 8, 8);
        Node main = conv(4, 3, 2, 1, false).apply(x);
        main = relu(bn(main));
        main = bn(conv(4, 3, 1, 1, false).apply(main));
        Node shortcut = bn(conv(4, 1, 2, 0, false).apply(x));
        Node sum = relu(new Add().apply(main, shortcut));
        yield new Graph(List.of(x), List.of(new Dense(5).apply(new Flatten().apply(sum))));
      }
      case "concat" -> {
        Node x = Node.input(2, 6, 6);
        Node a = new ActivationLayer(Activation.RELU).apply(conv(3, 3, 1, 1, true).apply(x));
        Node b = conv(2, 1, 1, 0, true).apply(x);
        Node pooled = Pooling2D.max(2).apply(new Concatenate().apply(a, b));
        yield new Graph(List.of(x), List.of(new Dense(4).apply(new Flatten().apply(pooled))));
      }
      case "stack" ->
          new Sequential(1, 8, 8)
              .add(Conv2D.builder(4, 3).useBias(false).build())
              .add(new BatchNormalization(0.9, 1e-5))
              .add(new ActivationLayer(Activation.RELU))
              .add(Pooling2D.max(2))
              .add(new Flatten())
              .add(new Dense(3));
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static Conv2D conv(int filters, int k, int stride, int pad, boolean bias) {
    return Conv2D.builder(filters, k)
        .strides(stride, stride)
        .padding(Padding.explicit(pad, pad))
        .useBias(bias)
        .build();
  }

  private static Node bn(Node x) {
    return new BatchNormalization(0.9, 1e-5).apply(x);
  }

  private static Node relu(Node x) {
    return new ActivationLayer(Activation.RELU).apply(x);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("cases")
  void matchesPyTorch(String label, JsonNode c, Backend backend) {
    String name = c.get("name").asText();
    Supplier<Graph> fresh = () -> withParams(model(name).build(0), c.get("params"));
    Tensor x = Goldens.tensor(c.get("x"));
    int[] labels = new ObjectMapper().convertValue(c.get("labels"), int[].class);
    int classes = c.get("logits").get("shape").get(1).asInt();
    Dataset batch = new Dataset(x, labels, classes);
    var loss = new SparseCategoricalCrossentropy(true);

    Graph g = fresh.get();
    Plan plan = Plan.forTrainingWithInputGradient(g, backend, labels.length, loss);
    plan.loadBatch(batch, null, 0);
    float value = plan.computeGradients();
    close(c.get("loss").asDouble(), value, label + " loss");
    close(c.get("logits"), plan.output(), label + " logits", "logits");
    close(c.get("dx"), plan.inputGrad(), label + " input gradient", "input gradient");
    for (Parameter p : g.parameters()) {
      close(c.get("grads").get(p.name()), p.grad(), label + " " + p.name(), "parameter gradients");
    }

    steps(fresh.get(), new Adam(1e-2, 0.9, 0.999, 1e-7, 0, false), backend, batch, c, "adam3");
    steps(fresh.get(), new Sgd(0.1, 0.9, true, 0), backend, batch, c, "nesterov3");
  }

  private void steps(Graph g, Optimizer opt, Backend b, Dataset batch, JsonNode c, String key) {
    opt.attach(b, g.parameters());
    Plan plan = Plan.forTraining(g, b, batch.size(), new SparseCategoricalCrossentropy(true));
    plan.loadBatch(batch, null, 0);
    for (int i = 0; i < 3; i++) {
      plan.computeGradients();
      opt.step(b, g.parameters());
    }
    for (Parameter p : g.parameters()) {
      close(c.get(key).get(p.name()), p.value(), key + " " + p.name(), "weights after " + key);
    }
  }

  private static Graph withParams(Graph g, JsonNode params) {
    List<String> names = new ArrayList<>();
    for (Parameter p : g.parameters()) {
      JsonNode v = params.get(p.name());
      if (v == null) {
        fail("no golden for " + p.name() + "; the goldens hold " + params.fieldNames());
      }
      p.value().copyFrom(Goldens.tensor(v));
      names.add(p.name());
    }
    assertEquals(params.size(), names.size(), "every golden parameter has a place: " + names);
    return g;
  }

  private static void close(double expected, double actual, String what) {
    WORST.merge("loss", Math.abs(expected - actual), Math::max);
    if (Math.abs(expected - actual) > 1e-5 + 1e-4 * Math.abs(expected)) {
      fail(what + ": " + actual + ", PyTorch " + expected);
    }
  }

  private static void close(JsonNode expected, Tensor actual, String what, String kind) {
    Tensor e = Goldens.tensor(expected);
    assertEquals(e.shape(), actual.shape(), what + " shape");
    float[] a = actual.toArray(), x = e.array();
    double scale = 0;
    for (float v : x) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < x.length; i++) {
      double d = Math.abs(x[i] - a[i]);
      WORST.merge(kind, d, Math::max);
      if (d > 1e-5 + 1e-4 * scale) {
        fail(String.format(Locale.ROOT, "%s[%d]: %.7g, PyTorch %.7g", what, i, a[i], x[i]));
      }
    }
  }
}
