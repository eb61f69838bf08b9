package dev.marrow.bench;

import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.tensor.Tensor;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The operands of one convolution layer for the convolution benchmarks: a CPU backend, the layer's
 * geometry at a batch size ({@link ConvBenchmark#geometry}), random input, filters, bias and an
 * output that stands in for the upstream gradient too, and gradient buffers. Each benchmark
 * declares its own layer list and batch as JMH parameters.
 */
abstract class ConvOperands {
  CpuBackend cpu;
  ConvGeometry g;
  Tensor x;
  Tensor w;
  Tensor bias;
  Tensor y;
  Tensor dx;
  Tensor dw;

  /** The layer parameter ("name:c,h,w,f,k,pad"). */
  abstract String layer();

  abstract int batch();

  @Setup(Level.Trial)
  public void setUp() {
    g = ConvBenchmark.geometry(layer(), batch());
    SplittableRandom r = new SplittableRandom(1);
    x = ConvBenchmark.random(r, g.n() * g.inputPlaneSize());
    w = ConvBenchmark.random(r, g.f() * g.patchSize());
    bias = ConvBenchmark.random(r, g.f());
    y = ConvBenchmark.random(r, g.n() * g.outputImageSize());
    dx = Tensor.zeros(g.n() * g.inputPlaneSize());
    dw = Tensor.zeros(g.f() * g.patchSize());
    cpu = (CpuBackend) Backends.open("cpu").backend();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cpu.close();
  }
}
