package dev.marrow.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.Layers;
import dev.marrow.Losses;
import dev.marrow.Model;
import dev.marrow.Optimizers;
import dev.marrow.bindings.CudaException;
import dev.marrow.bindings.CudaLibraries;
import dev.marrow.bindings.CudaStatus;
import dev.marrow.bindings.NativeLibrary;
import dev.marrow.bindings.cublas.cublas_h;
import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend end to end: a small CNN (conv, batch norm, pooling, dropout, dense, Adam)
 * trained step by step on the CUDA backend follows the CPU backend's loss curve; the device memory
 * it used is all returned (measured with cudaMemGetInfo, as on a GPU); library errors carry their
 * names. Runs on the host emulation in CI and on a GPU with {@code -Dmarrow.cuda=required}.
 *
 * <p>Where the emulation's semantics could diverge from NVIDIA's, it follows these documents, and a
 * real GPU run of this suite is what would show a difference:
 *
 * <ul>
 *   <li>cuBLAS Library guide, "cublas&lt;t&gt;gemm": column-major, op(A) m×k, lda ≥ max(1, rows of
 *       A as stored); beta = 0 means C is not read (NaN in C does not propagate).
 *   <li>cuDNN API reference, cudnnActivationBackward: dx = dy·f'(x). The backend passes y for x;
 *       for relu (x &gt; 0 ⇔ y &gt; 0), sigmoid (y(1 − y)) and tanh (1 − y²) the result is the
 *       same.
 *   <li>cuDNN API reference, cudnnPoolingMode_t: AVERAGE_COUNT_INCLUDE_PADDING divides by the whole
 *       window, EXCLUDE_PADDING by the positions inside the input; which of several equal maxima
 *       MAX_DETERMINISTIC picks is not documented (the emulation takes the last in row order, the
 *       CPU the first, so no suite expects the CPU's choice on CUDA).
 *   <li>cuDNN API reference, cudnnBatchNormalizationForwardTraining: saved mean and inverse
 *       standard deviation of the batch; running averages with exponentialAverageFactor, the
 *       variance's unbiased (PyTorch's documentation of BatchNorm2d, whose CUDA path is cuDNN).
 *   <li>cuDNN 9 cudnn_ops.h: CUDNN_BN_MIN_EPSILON is 0; cudnnBatchNormalizationBackward: "the same
 *       epsilon value should be used in forward and backward functions" (the emulation refuses
 *       another).
 * </ul>
 */
class CudaBackendTest {
  @TempDir Path dir;

  /** A CUDA backend of the test's own (closed by it), or the test is skipped. */
  private static Backend cuda() {
    Optional<Backend> b = TestBackends.cuda();
    assumeTrue(b.isPresent(), "no CUDA backend in this run (-Dmarrow.cuda=off)");
    return b.get();
  }

  /** 8×8 single-channel images whose class is the brightest quadrant. */
  static Dataset quadrants(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * 64];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(4);
      for (int p = 0; p < 64; p++) {
        int quadrant = (p / 8 / 4) * 2 + (p % 8) / 4;
        x[i * 64 + p] = (float) (r.nextDouble() * 0.5 + (quadrant == labels[i] ? 0.5 : 0));
      }
    }
    return new Dataset(Tensor.wrap(x, Shape.of(n, 1, 8, 8)), labels, 4);
  }

  private static Model cnn() {
    return Model.sequential(1, 8, 8)
        .add(Layers.conv2d(6, 3, "relu"))
        .add(Layers.batchNorm())
        .add(Layers.maxPool(2))
        .add(Layers.dropout(0.25))
        .add(Layers.flatten())
        .add(Layers.dense(4))
        .seed(7);
  }

  @Test
  void trainingOnCudaFollowsTheCpuLossCurveAndReturnsAllDeviceMemory() throws Exception {
    cuda().close(); // loads the libraries, so that device memory can be measured
    long memoryBefore = CudaBackend.deviceMemoryInUse(0);
    Dataset data = quadrants(256, 3);
    float[] cpuLosses = new float[24], gpuLosses = new float[24];
    Tensor cpuPredictions, gpuPredictions;
    try (Backend gpu = cuda();
        CpuBackend cpu = TestBackends.cpu(2);
        Model onCpu =
            cnn().compile(Optimizers.adam(1e-2), Losses.sparseCategoricalCrossentropy(true), cpu);
        Model onGpu =
            cnn().compile(Optimizers.adam(1e-2), Losses.sparseCategoricalCrossentropy(true), gpu)) {
      for (int step = 0; step < 24; step++) {
        Dataset batch = data.slice(step % 8 * 32, step % 8 * 32 + 32);
        cpuLosses[step] = onCpu.backward(batch.features(), batch.labels());
        onCpu.step();
        gpuLosses[step] = onGpu.backward(batch.features(), batch.labels());
        onGpu.step();
      }
      cpuPredictions = onCpu.predict(data.features());
      gpuPredictions = onGpu.predict(data.features());
      onGpu.save(dir.resolve("gpu"));
      assertTrue(onGpu.evaluate(data).accuracy() > 0.8, "the CUDA-trained model learned");
      assertTrue(((CudaBackend) gpu).liveBuffers() > 0);
    }
    for (int step = 0; step < 24; step++) {
      assertEquals(
          cpuLosses[step],
          gpuLosses[step],
          1e-3 * Math.max(1, cpuLosses[step]),
          "loss at step " + step);
    }
    assertTrue(
        gpuLosses[23] < gpuLosses[0] / 2, "loss fell: " + gpuLosses[0] + " → " + gpuLosses[23]);
    float[] c = cpuPredictions.readArray(), g = gpuPredictions.readArray();
    for (int i = 0; i < c.length; i++) {
      assertEquals(c[i], g[i], 2e-3 * Math.max(1, Math.abs(c[i])), "prediction " + i);
    }
    assertTrue(Files.size(dir.resolve("gpu/model.safetensors")) > 0);

    assertEquals(memoryBefore, CudaBackend.deviceMemoryInUse(0), "device bytes in use after close");
  }

  @Test
  void hostAndDeviceCopiesStayInStep() {
    try (Backend gpu = cuda()) {
      hostAndDeviceCopiesStayInStep(gpu);
    }
  }

  private static void hostAndDeviceCopiesStayInStep(Backend gpu) {
    Tensor x = Tensor.of(new float[] {1, -2, 3, -4}, 4);
    Tensor y = gpu.allocate(Shape.of(4));
    gpu.activationForward(dev.marrow.engine.backend.Activation.RELU, x, y);
    assertArrayEquals(new float[] {1, 0, 3, 0}, y.readArray());
    x.array()[1] = 5; // a host write must reach the device before the next kernel
    gpu.activationForward(dev.marrow.engine.backend.Activation.RELU, x, y);
    assertArrayEquals(new float[] {1, 5, 3, 0}, y.readArray());
    gpu.scale(y, 0.5f); // a device write must reach the host when it reads
    assertArrayEquals(new float[] {0.5f, 2.5f, 1.5f, 0}, y.readArray());
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                gpu.softmaxCrossEntropy(
                    Tensor.zeros(2, 3), Tensor.of(new float[] {1, 3}, 2), null, 2, 3, 1f));
    assertTrue(e.getMessage().contains("label 3.0 at row 1"), e.getMessage());
  }

  /**
   * The backend runs on the libraries the locator found: in the CUDA 13 flavour of the emulation
   * only .so.13 sonames exist, and cuDNN is NVIDIA's split one, whose libcudnn.so.9 opens
   * libcudnn_graph/ops/cnn.so.9 by soname at first use from a folder not on the linker path.
   */
  @Test
  void runsOnTheLibrariesTheLocatorFoundCuda12Or13() {
    try (Backend gpu = cuda()) {
      hostAndDeviceCopiesStayInStep(gpu); // cuDNN and an NVRTC kernel
      var found = CudaLibraries.load(why -> {}).orElseThrow().diagnostic();
      String runtime = found.path(NativeLibrary.CUDA_RUNTIME).orElseThrow().toString();
      if (runtime.endsWith(".so.13")) {
        for (NativeLibrary lib : List.of(NativeLibrary.NVRTC, NativeLibrary.CUBLAS)) {
          assertTrue(found.path(lib).orElseThrow().toString().endsWith(".so.13"), found.toString());
        }
        assertTrue(found.toString().contains("(+ graph, ops, cnn beside it)"), found.toString());
      }
    }
  }

  /**
   * Device facts come from cudaDeviceGetAttribute and the driver API, never from cudaDeviceProp,
   * whose layout changed between CUDA 12 and 13 (the bindings know one layout; the emulation counts
   * the calls).
   */
  @Test
  void deviceFactsDoNotReadTheVersionedDevicePropStruct() throws Throwable {
    try (Backend gpu = cuda()) {
      String device = ((CudaBackend) gpu).device() + " " + CudaBackend.describeDevices();
      assertTrue(
          device.contains("Marrow CUDA host emulation (compute capability 8.0, 1 SMs, 16.0 GiB)"),
          device);
    }
    Optional<MemorySegment> calls =
        SymbolLookup.loaderLookup().find("marrow_emulation_device_properties_calls");
    assumeTrue(calls.isPresent(), "only the host emulation counts the calls");
    int n =
        (int)
            Linker.nativeLinker()
                .downcallHandle(calls.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT))
                .invokeExact();
    assertEquals(0, n, "cudaGetDeviceProperties_v2 calls");
  }

  /**
   * A host pointer handed to cuBLAS, cuDNN or a kernel is an error, as on a GPU, where the kernel
   * faults (the emulation checks every data pointer against the live cudaMalloc allocations).
   */
  @Test
  void hostPointersAreRejectedByCublasCudnnAndKernels() {
    try (Backend gpu = cuda();
        Arena arena = Arena.ofConfined()) {
      MemorySegment host = arena.allocate(ValueLayout.JAVA_FLOAT, 16);
      MemorySegment device = gpu.allocate(Shape.of(16)).deviceForWriting().address();
      MemorySegment one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
      MemorySegment zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
      MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);

      CudaStatus.cublas(cublas_h.cublasCreate_v2(slot), "cublasCreate_v2");
      MemorySegment blas = slot.get(ValueLayout.ADDRESS, 0);
      var e =
          assertThrows(
              CudaException.class,
              () ->
                  CudaStatus.cublas(
                      cublas_h.cublasSaxpy_v2(blas, 16, one, host, 1, device, 1),
                      "cublasSaxpy_v2"));
      assertEquals("CUBLAS_STATUS_EXECUTION_FAILED", e.statusName());
      CudaStatus.cublas(cublas_h.cublasDestroy_v2(blas), "cublasDestroy_v2");

      try (Cudnn dnn = new Cudnn(false, false)) {
        MemorySegment d = dnn.tensor(1, 16, 1, 1);
        MemorySegment relu = dnn.activation(cudnn_h.CUDNN_ACTIVATION_RELU());
        e =
            assertThrows(
                CudaException.class,
                () ->
                    CudaStatus.cudnn(
                        cudnn_h.cudnnActivationForward(
                            dnn.handle, relu, one, d, host, zero, d, device),
                        "cudnnActivationForward"));
        assertEquals("CUDNN_STATUS_EXECUTION_FAILED", e.statusName());
      }

      var k =
          assertThrows(
              jcuda.CudaException.class,
              () ->
                  ((CudaBackend) gpu)
                      .kernels()
                      .launch(
                          "multiply",
                          16,
                          new CudaKernels.Args().ptr(host).ptr(device).ptr(device).i(16)));
      assertTrue(k.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), k.getMessage());
    }
  }

  @Test
  void libraryErrorsCarryTheFunctionStatusNameAndText() {
    cuda().close(); // loads the libraries
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
      CudaStatus.cudnn(cudnn_h.cudnnCreateTensorDescriptor(slot), "cudnnCreateTensorDescriptor");
      MemorySegment d = slot.get(ValueLayout.ADDRESS, 0);
      var e =
          assertThrows(
              CudaException.class,
              () ->
                  CudaStatus.cudnn(
                      cudnn_h.cudnnSetTensor4dDescriptor(
                          d, cudnn_h.CUDNN_TENSOR_NCHW(), cudnn_h.CUDNN_DATA_FLOAT(), -1, 3, 8, 8),
                      "cudnnSetTensor4dDescriptor"));
      assertEquals("CUDNN_STATUS_BAD_PARAM", e.statusName());
      assertTrue(
          e.getMessage()
              .startsWith("cudnnSetTensor4dDescriptor failed: " + "CUDNN_STATUS_BAD_PARAM (2000)"),
          e.getMessage());
      CudaStatus.cudnn(cudnn_h.cudnnDestroyTensorDescriptor(d), "cudnnDestroyTensorDescriptor");
    }
    var e = assertThrows(CudaException.class, () -> CudaStatus.runtime(2, "cudaMalloc"));
    assertTrue(e.getMessage().contains("cudaErrorMemoryAllocation"), e.getMessage());
  }

  /**
   * The bound cuBLAS calls the backend does not use yet keep cuBLAS's column-major contract: C_i =
   * A_i·B_i for a strided batch, and GemmEx in FP32 equals Sgemm. (Row-major reading of a
   * column-major 2×2 result: c[0] = c(0,0), c[1] = c(1,0).)
   */
  @Test
  void stridedBatchedAndGemmExFollowCublas() {
    try (Backend gpu = cuda();
        Arena arena = Arena.ofConfined()) {
      Tensor a = onDevice(gpu, 1, 2, 3, 4, /* batch 1: */ 0, 1, 1, 0);
      Tensor b = onDevice(gpu, 5, 6, 7, 8, 5, 6, 7, 8);
      Tensor c = gpu.allocate(Shape.of(8));
      MemorySegment handle = arena.allocate(ValueLayout.ADDRESS);
      CudaStatus.cublas(cublas_h.cublasCreate_v2(handle), "cublasCreate_v2");
      MemorySegment h = handle.get(ValueLayout.ADDRESS, 0);
      MemorySegment one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
      MemorySegment zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
      int n = cublas_h.CUBLAS_OP_N();
      CudaStatus.cublas(
          cublas_h.cublasSgemmStridedBatched(
              h,
              n,
              n,
              2,
              2,
              2,
              one,
              a.deviceForReading().address(),
              2,
              4,
              b.deviceForReading().address(),
              2,
              4,
              zero,
              c.deviceForOverwriting().address(),
              2,
              4,
              2),
          "cublasSgemmStridedBatched");
      // Column-major A0 = [1 3; 2 4], B = [5 7; 6 8]: A0·B = [23 31; 34 46]; A1 = [0 1; 1 0]
      // swaps B's rows: [6 8; 5 7].
      assertArrayEquals(new float[] {23, 34, 31, 46, 6, 5, 8, 7}, c.readArray());
      int f32 = cublas_h.CUDA_R_32F();
      CudaStatus.cublas(
          cublas_h.cublasGemmEx(
              h,
              n,
              n,
              2,
              2,
              2,
              one,
              a.deviceForReading().address(),
              f32,
              2,
              b.deviceForReading().address(),
              f32,
              2,
              zero,
              c.deviceForOverwriting().address(),
              f32,
              2,
              cublas_h.CUBLAS_COMPUTE_32F(),
              cublas_h.CUBLAS_GEMM_DEFAULT()),
          "cublasGemmEx");
      assertArrayEquals(new float[] {23, 34, 31, 46}, java.util.Arrays.copyOf(c.readArray(), 4));
      CudaStatus.cublas(cublas_h.cublasDestroy_v2(h), "cublasDestroy_v2");
    }
  }

  /** A device tensor holding {@code values} (written on the host, uploaded before use). */
  private static Tensor onDevice(Backend gpu, float... values) {
    Tensor t = gpu.allocate(Shape.of(values.length));
    System.arraycopy(values, 0, t.array(), 0, values.length);
    return t;
  }

  /**
   * The leak checks' measure sees device memory come and go: measured with cudaMemGetInfo, as on a
   * GPU, not with a counter only the emulation has (which reads 0 on hardware, so any leak check
   * built on it passes there whatever leaks).
   */
  @Test
  void deviceMemoryMeasureSeesAnAllocationAndItsRelease() {
    try (Backend gpu = cuda()) {
      long before = CudaBackend.deviceMemoryInUse(0);
      Tensor t = gpu.allocate(Shape.of(1 << 20));
      assertTrue(
          CudaBackend.deviceMemoryInUse(0) - before >= 4L << 20,
          "4 MiB allocated: " + before + " → " + CudaBackend.deviceMemoryInUse(0));
      t.releaseDevice();
      assertEquals(before, CudaBackend.deviceMemoryInUse(0), "after the release");
    }
  }
}
