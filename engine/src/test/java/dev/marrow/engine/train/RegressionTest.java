package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.Losses;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.callbacks.EarlyStopping;
import dev.marrow.engine.train.callbacks.Monitor;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Regression and multi-label targets through fit, evaluate and the callbacks: a network learns a
 * generated table down to its noise, and any logged metric can be monitored.
 */
class RegressionTest {
  private static final Backend CPU = TestBackends.cpu(2);
  static final double NOISE = 0.1;

  @AfterAll
  static void close() {
    CPU.close();
  }

  /**
   * y = sin(2·x0) + x1·x2 − 0.5·x3 + N(0, 0.1²), from 6 standard-normal features (x4, x5 are
   * noise): the best possible RMSE on fresh samples is the noise's 0.1, while predicting the mean
   * leaves the target's standard deviation (≈ 1.3).
   */
  static Dataset table(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * 6], y = new float[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 6; j++) {
        x[i * 6 + j] = (float) r.nextGaussian();
      }
      double[] f = {x[i * 6], x[i * 6 + 1], x[i * 6 + 2], x[i * 6 + 3]};
      y[i] = (float) (Math.sin(2 * f[0]) + f[1] * f[2] - 0.5 * f[3] + NOISE * r.nextGaussian());
    }
    return Dataset.withValues(Tensor.of(x, n, 6), Tensor.of(y, n, 1));
  }

  @Test
  void learnsAGeneratedTableDownToItsNoise() {
    Sequential m = new Sequential(6);
    m.add(new Dense(64, "relu")).add(new Dense(64, "relu")).add(new Dense(1));
    m.build(1);
    Trainer t =
        new Trainer(m, new Adam(3e-3), Losses.meanSquaredError(), CPU, List.of("mae", "rmse"));
    History h =
        t.fit(
            table(4000, 1),
            FitOptions.defaults()
                .epochs(40)
                .batchSize(64)
                .validationSplit(0.1)
                .verbose(ProgressLogger.Verbosity.SILENT));
    assertEquals(
        List.of("loss", "mae", "rmse", "val_loss", "val_mae", "val_rmse"),
        List.copyOf(h.last().logs().keySet()));
    Evaluation test = t.evaluate(table(2000, 2));
    double rmse = test.get("rmse");
    assertEquals(Math.sqrt(test.loss()), rmse, 1e-4, "rmse is the root of the MSE loss");
    // Within 2.5× the noise floor (0.1) and far below predicting the mean (≈ 1.3).
    assertTrue(rmse < 2.5 * NOISE, "test RMSE " + rmse);
    assertTrue(Double.isNaN(test.accuracy()), "no accuracy for a regression model");
  }

  @Test
  void earlyStoppingMonitorsAnyLoggedMetric() {
    Sequential m = new Sequential(6);
    m.add(new Dense(8, "relu")).add(new Dense(1));
    m.build(1);
    Trainer t = new Trainer(m, new Adam(1e-2), Losses.huber(), CPU, List.of("mae"));
    EarlyStopping stop =
        new EarlyStopping(new Monitor.Quantity("val_mae", Monitor.Mode.AUTO, 0.5), 1, false);
    History h =
        t.fit(
            table(500, 3),
            FitOptions.defaults()
                .epochs(30)
                .validationSplit(0.2)
                .callback(stop)
                .verbose(ProgressLogger.Verbosity.SILENT));
    assertTrue(h.epochs().size() < 30, "a min_delta of 0.5 in val_mae stops early");
    assertEquals(Monitor.Mode.MIN, stop.quantity().mode(), "an error is minimised");
    EarlyStopping missing = new EarlyStopping(Monitor.of("auc"), 1, false);
    var e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () ->
                t.fit(
                    table(100, 4),
                    FitOptions.defaults()
                        .callback(missing)
                        .verbose(ProgressLogger.Verbosity.SILENT)));
    assertTrue(e.getMessage().contains("cannot monitor auc"), e.getMessage());
  }

  @Test
  void multiLabelTargetsTrainWithBinaryCrossentropy() {
    SplittableRandom r = new SplittableRandom(5);
    int n = 1500;
    float[] x = new float[n * 4], y = new float[n * 3];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 4; j++) {
        x[i * 4 + j] = (float) r.nextGaussian();
      }
      y[i * 3] = x[i * 4] > 0 ? 1 : 0; // three independent labels per sample
      y[i * 3 + 1] = x[i * 4 + 1] + x[i * 4 + 2] > 0 ? 1 : 0;
      y[i * 3 + 2] = x[i * 4 + 3] * x[i * 4] > 0 ? 1 : 0;
    }
    Dataset data = Dataset.withValues(Tensor.of(x, n, 4), Tensor.of(y, n, 3));
    Sequential m = new Sequential(4);
    m.add(new Dense(32, "relu")).add(new Dense(3));
    m.build(2);
    Trainer t =
        new Trainer(
            m, new Adam(1e-2), Losses.binaryCrossentropy(true), CPU, List.of("accuracy", "auc"));
    History h =
        t.fit(
            data,
            FitOptions.defaults()
                .epochs(30)
                .batchSize(50)
                .verbose(ProgressLogger.Verbosity.SILENT));
    assertEquals(List.of("binary_accuracy", "auc"), h.last().metricNames());
    assertTrue(h.last().get("binary_accuracy") > 0.9, h.last().logs().toString());
    assertTrue(h.last().get("auc") > 0.97, h.last().logs().toString());
  }
}
