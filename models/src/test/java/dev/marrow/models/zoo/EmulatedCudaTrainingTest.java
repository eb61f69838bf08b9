package dev.marrow.models.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.TrainingContext;
import dev.marrow.models.mnist.Mnist;
import dev.marrow.models.mnist.MnistFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The zoo's cnn on real MNIST, trained on the CPU backend and on the CUDA backend over the host
 * emulation (NVIDIA's entry points implemented on the host), from the same seed: the loss curves
 * (Keras' running mean, batch by batch) agree within float tolerance. CI trains 30 batches; {@code
 * -Dmarrow.test.cuda.images=60000} runs the whole epoch; {@code -Dmarrow.cuda=required} runs it on
 * a real GPU.
 */
class EmulatedCudaTrainingTest {

  @Test
  void cnnOnCudaFollowsTheCpuLossCurve() throws Exception {
    String mode = System.getProperty("marrow.cuda", "emulated");
    assumeTrue(!mode.equals("off"), "-Dmarrow.cuda=off");
    boolean real = mode.equals("required"); // a real GPU instead of the emulation
    String folder = System.getProperty("marrow.test.cuda.emulation");
    assumeTrue(
        real || folder != null && Files.isDirectory(Path.of(folder)),
        "the engine's test phase builds the CUDA host emulation");
    int images = Integer.getInteger("marrow.test.cuda.images", 30 * 128);
    Path dir =
        new MnistFiles(
                MnistFiles.dataDirFromEnvironment(),
                MnistFiles.defaultCacheDir(),
                System.err::println)
            .locate();
    Dataset train = Mnist.load(dir).train().slice(0, images);

    List<Double> cpu;
    try (CpuBackend b = (CpuBackend) Backends.open("cpu").backend()) {
      cpu = curve(b, train);
    }
    List<Double> cuda;
    if (!real) {
      System.setProperty(CudaLibraries.EMULATION_PROPERTY, folder);
    }
    long start = System.nanoTime();
    try (Backend b = Backends.open("cuda:0").backend()) {
      cuda = curve(b, train);
    } finally {
      System.clearProperty(CudaLibraries.EMULATION_PROPERTY);
    }
    double seconds = (System.nanoTime() - start) / 1e9;

    assertEquals(cpu.size(), cuda.size());
    double worst = 0;
    for (int i = 0; i < cpu.size(); i++) {
      double rel = Math.abs(cpu.get(i) - cuda.get(i)) / cpu.get(i);
      worst = Math.max(worst, rel);
      assertEquals(cpu.get(i), cuda.get(i), 1e-3 * cpu.get(i), "running loss after batch " + i);
    }
    assertTrue(cuda.getLast() < 0.75 * cuda.getFirst(), "the running loss fell on CUDA: " + cuda);
    System.out.printf(
        Locale.ROOT,
        "cnn, %d batches of 128: loss %.4f → %.4f (cpu) vs %.4f → %.4f"
            + " (%s cuda, %.1f s); largest relative difference %.2e%n",
        cpu.size(),
        cpu.getFirst(),
        cpu.getLast(),
        cuda.getFirst(),
        cuda.getLast(),
        real ? "real" : "emulated",
        seconds,
        worst);
  }

  /** The running mean loss after every batch of one epoch, from the zoo's seed. */
  private static List<Double> curve(Backend backend, Dataset train) {
    ModelSpec cnn = ModelZoo.find("cnn").orElseThrow();
    Trainer t =
        new Trainer(cnn.build(cnn.seed()), new Adam(cnn.learningRate()), cnn.loss().get(), backend);
    List<Double> losses = new ArrayList<>();
    t.fit(
        train,
        FitOptions.defaults()
            .epochs(1)
            .batchSize(cnn.batchSize())
            .seed(cnn.seed())
            .callback(
                new Callback() {
                  @Override
                  public void onBatchEnd(TrainingContext c, int batch, BatchLogs logs) {
                    losses.add(logs.loss());
                  }
                }));
    return losses;
  }
}
