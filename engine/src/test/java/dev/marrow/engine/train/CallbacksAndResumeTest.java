package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.Checkpoint;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.callbacks.CsvLogger;
import dev.marrow.engine.train.callbacks.EarlyStopping;
import dev.marrow.engine.train.callbacks.LearningRateSchedule;
import dev.marrow.engine.train.callbacks.ModelCheckpoint;
import dev.marrow.engine.train.callbacks.Monitor;
import dev.marrow.engine.train.callbacks.ReduceLROnPlateau;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallbacksAndResumeTest {
  @TempDir Path dir;

  private static final Dataset DATA = TrainerTest.sectors(600, 21);

  private static float[] weights(dev.marrow.engine.nn.Graph m) {
    List<Float> all = new ArrayList<>();
    for (Tensor t : ModelFiles.stateDict(m).values()) {
      for (float v : t.array()) {
        all.add(v);
      }
    }
    float[] out = new float[all.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = all.get(i);
    }
    return out;
  }

  private static Trainer trainer(Sequential m, Optimizer o, CpuBackend cpu) {
    return new Trainer(m, o, new SparseCategoricalCrossentropy(true), cpu);
  }

  @Test
  void twoPlusThreeEpochsEqualFiveBitForBit() throws IOException {
    Path cp = dir.resolve(Checkpoint.FILE);
    float[] straight;
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Sequential m = TrainerTest.mlp(3); // has dropout: its masks must line up too
      trainer(m, new Adam(1e-2), cpu)
          .fit(DATA, FitOptions.defaults().epochs(5).batchSize(32).seed(9));
      straight = weights(m);
    }
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Sequential m = TrainerTest.mlp(3);
      Adam adam = new Adam(1e-2);
      trainer(m, adam, cpu)
          .fit(
              DATA,
              FitOptions.defaults()
                  .epochs(2)
                  .batchSize(32)
                  .seed(9)
                  .callback(new ModelCheckpoint(cp, Monitor.of("loss"), false, 9, Map.of())));
    }
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Sequential m = TrainerTest.mlp(777); // different init: everything must come from the file
      Adam adam = new Adam(5e-1);
      Trainer t = trainer(m, adam, cpu);
      Checkpoint c = Checkpoint.restore(cp, m, adam);
      assertEquals(2, c.epoch());
      assertEquals(9, c.seed());
      History h =
          t.fit(
              DATA,
              FitOptions.defaults().epochs(5).batchSize(32).seed(c.seed()).initialEpoch(c.epoch()));
      assertEquals(List.of(3, 4, 5), h.epochs().stream().map(EpochStats::epoch).toList());
      assertArrayEquals(straight, weights(m));
    }
  }

  @Test
  void earlyStoppingStopsAndRestoresTheBestWeights() {
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Sequential m = TrainerTest.mlp(4);
      // A learning rate this high makes validation loss bounce: patience runs out quickly.
      EarlyStopping stop = new EarlyStopping(Monitor.of("val_loss"), 1, true);
      List<float[]> perEpoch = new ArrayList<>();
      History h =
          trainer(m, new Adam(0.3), cpu)
              .fit(
                  DATA,
                  FitOptions.defaults()
                      .epochs(40)
                      .batchSize(32)
                      .validationSplit(0.3)
                      .callback(stop)
                      .callback(
                          new Callback() {
                            @Override
                            public void onEpochEnd(TrainingContext ctx, EpochStats s) {
                              perEpoch.add(weights(ctx.model()));
                            }
                          }));
      assertTrue(h.epochs().size() < 40, "stopped early after " + h.epochs().size());
      assertEquals(h.last().epoch(), stop.stoppedEpoch());
      int best = stop.bestEpoch();
      double bestLoss = h.epochs().get(best - 1).valLoss();
      for (EpochStats s : h.epochs()) {
        assertTrue(s.valLoss() >= bestLoss, "epoch " + best + " had the lowest val_loss");
      }
      assertTrue(best < h.last().epoch());
      // Checked last because the callback order puts the recorder after EarlyStopping, whose
      // restore happens at train end.
      assertArrayEquals(perEpoch.get(best - 1), weights(m), "weights of the best epoch");
    }
  }

  @Test
  void reduceLrOnPlateauLowersTheRateAndSchedulesSetIt() {
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Adam adam = new Adam(0.5);
      ReduceLROnPlateau reduce = new ReduceLROnPlateau(Monitor.of("loss"), 0.5, 0, 1e-3, 0);
      History h =
          trainer(TrainerTest.mlp(5), adam, cpu)
              .fit(DATA, FitOptions.defaults().epochs(8).batchSize(64).callback(reduce));
      List<Double> rates = h.epochs().stream().map(EpochStats::learningRate).toList();
      assertTrue(rates.getLast() < 0.5, "rate was lowered: " + rates);
      for (int i = 1; i < rates.size(); i++) {
        assertTrue(rates.get(i) <= rates.get(i - 1), "never raised: " + rates);
      }
      assertTrue(rates.getLast() >= 1e-3 * 0.999, "not below min_lr: " + rates);
    }
    LearningRateSchedule cosine = LearningRateSchedule.cosine(0.1, 0, 4);
    assertEquals(0.1, cosine.rateAt(1), 1e-12);
    assertEquals(0.05, cosine.rateAt(3), 1e-12);
    LearningRateSchedule step = LearningRateSchedule.step(1, 0.5, 2);
    assertEquals(
        List.of(1.0, 1.0, 0.5, 0.5, 0.25),
        List.of(step.rateAt(1), step.rateAt(2), step.rateAt(3), step.rateAt(4), step.rateAt(5)));
    assertEquals(0.81, LearningRateSchedule.exponential(1, 0.9).rateAt(3), 1e-12);
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Adam adam = new Adam(1);
      History h =
          trainer(TrainerTest.mlp(6), adam, cpu)
              .fit(
                  DATA,
                  FitOptions.defaults()
                      .epochs(3)
                      .callback(LearningRateSchedule.step(0.02, 0.1, 1)));
      assertEquals(0.0002, h.last().learningRate(), 1e-9);
    }
  }

  @Test
  void cosineDecaySetsEveryStepsRateFromTheRunsFractionDone() {
    LearningRateSchedule decay = LearningRateSchedule.cosineDecay(0.1, 0.01);
    assertEquals(0.1, decay.rateAtStep(0, 10), 1e-12);
    assertEquals(0.055, decay.rateAtStep(5, 10), 1e-12);
    assertEquals(0.01, decay.rateAtStep(10, 10), 1e-12);
    assertThrows(IllegalStateException.class, () -> decay.rateAt(1));
    assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.cosineDecay(0.1, 0.2));
    assertThrows(IllegalArgumentException.class, () -> decay.rateAtStep(0, 0));
    assertThrows(
        IllegalStateException.class, () -> LearningRateSchedule.cosine(1, 0, 2).rateAtStep(0, 1));
    // Listed before the schedule, the recorder sees the rate each step ran with.
    List<Double> used = new ArrayList<>();
    Callback recorder =
        new Callback() {
          @Override
          public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
            used.add((double) ctx.optimizer().learningRate());
          }
        };
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      History h =
          trainer(TrainerTest.mlp(7), new Adam(1), cpu)
              .fit(
                  DATA,
                  FitOptions.defaults()
                      .epochs(3)
                      .batchSize(128)
                      .callback(recorder)
                      .callback(decay));
      int steps = (600 + 127) / 128;
      assertEquals(3 * steps, used.size());
      for (int t = 0; t < used.size(); t++) {
        assertEquals((double) (float) decay.rateAtStep(t, 3 * steps), used.get(t), 0, "step " + t);
      }
      assertEquals(used.get(steps - 1), h.epochs().getFirst().learningRate(), 0);
      assertEquals(used.getLast(), h.last().learningRate(), 0);
      assertTrue(used.getLast() < 0.012, "ends near min_lr: " + used.getLast());
      // A run resumed after its first epoch continues the same curve.
      List<Double> all = List.copyOf(used);
      used.clear();
      trainer(TrainerTest.mlp(7), new Adam(1), cpu)
          .fit(
              DATA,
              FitOptions.defaults()
                  .epochs(3)
                  .initialEpoch(1)
                  .batchSize(128)
                  .callback(recorder)
                  .callback(LearningRateSchedule.cosineDecay(0.1, 0.01)));
      assertEquals(all.subList(steps, all.size()), used);
    }
  }

  @Test
  void modelCheckpointWithSaveBestOnlyKeepsTheBestEpoch() throws IOException {
    Path best = dir.resolve("best.safetensors");
    History h;
    ModelCheckpoint checkpoint =
        new ModelCheckpoint(best, Monitor.of("val_loss"), true, 5, Map.of());
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      h =
          trainer(TrainerTest.mlp(8), new Adam(0.2), cpu)
              .fit(
                  DATA,
                  FitOptions.defaults()
                      .epochs(8)
                      .batchSize(32)
                      .validationSplit(0.3)
                      .callback(checkpoint));
    }
    int bestEpoch =
        h.epochs().stream()
            .min(java.util.Comparator.comparingDouble(EpochStats::valLoss))
            .orElseThrow()
            .epoch();
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Sequential m = TrainerTest.mlp(8);
      Adam adam = new Adam(1e-3);
      trainer(m, adam, cpu);
      assertEquals(bestEpoch, Checkpoint.restore(best, m, adam).epoch());
    }
    assertTrue(checkpoint.saves() < 8, "saved only on improvement: " + checkpoint.saves());
  }

  @Test
  void divergenceStopsTrainingNamesTheLayerAndLeavesTheCheckpointLoadable() throws IOException {
    Path cp = dir.resolve(Checkpoint.FILE);
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Sequential m = TrainerTest.mlp(9);
      dev.marrow.engine.optim.Sgd sgd = new dev.marrow.engine.optim.Sgd(0.05);
      var e =
          assertThrows(
              TrainingDivergedException.class,
              () ->
                  trainer(m, sgd, cpu)
                      .fit(
                          DATA,
                          FitOptions.defaults()
                              .epochs(3)
                              .batchSize(32)
                              .callback(
                                  new LearningRateSchedule(ep -> ep == 1 ? 0.05 : 1e38, "explodes"))
                              .callback(
                                  new ModelCheckpoint(
                                      cp, Monitor.of("loss"), false, 1, Map.of()))));
      assertEquals(2, e.epoch());
      assertTrue(
          e.getMessage().contains("first non-finite gradient") && e.getMessage().contains("dense"),
          e.getMessage());
      Sequential again = TrainerTest.mlp(9);
      dev.marrow.engine.optim.Sgd sgd2 = new dev.marrow.engine.optim.Sgd(0.05);
      trainer(again, sgd2, cpu);
      assertEquals(1, Checkpoint.restore(cp, again, sgd2).epoch());
      for (Tensor t : ModelFiles.stateDict(again).values()) {
        for (float v : t.array()) {
          assertTrue(Float.isFinite(v));
        }
      }
    }
  }

  @Test
  void csvLoggerWritesARowPerEpochAndAppendsOnResume() throws IOException {
    Path csv = dir.resolve("history.csv");
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      trainer(TrainerTest.mlp(7), new Adam(1e-2), cpu)
          .fit(DATA, FitOptions.defaults().epochs(2).callback(new CsvLogger(csv, false)));
      trainer(TrainerTest.mlp(7), new Adam(1e-2), cpu)
          .fit(
              DATA,
              FitOptions.defaults().epochs(3).initialEpoch(2).callback(new CsvLogger(csv, true)));
    }
    List<String> lines = Files.readAllLines(csv);
    assertEquals(
        "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate",
        lines.get(0));
    assertEquals(4, lines.size(), lines.toString());
    assertTrue(lines.get(3).startsWith("3,"));
  }

  @Test
  void aCheckpointOfAnotherArchitectureIsRefused() throws IOException {
    Path cp = dir.resolve("c.safetensors");
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Sequential m = TrainerTest.mlp(1);
      Adam adam = new Adam(1e-3);
      trainer(m, adam, cpu);
      Checkpoint.save(cp, m, adam, 1, 1, Map.of());
      Sequential other = new Sequential(2).add(new dev.marrow.engine.nn.Dense(3)).build(1);
      Adam adam2 = new Adam(1e-3);
      trainer(other, adam2, cpu);
      var e = assertThrows(IOException.class, () -> Checkpoint.restore(cp, other, adam2));
      assertTrue(e.getMessage().contains("different architecture"), e.getMessage());
    }
    assertFalse(Files.exists(dir.resolve(".c.safetensors.tmp")));
  }
}
