package dev.marrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.io.ModelFormat;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Classification;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Predictor;
import dev.marrow.engine.train.TrainerTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A saved model predicts with no optimizer or loss, from many threads, with its class names. */
class InferenceTest {
  @TempDir Path dir;
  private Dataset data;
  private Tensor expected;

  @BeforeEach
  void trainAndSave() throws IOException {
    data = TrainerTest.sectors(512, 7);
    try (Model model =
        Model.sequential(2)
            .add(Layers.dense(16, "relu"))
            .add(Layers.dense(3))
            .classNames(List.of("north", "east", "south"))
            .compile(Optimizers.adam(1e-2), Losses.sparseCategoricalCrossentropy(true), "cpu")) {
      model.fit(data, FitOptions.defaults().epochs(15).batchSize(64));
      expected = model.predict(data.features());
      model.save(dir);
    }
  }

  @Test
  void aLoadedModelPredictsWithoutCompile() throws IOException {
    try (Model loaded = Model.load(dir).to("cpu")) {
      assertArrayEquals(expected.array(), loaded.predict(data.features()).array());
      assertEquals(List.of("north", "east", "south"), loaded.classNames());
      Tensor p = loaded.predictProbabilities(data.features());
      long right = 0;
      for (int i = 0; i < data.size(); i++) {
        float sum = 0;
        for (int c = 0; c < 3; c++) {
          sum += p.array()[i * 3 + c];
        }
        assertEquals(1f, sum, 1e-5f, "row " + i);
        List<Classification> top = loaded.classify(data.slice(i, i + 1).features(), 2).get(0);
        assertEquals(2, top.size());
        assertTrue(top.get(0).probability() >= top.get(1).probability());
        assertEquals(List.of("north", "east", "south").get(top.get(0).index()), top.get(0).name());
        assertEquals(p.array()[i * 3 + top.get(0).index()], top.get(0).probability(), 1e-6f);
        right += top.get(0).index() == data.label(i) ? 1 : 0;
      }
      assertTrue(right > 0.9 * data.size(), right + " of " + data.size() + " right");
      assertThrows(IllegalArgumentException.class, () -> loaded.classify(data.features(), 4));
    }
  }

  @Test
  void onePredictorServesManyThreadsWithTheSingleThreadedResults() throws Exception {
    try (Model loaded = Model.load(dir).to("cpu")) {
      Predictor predictor = loaded.predictor();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<float[]>> results = new ArrayList<>();
        for (int t = 0; t < 64; t++) {
          int from = (t * 37) % (data.size() - 32), rows = 1 + t % 32;
          results.add(
              pool.submit(
                  () -> predictor.predict(data.slice(from, from + rows).features()).array()));
        }
        for (int t = 0; t < 64; t++) {
          int from = (t * 37) % (data.size() - 32), rows = 1 + t % 32;
          float[] want = new float[rows * 3];
          System.arraycopy(expected.array(), from * 3, want, 0, rows * 3);
          assertArrayEquals(want, results.get(t).get(), "request " + t);
        }
      } finally {
        pool.shutdown();
      }
    }
  }

  @Test
  void badModelFoldersSayWhatWasFoundAndWhatWasExpected() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    var noJson = assertThrows(IOException.class, () -> Model.load(empty));
    assertTrue(noJson.getMessage().contains("holds no model.json"), noJson.getMessage());

    Path noWeights = Files.createDirectories(dir.resolve("no-weights"));
    Files.copy(dir.resolve(ModelFiles.ARCHITECTURE), noWeights.resolve(ModelFiles.ARCHITECTURE));
    var missing = assertThrows(IOException.class, () -> Model.load(noWeights));
    assertTrue(missing.getMessage().contains("no model.safetensors"), missing.getMessage());

    Path other = dir.resolve("other");
    try (Model wider = Model.sequential(2).add(Layers.dense(32, "relu")).add(Layers.dense(3))) {
      wider.save(other);
    }
    Files.copy(
        dir.resolve(ModelFiles.ARCHITECTURE),
        other.resolve(ModelFiles.ARCHITECTURE),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    var foreign = assertThrows(IOException.class, () -> Model.load(other));
    assertTrue(
        foreign.getMessage().contains("has shape (2, 32)")
            && foreign.getMessage().contains("expects (2, 16)"),
        foreign.getMessage());

    Path newer = Files.createDirectories(dir.resolve("newer"));
    Files.writeString(
        newer.resolve(ModelFiles.ARCHITECTURE),
        Files.readString(dir.resolve(ModelFiles.ARCHITECTURE))
            .replaceFirst("\"version\":\\s*" + ModelFormat.VERSION, "\"version\": 7"));
    var future = assertThrows(IOException.class, () -> Model.load(newer));
    assertTrue(
        future.getMessage().contains("written by a newer Marrow (model format version 7)")
            && future.getMessage().contains("reads versions up to " + ModelFormat.VERSION),
        future.getMessage());
  }
}
