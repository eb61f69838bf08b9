package dev.marrow.bench;

import dev.marrow.engine.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The zoo resnet's downsampling convolutions at its batch of 64: the 3 × 3 stride-2 layers and the
 * 1 × 1 stride-2 projection shortcuts, forward, backward data and filter gradient as a training
 * step runs them (the padded grid's stride phases, {@code PaddedGrid}). {@code
 * bench/pytorch/conv_layers.py} times the same layers in PyTorch, for a side-by-side reading.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class StridedConvBenchmark extends ConvOperands {

  /** name: c, h, w, f, k, pad (symmetric), stride (ConvBenchmark's format). */
  @Param({
    "resnet.stage2:32,28,28,64,3,1,2",
    "resnet.stage3:64,14,14,128,3,1,2",
    "resnet.shortcut2:32,28,28,64,1,0,2",
    "resnet.shortcut3:64,14,14,128,1,0,2"
  })
  public String layer;

  @Param({"64"})
  public int batch;

  @Override
  String layer() {
    return layer;
  }

  @Override
  int batch() {
    return batch;
  }

  @Benchmark
  public Tensor forward() {
    cpu.conv2dForward(g, x, w, null, y);
    return y;
  }

  @Benchmark
  public Tensor backwardData() {
    cpu.conv2dBackwardData(g, w, y, dx); // y stands in for the upstream gradient
    return dx;
  }

  @Benchmark
  public Tensor backwardFilter() {
    cpu.conv2dBackwardFilter(g, x, y, dw, 0f);
    return dw;
  }
}
