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
 * The 3 × 3 stride-1 convolutions of the zoo's vgg and resnet, batch 128: Winograd F(2×2, 3×3)
 * against im2col + GEMM in the same run, forward, backward data and filter gradient. The backend's
 * routing rule ({@code WinogradConv.pays}) comes from these figures.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class WinogradBenchmark extends ConvOperands {

  /** name: c, h, w, f, k, pad (symmetric), stride 1 (ConvBenchmark's format). */
  @Param({
    "vgg.conv1:1,28,28,32,3,1",
    "vgg.conv2:32,28,28,32,3,1",
    "vgg.conv3:32,14,14,64,3,1",
    "vgg.conv4:64,14,14,64,3,1",
    "vgg.conv5:64,7,7,128,3,1",
    "vgg.conv6:128,7,7,128,3,1",
    "vgg.conv7:128,3,3,256,3,1",
    "vgg.conv8:256,3,3,256,3,1"
  })
  public String layer;

  @Param({"128"})
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
  public Tensor forwardIm2col() {
    cpu.conv2dForwardIm2col(g, x, w, null, y);
    return y;
  }

  @Benchmark
  public Tensor forwardWinograd() {
    cpu.conv2dForwardWinograd(g, x, w, null, y);
    return y;
  }

  @Benchmark
  public Tensor backwardDataIm2col() {
    cpu.conv2dBackwardDataIm2col(g, w, y, dx); // y stands in for the upstream gradient
    return dx;
  }

  @Benchmark
  public Tensor backwardDataWinograd() {
    cpu.conv2dBackwardDataWinograd(g, w, y, dx);
    return dx;
  }

  @Benchmark
  public Tensor backwardFilterIm2col() {
    cpu.conv2dBackwardFilterIm2col(g, x, y, dw, 0f);
    return dw;
  }

  @Benchmark
  public Tensor backwardFilterWinograd() {
    cpu.conv2dBackwardFilterWinograd(g, x, y, dw, 0f);
    return dw;
  }
}
