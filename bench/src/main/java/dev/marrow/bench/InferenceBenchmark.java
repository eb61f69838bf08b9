package dev.marrow.bench;

import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.nn.Graph;
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
 * Inference throughput of a zoo model, one forward pass of a compiled inference plan at batch 1 (a
 * service answering single requests) and 256 (bulk scoring), as the PyTorch inference script
 * measures PyTorch: images/s = batch / time per pass.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class InferenceBenchmark {
  @Param({"cnn", "mlp"})
  public String model;

  @Param({"1", "256"})
  public int batch;

  private CpuBackend cpu;
  private Plan plan;

  @Setup(Level.Trial)
  public void setUp() {
    ModelSpec spec = ModelZoo.find(model).orElseThrow();
    Graph net = spec.build(1);
    cpu = (CpuBackend) Backends.open("cpu").backend();
    plan = Plan.forInference(net, cpu, batch, null);
    TrainStepBenchmark.fillLikeMnist(plan.input().array(), new SplittableRandom(4));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cpu.close();
  }

  @Benchmark
  public Tensor forward() {
    plan.forward(false);
    return plan.output();
  }
}
