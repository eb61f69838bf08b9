package dev.marrow.bench;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The non-GEMM kernels of a training step, on the shapes the zoo's models give them, each against
 * the scalar double-precision reference backend in the same run:
 *
 * <ul>
 *   <li>{@code maxpool}: 2×2 max pooling forward + backward on cnn's first pooling (128×16×24×24);
 *   <li>{@code batchnorm}: training-mode forward + backward on vgg's first block (128×32×28×28);
 *   <li>{@code softmax-xent}: fused softmax + cross-entropy and its gradient, 128 × 10 logits;
 *   <li>{@code adam}: one Adam update of the mlp's 101,770 parameters.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBenchmark {
  @Param({"maxpool", "batchnorm", "softmax-xent", "adam"})
  public String kernel;

  private CpuBackend cpu;
  private ReferenceBackend reference;
  private ConvGeometry pool;
  private Tensor a;
  private Tensor b;
  private Tensor c;
  private Tensor d;
  private Tensor e;
  private Tensor[] channels; // γ, β, running mean and variance, saved statistics, dγ, dβ
  private BatchNormArgs batchNorm;

  @Setup(Level.Trial)
  public void setUp() {
    cpu = (CpuBackend) Backends.open("cpu").backend();
    reference = new ReferenceBackend();
    SplittableRandom r = new SplittableRandom(3);
    switch (kernel) {
      case "maxpool" -> {
        pool = new ConvGeometry(128, 16, 24, 24, 16, 2, 2, 2, 2, 0, 0, 1, 1, 12, 12);
        a = ConvBenchmark.random(r, 128 * 16 * 24 * 24);
        b = Tensor.zeros(128 * 16 * 12 * 12);
        c = ConvBenchmark.random(r, 128 * 16 * 12 * 12);
        d = Tensor.zeros(a.size());
      }
      case "batchnorm" -> {
        a = ConvBenchmark.random(r, 128 * 32 * 28 * 28);
        b = Tensor.zeros(a.size());
        c = ConvBenchmark.random(r, a.size());
        d = Tensor.zeros(a.size());
        channels = new Tensor[8];
        for (int i = 0; i < channels.length; i++) {
          channels[i] = ConvBenchmark.random(r, 32);
        }
        Tensor[] t = channels;
        batchNorm =
            new BatchNormArgs(128, 32, 28 * 28, t[0], t[1], t[2], t[3], 0.1f, 1e-3f, t[4], t[5]);
      }
      case "softmax-xent" -> {
        a = ConvBenchmark.random(r, 128 * 10);
        b = Tensor.zeros(128);
        for (int i = 0; i < 128; i++) {
          b.set(i, r.nextInt(10));
        }
        c = Tensor.zeros(128 * 10);
      }
      case "adam" -> {
        a = ConvBenchmark.random(r, 101_770);
        b = ConvBenchmark.random(r, 101_770);
        c = Tensor.zeros(101_770);
        d = Tensor.zeros(101_770);
      }
      default -> throw new IllegalArgumentException(kernel);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cpu.close();
  }

  @Benchmark
  public Object marrow() {
    return run(cpu);
  }

  @Benchmark
  public Object reference() {
    return run(reference);
  }

  private Object run(Backend k) {
    switch (kernel) {
      case "maxpool" -> {
        k.poolForward(PoolMode.MAX, pool, a, b);
        k.poolBackward(PoolMode.MAX, pool, a, b, c, d);
        return d;
      }
      case "batchnorm" -> {
        k.batchNormForwardTraining(batchNorm, a, b);
        k.batchNormBackward(batchNorm, a, c, d, channels[6], channels[7]);
        return d;
      }
      case "softmax-xent" -> {
        return k.softmaxCrossEntropy(a, b, c, 128, 10, 1f / 128);
      }
      default -> {
        k.adamUpdate(a, b, c, d, 1e-3f, 0.9f, 0.999f, 1e-7f, 10, 0f, false);
        return a;
      }
    }
  }
}
