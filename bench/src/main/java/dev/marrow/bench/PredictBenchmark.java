package dev.marrow.bench;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Predictor;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A service's view of inference: one {@link Predictor} shared by 1 or 8 request threads, each
 * predicting a batch of 1 or 32 inputs of its own (copy in, forward, copy out, as {@code
 * Model.predict} does). Throughput is predict calls per second over all threads; images/s is that
 * times the batch. The CPU backend has as many kernel threads as cores, so 8 request threads on a
 * 2-core machine measure how well the plan pool and the shared thread team hold up under
 * contention, not a speed-up.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PredictBenchmark {
  @Param({"mlp", "cnn"})
  public String model;

  @Param({"1", "32"})
  public int batch;

  private Backend backend;
  private Predictor predictor;

  /** Each request thread's own inputs. */
  @State(Scope.Thread)
  public static class Request {
    Tensor inputs;

    @Setup(Level.Trial)
    public void setUp(PredictBenchmark b) {
      Graph net = b.predictor.model();
      inputs = Tensor.zeros(net.inputShape().withBatch(b.batch));
      TrainStepBenchmark.fillLikeMnist(
          inputs.array(), new SplittableRandom(Thread.currentThread().threadId()));
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    ModelSpec spec = ModelZoo.find(model).orElseThrow();
    Graph net = spec.build(1);
    backend = Backends.open("cpu").backend();
    predictor = new Predictor(net, backend);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    backend.close();
  }

  @Benchmark
  @Threads(1)
  public Tensor oneThread(Request r) {
    return predictor.predict(r.inputs);
  }

  @Benchmark
  @Threads(8)
  public Tensor eightThreads(Request r) {
    return predictor.predict(r.inputs);
  }
}
