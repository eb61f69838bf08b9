package dev.marrow.engine.nn.custom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Add;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.GradientCheck;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.LayerTestHelper;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Predictor;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.TrainerTest;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's own layer ({@link Bias}): the README shows this very file; it is gradient-checked,
 * trained, saved and loaded like a built-in layer, in a residual graph.
 */
class CustomLayerTest {
  @TempDir Path dir;

  static Graph model() {
    Node x = Node.input(2);
    Node h = new Dense(8, "tanh").apply(x);
    Node shifted = new Bias(0.5f).apply(h);
    Node out = new Dense(3).apply(new Add().apply(h, shifted));
    return new Graph(List.of(x), List.of(out));
  }

  @Test
  void itsGradientsMatchFiniteDifferencesOnEveryBackend() {
    var loss = new SparseCategoricalCrossentropy(true);
    Dataset data = GradientCheck.randomData(model().build(4).inputShape(), 5, 3, 8);
    GradientCheck.checkOnEveryBackend(CustomLayerTest::model, 4, loss, data, 1e-2, 1e-3);
  }

  /** The checks every built-in layer passes: config round trip, shapes, gradients, backends. */
  @Test
  void itPassesTheSharedLayerChecks() {
    Bias.register(); // the registry must know it for the config round trip
    LayerTestHelper.check(() -> new Bias(0.5f), Shape.of(4));
  }

  @Test
  void itTrainsSavesAndLoadsLikeABuiltInLayer() throws IOException {
    Bias.register();
    Graph g = model().build(1);
    Dataset data = TrainerTest.sectors(256, 3);
    try (Backend cpu = TestBackends.cpu(2)) {
      Trainer t = new Trainer(g, new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
      var h =
          t.fit(
              data,
              FitOptions.defaults()
                  .epochs(20)
                  .batchSize(32)
                  .verbose(ProgressLogger.Verbosity.SILENT));
      assertTrue(h.last().accuracy() > 0.9, "accuracy " + h.last().accuracy());
      float[] learned = g.layers().get(1).parameters().get(0).value().toArray();
      assertTrue(learned[0] != 0.5f, "the offset was trained");
      ModelFiles.save(g, dir, java.util.Map.of());
      String json = Files.readString(dir.resolve(ModelFiles.ARCHITECTURE));
      assertTrue(
          json.contains("\"class_name\":\"Bias\"") && json.contains("\"initial\":0.5"), json);
      Graph loaded = ModelFiles.load(dir);
      assertEquals("bias1.value", loaded.layers().get(1).parameters().get(0).name());
      assertArrayEquals(
          t.predict(data.features()).array(),
          new Predictor(loaded, cpu).predict(data.features()).array());
    }
  }

  @Test
  void anUnregisteredLayerInModelJsonSaysHowToRegisterIt() throws IOException {
    Files.writeString(
        dir.resolve(ModelFiles.ARCHITECTURE),
        """
        {"format": "marrow.graph", "version": 2, "inputs": [{"name": "in", "shape": [4]}],
         "layers": [{"class_name": "Unheard", "name": "u", "config": {}, "inbound": ["in"]}],
         "outputs": ["u"]}
        """);
    var e = assertThrows(IOException.class, () -> ModelFiles.load(dir));
    assertTrue(
        e.getMessage().contains("unknown layer class \"Unheard\"")
            && e.getMessage().contains("LayerRegistry.register"),
        e.getMessage());
  }

  /** The README's example is this file, so what users copy compiles and passes these tests. */
  @Test
  void theReadmeShowsThisLayer() throws IOException {
    Path root = Path.of(System.getProperty("marrow.repo.root", ".."));
    String readme = Files.readString(root.resolve("README.md"));
    String source =
        Files.readString(
            root.resolve("engine/src/test/java/dev/marrow/engine/nn/custom/Bias.java"));
    String body = source.substring(source.indexOf("import ")).strip();
    assertTrue(readme.contains(body), "README.md's custom-layer block differs from Bias.java");
  }
}
