package dev.marrow.bench;

import dev.marrow.bindings.Cblas;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Row-major sgemm, Marrow's CPU backend against OpenBLAS's {@code cblas_sgemm} (through the
 * jextract bindings, same thread count) in the same run, on square sizes and on the GEMMs of the
 * zoo's layers. Shapes are {@code name:m,n,k,TT} with T/N for op(A), op(B). OpenBLAS missing → that
 * benchmark is skipped with the locator's diagnostic.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBenchmark {

  @Param({
    "square:64,64,64,NN",
    "square:256,256,256,NN",
    "square:512,512,512,NN",
    "square:1024,1024,1024,NN",
    "square:2048,2048,2048,NN",
    "mlp.fwd:32,128,784,NN",
    "mlp.dW:784,128,32,TN",
    "mlp.fwd128:128,128,784,NN",
    "mlp.dW128:784,128,128,TN",
    "mlp.layer2:128,10,128,NN",
    "nielsen.fwd:10,30,784,NN",
    "cnn.conv2.fwd:32,64,400,NN",
    "cnn.conv2.dX:400,64,32,TN",
    "cnn.conv2.dW:400,32,64,NT",
    "vgg.conv2.fwd:32,784,288,NN",
    "vgg.conv6.fwd:128,49,1152,NN",
    "vgg.dense1:128,1024,2304,NN"
  })
  public String shape;

  @Param({"2"})
  public int threads;

  int m;
  int n;
  int k;
  boolean ta;
  boolean tb;
  private CpuBackend cpu;
  private Tensor a;
  private Tensor b;
  private Tensor c;
  private Arena arena;
  private Cblas blas;
  private MemorySegment na;
  private MemorySegment nb;
  private MemorySegment nc;

  @Setup(Level.Trial)
  public void setUp() {
    String[] v = shape.substring(shape.indexOf(':') + 1).split(",");
    m = Integer.parseInt(v[0]);
    n = Integer.parseInt(v[1]);
    k = Integer.parseInt(v[2]);
    ta = v[3].charAt(0) == 'T';
    tb = v[3].charAt(1) == 'T';
    SplittableRandom r = new SplittableRandom(1);
    a = ConvBenchmark.random(r, m * k);
    b = ConvBenchmark.random(r, k * n);
    c = Tensor.zeros(m * n);
    cpu = (CpuBackend) Backends.open("cpu", Backends.Options.defaults().threads(threads)).backend();
    arena = Arena.ofShared();
    blas = Cblas.load(why -> System.err.println("OpenBLAS reference skipped: " + why)).orElse(null);
    if (blas != null) {
      blas.setThreads(threads);
      na = arena.allocate(4L * a.size(), 64);
      nb = arena.allocate(4L * b.size(), 64);
      nc = arena.allocate(4L * c.size(), 64);
      MemorySegment.copy(a.array(), 0, na, ValueLayout.JAVA_FLOAT, 0, a.size());
      MemorySegment.copy(b.array(), 0, nb, ValueLayout.JAVA_FLOAT, 0, b.size());
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cpu.close();
    arena.close();
  }

  /** 2·m·n·k, for GFLOP/s. */
  public static double flops(String shape) {
    String[] v = shape.substring(shape.indexOf(':') + 1).split(",");
    return 2.0 * Long.parseLong(v[0]) * Long.parseLong(v[1]) * Long.parseLong(v[2]);
  }

  @Benchmark
  public Tensor marrow() {
    cpu.gemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, 0f, c, 0, n);
    return c;
  }

  @Benchmark
  public void openblas(Blackhole bh) {
    bh.consume(openblasProduct());
  }

  /** OpenBLAS's product into its own C, for callers outside JMH. */
  MemorySegment openblasProduct() {
    if (blas == null) {
      throw new IllegalStateException("OpenBLAS not found (see the message above)");
    }
    blas.sgemm(ta, tb, m, n, k, 1f, na, ta ? m : k, nb, tb ? k : n, 0f, nc, n);
    return nc;
  }

  /** Whether OpenBLAS was found. */
  boolean hasOpenblas() {
    return blas != null;
  }
}
