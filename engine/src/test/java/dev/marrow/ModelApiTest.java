package dev.marrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.TrainerTest;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelApiTest {
  @TempDir Path dir;

  @Test
  void aHandWrittenLoopLearnsAndTheModelRoundTripsThroughDisk() throws Exception {
    Dataset data = TrainerTest.sectors(512, 31);
    try (Model model =
        Model.sequential(2)
            .add(Layers.dense(32, "relu"))
            .add(Layers.dense(3))
            .compile(Optimizers.adam(1e-2), Losses.sparseCategoricalCrossentropy(true))) {
      float first = 0, last = 0;
      for (int epoch = 0; epoch < 30; epoch++) {
        for (int from = 0; from < 512; from += 64) {
          Dataset batch = data.slice(from, from + 64);
          float loss = model.backward(batch.features(), batch.labels()); // loss.backward()
          model.step(); // optimizer.step()
          first = epoch == 0 && from == 0 ? loss : first;
          last = loss;
        }
      }
      assertTrue(last < first / 3, "loss fell from " + first + " to " + last);
      assertTrue(model.evaluate(data).accuracy() > 0.9);
      model.save(dir);
      Tensor expected = model.predict(data.features());
      try (Model loaded =
          Model.load(dir)
              .compile(Optimizers.sgd(0.1), Losses.sparseCategoricalCrossentropy(true))) {
        assertArrayEquals(expected.array(), loaded.predict(data.features()).array());
      }
      var e =
          assertThrows(
              IllegalArgumentException.class,
              () -> model.backward(Tensor.zeros(Shape.of(4, 3)), new int[4]));
      assertTrue(e.getMessage().contains("(N, 2,)"), e.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> model.backward(Tensor.zeros(Shape.of(4, 2)), new int[] {0, 1, 2, 7}));
    }
    var notCompiled =
        assertThrows(
            IllegalStateException.class,
            () ->
                Model.sequential(2).add(Layers.dense(2)).backward(Tensor.zeros(1, 2), new int[1]));
    assertTrue(notCompiled.getMessage().contains("compile"), notCompiled.getMessage());
    assertTrue(
        Arrays.asList(Model.class.getMethods()).stream().anyMatch(m -> m.getName().equals("fit")));
  }
}
