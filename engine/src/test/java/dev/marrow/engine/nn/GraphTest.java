package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Predictor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Functional models: residual and multi-branch graphs compile into plans on every backend, their
 * gradients match finite differences (a node read by several layers gets the sum of their
 * gradients), they save and load, and a malformed graph is refused with the nodes named.
 */
class GraphTest {
  @TempDir Path dir;

  /** conv → (conv → bn → relu) + 1×1 stride-2 shortcut → concat with a gated branch → dense. */
  static Graph residualBlock() {
    Node x = Node.input(2, 6, 6);
    Node stem =
        Conv2D.builder(4, 3)
            .padding(Padding.SAME)
            .activation(dev.marrow.engine.backend.Activation.RELU)
            .build()
            .apply(x);
    Node main = Conv2D.builder(4, 3).strides(2, 2).padding(Padding.SAME).build().apply(stem);
    main = new BatchNormalization(0.9, 1e-3).apply(main);
    main = new ActivationLayer("relu").apply(main);
    Node shortcut = Conv2D.builder(4, 1).strides(2, 2).build().apply(stem);
    Node sum = new Add().apply(main, shortcut);
    Node gate = new ActivationLayer("sigmoid").apply(Conv2D.builder(4, 1).build().apply(sum));
    Node gated = new Multiply().apply(sum, gate);
    Node mean = new Average().apply(sum, gated);
    Node joined = new Concatenate().apply(sum, mean); // (8, 3, 3)
    Node out = new Dense(3).apply(new Flatten().apply(joined));
    return new Graph(List.of(x), List.of(out));
  }

  @Test
  void gradientsOfABranchyGraphMatchFiniteDifferencesOnEveryBackend() {
    var loss = new SparseCategoricalCrossentropy(true);
    Dataset data = GradientCheck.randomData(residualBlock().build(3).inputShape(), 4, 3, 11);
    GradientCheck.checkOnEveryBackend(GraphTest::residualBlock, 3, loss, data, 2e-2, 2e-3);
  }

  @Test
  void aNodeReadTwiceByOneLayerGetsBothGradients() {
    Node x = Node.input(5);
    Node h = new Dense(4, "tanh").apply(x);
    Node doubled = new Add().apply(h, h); // d/dh = 2
    Node squared = new Multiply().apply(h, h); // d/dh = 2h
    Node out = new Dense(3).apply(new Concatenate().apply(doubled, squared));
    Graph g = new Graph(List.of(x), List.of(out)).build(5);
    try (Backend cpu = TestBackends.cpu(1)) {
      GradientCheck.check(
          g,
          new SparseCategoricalCrossentropy(true),
          cpu,
          GradientCheck.randomData(g.inputShape(), 6, 3, 2),
          1e-2,
          1e-3);
    }
  }

  @Test
  void summaryShowsWhatEachLayerIsConnectedTo() {
    String s = residualBlock().build(1).summary();
    assertTrue(s.contains("Connected to"), s);
    assertTrue(s.contains("add1 (Add)"), s);
    assertTrue(
        s.lines()
            .anyMatch(
                l ->
                    l.startsWith("add1 (Add)") && l.endsWith("bn1 ... ")
                        || l.startsWith("add1 (Add)") && l.contains("conv3")),
        s);
    assertTrue(
        s.lines().anyMatch(l -> l.startsWith("concatenate1") && l.endsWith("add1, average1")), s);
  }

  @Test
  void aGraphSavesAndLoadsWithItsPredictions() throws IOException {
    Graph g = residualBlock().build(9);
    Dataset data = GradientCheck.randomData(g.inputShape(), 7, 3, 4);
    try (Backend cpu = TestBackends.cpu(2)) {
      Tensor before = new Predictor(g, cpu).predict(data.features());
      ModelFiles.save(g, dir, java.util.Map.of());
      String json = Files.readString(dir.resolve(ModelFiles.ARCHITECTURE));
      assertTrue(
          json.contains("\"format\":\"marrow.graph\"") && json.contains("\"inbound\""), json);
      Graph loaded = ModelFiles.load(dir);
      assertEquals(g.layers().size(), loaded.layers().size());
      assertArrayEquals(
          before.array(), new Predictor(loaded, cpu).predict(data.features()).array());
    }
  }

  @Test
  void aSequentialSavedAsAGraphLoadsAsASequential() throws IOException {
    Sequential s = new Sequential(4).add(new Dense(3, "relu")).add(new Dense(2));
    s.build(1);
    ModelFiles.save(s, dir, java.util.Map.of());
    assertInstanceOf(Sequential.class, ModelFiles.load(dir));
  }

  /** A model.json and its weights written by the first format's code, and its predictions. */
  @Test
  void aModelWrittenByTheFirstFormatStillLoadsAndPredictsTheSame() throws Exception {
    Path legacy =
        Path.of(getClass().getResource("/dev/marrow/engine/io/legacy-sequential-v1").toURI());
    Graph g = ModelFiles.load(legacy);
    assertInstanceOf(Sequential.class, g);
    float[] x = new float[2 * 64];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i);
    }
    String expected = Files.readString(legacy.resolve("expected-predictions.txt")).strip();
    String[] parts = expected.substring(1, expected.length() - 1).split(",\\s*");
    try (Backend cpu = TestBackends.cpu(2)) {
      float[] y = new Predictor(g, cpu).predict(Tensor.of(x, 2, 1, 8, 8)).array();
      assertEquals(parts.length, y.length);
      for (int i = 0; i < y.length; i++) {
        assertEquals(Float.parseFloat(parts[i]), y[i], 1e-6f, "output " + i);
      }
    }
  }

  @Test
  void malformedGraphsAreRefusedWithTheNodesNamed() {
    Node a = Node.input(4, 6, 6);
    Node b = Conv2D.builder(8, 3).build().apply(a); // (8, 4, 4)
    var mismatch = assertThrows(IllegalArgumentException.class, () -> new Add().apply(a, b));
    assertTrue(
        mismatch.getMessage().contains("Add needs inputs of one shape, got (4, 6, 6) and (8, 4, 4)")
            && mismatch.getMessage().contains("applied to input (4, 6, 6), conv (8, 4, 4)"),
        mismatch.getMessage());
    var concat =
        assertThrows(
            IllegalArgumentException.class, () -> new Concatenate(3).apply(a, Node.input(4, 5, 6)));
    assertTrue(concat.getMessage().contains("equal on every other axis"), concat.getMessage());

    Node stray = Node.input(Shape.of(4, 6, 6), "other");
    Node sum = new Add().apply(a, stray);
    var unreachable =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Graph(List.of(a), List.of(new Flatten().apply(sum))));
    assertTrue(
        unreachable.getMessage().contains("depend on input node other (4, 6, 6)"),
        unreachable.getMessage());

    Node used = Node.input(3);
    Node unused = Node.input(3);
    var feedsNothing =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Graph(List.of(used, unused), List.of(new Dense(2).apply(used))));
    assertTrue(
        feedsNothing.getMessage().contains("feeds none of the outputs"), feedsNothing.getMessage());

    Node in = Node.input(3);
    Node d1 = new Dense(2).named("same").apply(in);
    Node d2 = new Dense(2).named("same").apply(d1);
    var duplicate =
        assertThrows(
            IllegalArgumentException.class, () -> new Graph(List.of(in), List.of(d2)).build(1));
    assertTrue(
        duplicate.getMessage().contains("two layers are named 'same'"), duplicate.getMessage());

    Dense once = new Dense(2);
    once.apply(Node.input(3));
    var shared = assertThrows(IllegalStateException.class, () -> once.apply(Node.input(3)));
    assertTrue(shared.getMessage().contains("already applied"), shared.getMessage());
  }

  @Test
  void malformedModelJsonIsAnIoErrorNamingTheNode() throws IOException {
    String cycle =
        """
        {"format": "marrow.graph", "version": 2,
         "inputs": [{"name": "input1", "shape": [3]}],
         "layers": [
           {"class_name": "Dense", "name": "a", "config": {"units": 3}, "inbound": ["b"]},
           {"class_name": "Dense", "name": "b", "config": {"units": 3}, "inbound": ["a"]},
           {"class_name": "Dense", "name": "c", "config": {"units": 3}, "inbound": ["input1"]}],
         "outputs": ["c"]}
        """;
    assertLoadFails(cycle, "form a cycle");
    assertLoadFails(cycle.replace("[\"b\"]", "[\"nowhere\"]"), "reads \"nowhere\", which is no");
    assertLoadFails(
        cycle.replace("\"name\": \"b\"", "\"name\": \"a\""), "duplicate node name \"a\"");
    assertLoadFails(
        cycle.replace(
            "\"class_name\": \"Dense\", \"name\": \"c\"",
            "\"class_name\": \"Mystery\", \"name\": \"c\""),
        "unknown layer class \"Mystery\"");
    String valid = cycle.replace("[\"b\"]", "[\"input1\"]");
    assertLoadFails(
        valid.replace("\"outputs\": [\"c\"]", "\"outputs\": [\"z\"]"), "output \"z\" is no layer");
    assertLoadFails(
        valid.replace(
            "{\"units\": 3}, \"inbound\": [\"a\"]", "{\"units\": 0}, \"inbound\": [\"a\"]"),
        "layers[1] (b) (Dense).units is 0; expected an integer in [1, 16777216]");
  }

  private void assertLoadFails(String json, String expected) throws IOException {
    Path d = Files.createTempDirectory(dir, "bad");
    Files.writeString(d.resolve(ModelFiles.ARCHITECTURE), json);
    var e = assertThrows(IOException.class, () -> ModelFiles.load(d));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
