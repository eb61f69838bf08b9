package dev.marrow;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.TrainerTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad arguments at the public API: IllegalArgumentException saying what was expected. */
class PublicApiArgumentsTest {

  private static void rejects(Executable call, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage());
  }

  @Test
  void shapesLabelsBatchSizesAndLearningRatesAreChecked() {
    Dataset data = TrainerTest.sectors(64, 3);
    try (Model model =
        Model.sequential(2)
            .add(Layers.dense(8, "relu"))
            .add(Layers.dense(3))
            .compile(Optimizers.sgd(0.1), Losses.sparseCategoricalCrossentropy(true))) {
      rejects(() -> model.predict(Tensor.zeros(Shape.of(4, 5))), "(N, 2,)");
      rejects(
          () -> model.backward(Tensor.zeros(Shape.of(2, 2)), new int[] {0, 3}),
          "label 3 of sample 1 is outside [0, 3)");
      rejects(
          () -> model.backward(Tensor.zeros(Shape.of(2, 2)), new int[] {0, -1}),
          "label -1 of sample 1 is outside [0, 3)");
      rejects(
          () -> model.fit(data, FitOptions.defaults().batchSize(0)),
          "batch size must be at least 1, got 0");
    }
    rejects(() -> Optimizers.adam(-1e-3), "learning rate");
    rejects(() -> Optimizers.sgd(Double.NaN), "learning rate");
    rejects(() -> Optimizers.sgd(0.1, 1.5, false), "momentum must be in [0, 1)");
    rejects(() -> Layers.dense(0), "units");
    rejects(() -> Layers.dropout(1.0), "rate");
  }
}
