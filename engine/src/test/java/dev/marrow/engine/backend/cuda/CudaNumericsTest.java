package dev.marrow.engine.backend.cuda;

import static dev.marrow.engine.Assertions2.assertClose;
import static dev.marrow.engine.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.Layers;
import dev.marrow.Losses;
import dev.marrow.Model;
import dev.marrow.Optimizers;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * What real hardware does differently from a plain FP32 host loop, and what the backend must ask
 * for to get the CPU's results anyway (DESIGN.md §4a). The host emulation models each: TF32 operand
 * rounding on its sm_80 device wherever the math type allows tensor ops, non-deterministic backward
 * algorithms listed first, cuDNN's NaN options, and cuDNN's rule that batch norm's backward takes
 * the forward's epsilon.
 */
class CudaNumericsTest {
  // 2 images, 3 channels of 9×9, 4 filters of 3×3, padding 1.
  private static final ConvGeometry CONV = same3x3(2, 3, 9, 4);

  private static ConvGeometry same3x3(int n, int c, int size, int f) {
    return new ConvGeometry(n, c, size, size, f, 3, 3, 1, 1, 1, 1, 1, 1, size, size);
  }

  /** A CUDA backend opened with {@code property=true} set while it opens, or the test skips. */
  private static Backend cudaWith(String property) {
    String before = System.setProperty(property, "true");
    try {
      Optional<Backend> b = TestBackends.cuda();
      assumeTrue(b.isPresent(), "no CUDA backend in this run");
      return b.get();
    } finally {
      if (before == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, before);
      }
    }
  }

  private static Backend cuda() {
    Optional<Backend> b = TestBackends.cuda();
    assumeTrue(b.isPresent(), "no CUDA backend in this run");
    return b.get();
  }

  /** conv(x, w) on {@code b}, x and w with all 23 mantissa bits in use. */
  private static float[] convolve(Backend b, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor x = random(r, CONV.n(), CONV.c(), CONV.h(), CONV.w());
    Tensor w = random(r, CONV.f(), CONV.c(), CONV.kh(), CONV.kw());
    Tensor y = b.allocate(dev.marrow.engine.tensor.Shape.of(CONV.n() * CONV.outputImageSize()));
    b.conv2dForward(CONV, x, w, null, y);
    return y.readArray();
  }

  /** op(A)·op(B) of 64×48 by 48×32 on {@code b}. */
  private static float[] multiply(Backend b, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor a = random(r, 64, 48), bm = random(r, 48, 32);
    Tensor c = b.allocate(dev.marrow.engine.tensor.Shape.of(64 * 32));
    b.gemm(false, false, 64, 32, 48, 1f, a, 0, 48, bm, 0, 32, 0f, c, 0, 32);
    return c.readArray();
  }

  /** Defect 1: CUDNN_DEFAULT_MATH lets an sm_80+ device run FP32 convolutions in TF32. */
  @Test
  void fp32ConvolutionAndGemmStayFp32OnATensorCoreDevice() {
    try (Backend gpu = cuda();
        CpuBackend cpu = TestBackends.cpu(1)) {
      // TF32 keeps 10 mantissa bits: ~1e-3 relative per product; FP32 agrees to ~1e-6.
      assertClose(convolve(cpu, 1), convolve(gpu, 1), 1e-5, 1e-5, "FP32 convolution");
      assertClose(multiply(cpu, 2), multiply(gpu, 2), 1e-5, 1e-5, "FP32 GEMM");
      assertEquals(
          cudnnFmaMath(), convolutionMathType(), "math type of the last convolution (FMA is 3)");
    }
  }

  /** Defect 1: the TF32 opt-in is TENSOR_OP_MATH, never ALLOW_CONVERSION (FP16 down-conversion). */
  @Test
  void tf32IsOptInAndAsksForTensorOpMathOnly() {
    try (Backend gpu = cudaWith("marrow.cuda.tf32");
        CpuBackend cpu = TestBackends.cpu(1)) {
      float[] tf32 = convolve(gpu, 3), fp32 = convolve(cpu, 3);
      assertEquals(1, convolutionMathType(), "CUDNN_TENSOR_OP_MATH (ALLOW_CONVERSION is 2)");
      assertClose(fp32, tf32, 1e-2, 1e-2, "TF32 convolution, within TF32's precision");
      assertTrue(maxRelativeDifference(fp32, tf32) > 1e-5, "the opt-in does run in TF32");
      assertTrue(maxRelativeDifference(multiply(cpu, 4), multiply(gpu, 4)) > 1e-5, "TF32 GEMM");
    }
  }

  /** Defect 5: relu and max pooling propagate NaN, as the CPU backend does. */
  @Test
  void reluAndMaxPoolingPropagateNaNAsOnTheCpu() {
    try (Backend gpu = cuda();
        CpuBackend cpu = TestBackends.cpu(1)) {
      float[] values = {Float.NaN, 2, -1, 0.5f};
      for (Backend b : new Backend[] {cpu, gpu}) {
        Tensor x = Tensor.of(values.clone(), 4);
        Tensor y = b.allocate(dev.marrow.engine.tensor.Shape.of(4));
        b.activationForward(Activation.RELU, x, y);
        assertArrayEquals(new float[] {Float.NaN, 2, 0, 0.5f}, y.readArray(), b.name() + " relu");
        // One 2×2 window over the four values.
        ConvGeometry g = new ConvGeometry(1, 1, 2, 2, 1, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1);
        Tensor pooled = b.allocate(dev.marrow.engine.tensor.Shape.of(1));
        b.poolForward(PoolMode.MAX, g, Tensor.of(values.clone(), 1, 1, 2, 2), pooled);
        assertTrue(Float.isNaN(pooled.readArray()[0]), b.name() + " max pool: " + pooled);
      }
    }
  }

  /**
   * Defect 5: batch norm's backward takes the layer's epsilon, as its forward does (cuDNN: "the
   * same epsilon value should be used in forward and backward"; the emulation refuses another).
   */
  @Test
  void batchNormBackwardUsesTheLayersEpsilon() {
    Dataset data = CudaBackendTest.quadrants(32, 5);
    Supplier<Model> model =
        () ->
            Model.sequential(1, 8, 8)
                .add(Layers.conv2d(3, 3, "linear"))
                .add(new BatchNormalization(0.9, 0.01))
                .add(Layers.flatten())
                .add(Layers.dense(4))
                .seed(11);
    try (Backend gpu = cuda();
        CpuBackend cpu = TestBackends.cpu(1);
        Model onCpu =
            model
                .get()
                .compile(Optimizers.sgd(0.1), Losses.sparseCategoricalCrossentropy(true), cpu);
        Model onGpu =
            model
                .get()
                .compile(Optimizers.sgd(0.1), Losses.sparseCategoricalCrossentropy(true), gpu)) {
      for (int step = 0; step < 3; step++) {
        float cpuLoss = onCpu.backward(data.features(), data.labels());
        onCpu.step();
        float gpuLoss = onGpu.backward(data.features(), data.labels());
        onGpu.step();
        assertEquals(cpuLoss, gpuLoss, 1e-4 * Math.max(1, cpuLoss), "loss at step " + step);
      }
    }
  }

  /**
   * Defect 5: in deterministic mode only algorithms cuDNN reports deterministic run, so the same
   * backward pass gives the same bits twice. (The emulation lists a faster, non-deterministic
   * algorithm first for backward data and filter, as cuDNN does, whose accumulation order changes
   * from call to call.)
   */
  @Test
  void deterministicModeRepeatsBackwardConvolutionsBitForBit() {
    try (Backend gpu = cudaWith("marrow.deterministic")) {
      ConvGeometry g = same3x3(6, 3, 9, 4);
      SplittableRandom r = new SplittableRandom(5);
      Tensor x = random(r, g.n(), g.c(), g.h(), g.w());
      Tensor w = random(r, g.f(), g.c(), g.kh(), g.kw());
      Tensor dy = random(r, g.n(), g.f(), g.outH(), g.outW());
      float[][] dw = new float[2][], dx = new float[2][];
      for (int run = 0; run < 2; run++) {
        Tensor dwRun = gpu.allocate(dev.marrow.engine.tensor.Shape.of(w.size()));
        Tensor dxRun = gpu.allocate(dev.marrow.engine.tensor.Shape.of(x.size()));
        gpu.conv2dBackwardFilter(g, x, dy, dwRun, 0f);
        gpu.conv2dBackwardData(g, w, dy, dxRun);
        dw[run] = dwRun.readArray();
        dx[run] = dxRun.readArray();
      }
      assertArrayEquals(dw[0], dw[1], "filter gradient, run 1 vs run 2");
      assertArrayEquals(dx[0], dx[1], "input gradient, run 1 vs run 2");
    }
  }

  private static double maxRelativeDifference(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(a[i])));
    }
    return max;
  }

  private static int cudnnFmaMath() {
    return 3; // cudnnMathType_t CUDNN_FMA_MATH
  }

  /** The emulation's record of the last convolution's math type. */
  private static int convolutionMathType() {
    Optional<MemorySegment> f =
        SymbolLookup.loaderLookup().find("marrow_emulation_convolution_math_type");
    assumeTrue(f.isPresent(), "only the host emulation reports the math type");
    try {
      return (int)
          Linker.nativeLinker()
              .downcallHandle(f.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT))
              .invokeExact();
    } catch (Throwable e) {
      throw new AssertionError(e);
    }
  }
}
