package dev.marrow.bench;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BackendProfiler;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
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
 * One whole training step (forward, loss, backward, Adam) of a zoo model on a loaded batch, and one
 * inference forward pass. Run with {@code -prof gc} to see the allocation per step.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainStepBenchmark {
  @Param({"mlp", "cnn"})
  public String model;

  @Param({"32", "128"})
  public int batch;

  private CpuBackend cpu;
  private BackendProfiler profiler;
  private Plan train;
  private Plan infer;
  private Adam adam;

  @Setup(Level.Trial)
  public void setUp() {
    setUp(null);
  }

  /**
   * The same set-up with every backend call timed by {@code profiler}, made from the CPU backend
   * ({@code BackendProfiler::of} or {@code ::byShape}); null: untimed.
   */
  void setUp(java.util.function.Function<Backend, BackendProfiler> profiling) {
    cpu = (CpuBackend) Backends.open("cpu").backend();
    profiler = profiling == null ? null : profiling.apply(cpu);
    Backend backend = profiler == null ? cpu : profiler.backend();
    Step step = prepare(model, backend, batch);
    adam = step.adam();
    train = step.plan();
    infer = Plan.forInference(step.net(), backend, batch, null);
    infer.input().copyFrom(step.input());
  }

  /** A zoo model's training plan on one loaded MNIST-like batch, with Adam attached. */
  record Step(Graph net, Tensor input, Plan plan, Adam adam) {
    float run() {
      return plan.trainStep(adam);
    }
  }

  /**
   * A fresh {@code model} from the zoo (seed 1) with Adam 1e-3 on {@code backend}, its training
   * plan for {@code batch} with one MNIST-like batch and random labels loaded (seed 2): the set-up
   * of this benchmark, {@code StepTimes} and the GPU check's step timings.
   */
  static Step prepare(String model, Backend backend, int batch) {
    ModelSpec spec = ModelZoo.find(model).orElseThrow();
    Graph net = spec.build(1);
    Adam adam = new Adam(1e-3);
    adam.attach(backend, net.parameters());
    SplittableRandom r = new SplittableRandom(2);
    Tensor x = Tensor.zeros(net.inputShape().withBatch(batch));
    fillLikeMnist(x.array(), r);
    int[] y = new int[batch];
    for (int i = 0; i < batch; i++) {
      y[i] = r.nextInt(10);
    }
    Plan plan = Plan.forTraining(net, backend, batch, spec.loss().get());
    plan.loadBatch(new Dataset(x, y, 10), null, 0);
    return new Step(net, x, plan, adam);
  }

  /** Random pixels with MNIST's sparsity: four in five are 0, the rest uniform in [0, 1). */
  static void fillLikeMnist(float[] x, SplittableRandom r) {
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble() < 0.2 ? (float) r.nextDouble() : 0f;
    }
  }

  /** The profiler of the last {@link #setUp(java.util.function.Function)}, or null. */
  BackendProfiler profiler() {
    return profiler;
  }

  /** The backend's thread count, for reports. */
  int threads() {
    return cpu.threads();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cpu.close();
  }

  @Benchmark
  public float trainStep() {
    return train.trainStep(adam);
  }

  @Benchmark
  public Tensor inference() {
    infer.forward(false);
    return infer.output();
  }
}
