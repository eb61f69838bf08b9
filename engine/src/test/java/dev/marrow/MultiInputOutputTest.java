package dev.marrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.data.MultiDataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.GradientCheck;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Evaluation;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.Plan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model with two inputs (an image and a feature vector) and two outputs (classes and a value),
 * Keras' way: a loss per output, weighted into the total; fit on features per input and targets per
 * output; logs per output; gradients of the weighted total checked by finite differences; saved and
 * loaded; data that does not fit refused with the input or output named.
 */
class MultiInputOutputTest {
  private static final List<Double> WEIGHTS = List.of(1.0, 0.5);

  @TempDir Path dir;

  /** image (1, 6, 6) → conv → flatten; meta (3) → dense; both → cls (3 logits), reg (1). */
  static Graph model() {
    Node image = Layers.input("image", 1, 6, 6);
    Node meta = Layers.input("meta", 3);
    Node seen = Layers.flatten().apply(Layers.conv2d(4, 3, "relu").apply(image)); // 64
    Node described = Layers.dense(8, "tanh").apply(meta);
    Node trunk = Layers.dense(16, "relu").apply(Layers.concatenate().apply(seen, described));
    Node cls = Layers.dense(3).named("cls").apply(trunk);
    Node reg = Layers.dense(1).named("reg").apply(Layers.concatenate().apply(trunk, described));
    return new Graph(List.of(image, meta), List.of(cls, reg));
  }

  private static List<Loss> losses() {
    return List.of(Losses.sparseCategoricalCrossentropy(true), Losses.meanSquaredError());
  }

  /**
   * n samples: the class is which third of the image is brightest, the value the product of two
   * features plus the image's mean.
   */
  static MultiDataset data(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor image = Tensor.zeros(Shape.of(n, 1, 6, 6));
    Tensor meta = Tensor.zeros(Shape.of(n, 3));
    Tensor value = Tensor.zeros(Shape.of(n, 1));
    int[] label = new int[n];
    for (int s = 0; s < n; s++) {
      double[] thirds = new double[3];
      double sum = 0;
      for (int p = 0; p < 36; p++) {
        float v = (float) r.nextDouble(-1, 1);
        image.array()[s * 36 + p] = v;
        thirds[(p % 6) / 2] += v;
        sum += v;
      }
      for (int k = 0; k < 3; k++) {
        meta.array()[s * 3 + k] = (float) r.nextDouble(-1, 1);
        label[s] = thirds[k] > thirds[label[s]] ? k : label[s];
      }
      value.array()[s] = meta.array()[s * 3] * meta.array()[s * 3 + 1] + (float) (sum / 36);
    }
    return MultiDataset.of(List.of(image, meta)).withLabels(label, 3).withValues(value);
  }

  @Test
  void aTwoInputTwoOutputModelTrainsLogsEachOutputAndRoundTripsThroughDisk() throws Exception {
    MultiDataset train = data(384, 1);
    MultiDataset test = data(128, 2);
    try (Model model =
        Model.of(model())
            .seed(3)
            .to("cpu")
            .compile(
                Optimizers.adam(1e-2),
                Map.of(
                    "cls",
                    Losses.sparseCategoricalCrossentropy(true),
                    "reg",
                    Losses.meanSquaredError()),
                Map.of("reg", 0.5),
                Map.of("cls", List.of("accuracy"), "reg", List.of("mae")))) {
      History h =
          model.fit(
              train, FitOptions.defaults().epochs(12).batchSize(32).validationData(test).seed(5));
      var first = h.epochs().get(0);
      var last = h.last();
      assertEquals(
          List.of(
              "loss",
              "cls_loss",
              "reg_loss",
              "cls_accuracy",
              "reg_mae",
              "val_loss",
              "val_cls_loss",
              "val_reg_loss",
              "val_cls_accuracy",
              "val_reg_mae"),
          List.copyOf(last.logs().keySet()));
      assertTrue(last.loss() < first.loss() / 2, "loss " + first.loss() + " → " + last.loss());
      assertTrue(last.get("reg_loss") < first.get("reg_loss"), last.toString());
      assertEquals(
          last.get("cls_loss") + 0.5 * last.get("reg_loss"), last.loss(), 1e-4 * last.loss());
      assertTrue(last.get("val_cls_accuracy") > 0.7, last.toString());
      Evaluation e = model.evaluate(test);
      assertEquals(last.get("val_loss"), e.loss(), 1e-6);
      assertEquals(last.get("val_reg_mae"), e.get("reg_mae"), 1e-6);

      List<Tensor> predicted = model.predict(List.of(test.features(0), test.features(1)));
      assertEquals(Shape.of(128, 3), predicted.get(0).shape());
      assertEquals(Shape.of(128, 1), predicted.get(1).shape());
      List<Tensor> streamed = model.predictOutputs(test);
      assertArrayEquals(predicted.get(1).toArray(), streamed.get(1).toArray());

      model.save(dir);
      try (Model loaded = Model.load(dir).to("cpu")) {
        assertEquals(2, loaded.network().inputs().size());
        assertEquals(
            List.of("cls", "reg"), dev.marrow.engine.train.Trainer.outputNames(loaded.network()));
        List<Tensor> again = loaded.predict(List.of(test.features(0), test.features(1)));
        assertArrayEquals(predicted.get(0).toArray(), again.get(0).toArray());
        assertArrayEquals(predicted.get(1).toArray(), again.get(1).toArray());
      }
    }
  }

  @Test
  void gradientsOfTheWeightedLossMatchFiniteDifferencesOnEveryBackend() {
    MultiDataset batch = data(6, 7);
    for (Backend b : List.of(TestBackends.cpu(2), new ReferenceBackend())) {
      try (b) {
        Plan plan = Plan.forTraining(model().build(4), b, 6, losses(), WEIGHTS);
        plan.loadBatch(batch, null, 0);
        GradientCheck.check(plan, "cls + 0.5 reg", 1e-2, 1e-3);
        assertEquals(plan.outputLoss(0) + 0.5f * plan.outputLoss(1), plan.lastLoss(), 1e-6f);
      }
    }
    TestBackends.cuda()
        .ifPresent(
            cuda -> {
              try (Backend cpu = TestBackends.cpu(2);
                  cuda) {
                List<float[]> expected = gradients(cpu, batch);
                List<float[]> actual = gradients(cuda, batch);
                for (int p = 0; p < expected.size(); p++) {
                  float[] e = expected.get(p), a = actual.get(p);
                  for (int i = 0; i < e.length; i++) {
                    if (Math.abs(e[i] - a[i]) > 1e-4 * (1 + Math.abs(e[i]))) {
                      fail("parameter " + p + "[" + i + "]: cpu " + e[i] + ", cuda " + a[i]);
                    }
                  }
                }
              }
            });
  }

  private static List<float[]> gradients(Backend backend, MultiDataset batch) {
    Graph g = model().build(4);
    Plan plan = Plan.forTraining(g, backend, 6, losses(), WEIGHTS);
    plan.loadBatch(batch, null, 0);
    plan.computeGradients();
    List<float[]> out = new ArrayList<>();
    for (Parameter p : g.parameters()) {
      out.add(p.grad().toArray());
    }
    return out;
  }

  @Test
  void dataThatDoesNotFitTheInputsOrOutputsIsRefusedNamingThem() {
    Graph g = model().build(4);
    try (Backend cpu = TestBackends.cpu(1)) {
      Plan plan = Plan.forTraining(g, cpu, 4, losses(), WEIGHTS);
      MultiDataset good = data(4, 9);
      Tensor image = good.features(0), meta = good.features(1);
      rejects(
          () -> plan.loadBatch(MultiDataset.of(List.of(image)).withLabels(new int[4], 3), null, 0),
          "the model takes 2 inputs (image (1, 6, 6), meta (3,)) but the data has 1 ((1, 6, 6))");
      rejects(
          () ->
              plan.loadBatch(
                  MultiDataset.of(List.of(image, Tensor.zeros(Shape.of(4, 4))))
                      .withLabels(new int[4], 3)
                      .withValues(Tensor.zeros(Shape.of(4, 1))),
                  null,
                  0),
          "input 2 (meta) takes samples of shape (3,) but the data's have shape (4,)");
      rejects(
          () ->
              plan.loadBatch(
                  MultiDataset.of(List.of(image, meta)).withLabels(new int[4], 3), null, 0),
          "the model gives 2 outputs (cls (3,), reg (1,)) but the data has targets for 1");
      rejects(
          () ->
              plan.loadBatch(
                  MultiDataset.of(List.of(image, meta))
                      .withLabels(new int[4], 3)
                      .withValues(Tensor.zeros(Shape.of(4, 2))),
                  null,
                  0),
          "output reg: the data's targets have shape (2,) (2 values per sample) but the model"
              + " outputs (1,)");
      rejects(
          () ->
              plan.loadBatch(
                  MultiDataset.of(List.of(image, meta))
                      .withValues(Tensor.zeros(Shape.of(4, 3)))
                      .withValues(Tensor.zeros(Shape.of(4, 1))),
                  null,
                  0),
          "output cls: sparse_categorical_crossentropy takes class labels");
      Dataset single = GradientCheck.randomData(Shape.of(1, 6, 6), 4, 3, 1);
      rejects(() -> plan.loadBatch(single, null, 0), "the model takes 2 inputs");
      rejects(
          () -> Plan.forTraining(g, cpu, 4, List.of(Losses.meanSquaredError()), null),
          "1 losses for 2 outputs (cls (3,), reg (1,))");
      rejects(
          () -> MultiDataset.of(List.of(image, Tensor.zeros(Shape.of(5, 3)))),
          "input 1 holds 4 samples but input 2 holds 5");
    }
    try (Model m = Model.of(model()).to("cpu")) {
      rejects(
          () ->
              m.compile(
                  Optimizers.sgd(0.1),
                  Map.of("cls", Losses.meanSquaredError(), "value", Losses.meanSquaredError()),
                  Map.of(),
                  Map.of()),
          "a loss for 'value', which is not an output; the outputs are [cls, reg]");
      rejects(
          () ->
              m.compile(
                  Optimizers.sgd(0.1),
                  Map.of("cls", Losses.meanSquaredError()),
                  Map.of(),
                  Map.of()),
          "no loss for output 'reg'");
    }
  }

  private static void rejects(org.junit.jupiter.api.function.Executable call, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(expected), "message: " + e.getMessage());
  }
}
