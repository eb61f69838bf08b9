package dev.marrow.bench;

import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.tensor.Tensor;
import java.util.SplittableRandom;
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
 * Convolution on the layer shapes of the zoo's CNNs, batch 128: forward as im2col + GEMM against
 * direct convolution, in the same run (the backend uses im2col + GEMM everywhere because of these
 * numbers), and the backward-data and backward-filter products the training step runs. Each pass is
 * 2·n·f·c·kh·kw·outH·outW flops, for GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvBenchmark extends ConvOperands {

  /** name: c, h, w, f, k, pad (symmetric), stride 1. */
  @Param({
    "cnn.conv1:1,28,28,16,5,0",
    "cnn.conv2:16,12,12,32,5,0",
    "lenet5.conv1:1,28,28,6,5,2",
    "lenet5.conv2:6,14,14,16,5,0",
    "simple-cnn.conv1:1,28,28,8,16,0",
    "vgg.conv1:1,28,28,32,3,1",
    "vgg.conv2:32,28,28,32,3,1",
    "vgg.conv3:32,14,14,64,3,1",
    "vgg.conv4:64,14,14,64,3,1",
    "vgg.conv6:128,7,7,128,3,1",
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

  /**
   * The geometry of a layer parameter ("name:c,h,w,f,k,pad[,stride]") at a batch size. The values
   * may also be separated by 'x' ("vgg.conv6:128x7x7x128x3x1"), which JMH's {@code -p layer=…} does
   * not split as it splits commas.
   */
  static ConvGeometry geometry(String layer, int batch) {
    String[] v = layer.substring(layer.indexOf(':') + 1).split("[,x]");
    int c = Integer.parseInt(v[0]), h = Integer.parseInt(v[1]), wd = Integer.parseInt(v[2]);
    int f = Integer.parseInt(v[3]), k = Integer.parseInt(v[4]), pad = Integer.parseInt(v[5]);
    int s = v.length > 6 ? Integer.parseInt(v[6]) : 1;
    int out = ConvGeometry.outputSize(h, k, s, pad, pad, 1);
    int outW = ConvGeometry.outputSize(wd, k, s, pad, pad, 1);
    return new ConvGeometry(batch, c, h, wd, f, k, k, s, s, pad, pad, 1, 1, out, outW);
  }

  static Tensor random(SplittableRandom r, int n) {
    Tensor t = Tensor.zeros(n);
    for (int i = 0; i < n; i++) {
      t.set(i, (float) (r.nextDouble() * 2 - 1));
    }
    return t;
  }

  @Benchmark
  public Tensor im2colGemm() {
    cpu.conv2dForwardIm2col(g, x, w, bias, y);
    return y;
  }

  @Benchmark
  public Tensor direct() {
    cpu.conv2dForwardDirect(g, x, w, bias, y);
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

  /** Multiply-adds ×2 of one forward pass, for GFLOP/s. */
  public static double flops(ConvGeometry g) {
    return 2.0 * g.n() * g.f() * g.patchSize() * g.outputPixels();
  }
}
