package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cublas;
import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.JvmFlags;
import dev.marrow.bindings.CudaLibraries;
import dev.marrow.bindings.cublas.cublas_h;
import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PointwiseLoss;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.DeviceBuffer;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The Backend on an NVIDIA GPU: cuBLAS for GEMM and the BLAS-1 calls, cuDNN for convolution,
 * pooling, batch norm, relu/sigmoid/tanh and softmax, NVRTC-compiled kernels (kernels.cu) for the
 * fused updates and losses and the activations cuDNN lacks. Tensors stay in device memory for the
 * whole step; host tensors handed in (parameters built on the host, input batches) get a device
 * copy on first use, synchronised as {@link Tensor} describes.
 *
 * <p>Every device buffer, descriptor, handle and the module are owned here and freed by {@link
 * #close()}. Calls are serialised on the backend (one stream), so several threads may share it.
 */
public final class CudaBackend implements Backend {
  /** Workspace a convolution algorithm may use (cuDNN's ranking is followed below this). */
  private static final long WORKSPACE_LIMIT = 256L << 20;

  private final int ordinal;
  private final CudaRuntime.DeviceInfo info;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment cublasHandle;
  private final Cudnn cudnn;
  private final CudaKernels kernels;
  private final MemorySegment one;
  private final MemorySegment zero;

  /** Host scalars for cuBLAS/cuDNN (host pointer mode); calls are serialised on the backend. */
  private final MemorySegment scalar;

  private final MemorySegment alphaSlot;
  private final MemorySegment betaSlot;

  /** Explicitly padded inputs and their gradients, per geometry (see padded). */
  private final Map<List<Object>, Tensor> paddingBuffers = new HashMap<>();

  private final Set<CudaBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
  private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
  private CudaBuffer scratch;
  private CudaBuffer workspace;
  private boolean closed;

  private CudaBackend(int ordinal) {
    this.ordinal = ordinal;
    CudaRuntime.setDevice(ordinal);
    this.info = CudaRuntime.deviceInfo(ordinal);
    MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
    cublas(cublas_h.cublasCreate_v2(slot), "cublasCreate_v2");
    this.cublasHandle = slot.get(ValueLayout.ADDRESS, 0);
    // cuBLAS defaults to FP32 math; TF32 tensor cores are opt-in.
    cublas(
        cublas_h.cublasSetMathMode(
            cublasHandle,
            Boolean.getBoolean("marrow.cuda.tf32")
                ? cublas_h.CUBLAS_TF32_TENSOR_OP_MATH()
                : cublas_h.CUBLAS_DEFAULT_MATH()),
        "cublasSetMathMode");
    this.cudnn = new Cudnn();
    this.kernels = new CudaKernels(ordinal, info.major(), info.minor());
    current.set(true);
    this.one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    this.zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    this.scalar = arena.allocate(ValueLayout.JAVA_FLOAT);
    this.alphaSlot = arena.allocate(ValueLayout.JAVA_FLOAT);
    this.betaSlot = arena.allocate(ValueLayout.JAVA_FLOAT);
  }

  /**
   * Opens device {@code ordinal}, or returns empty and tells {@code whyNot} what is missing: the
   * locator's diagnostic when a library is absent, or that no device is visible.
   */
  public static Optional<CudaBackend> open(int ordinal, Consumer<String> whyNot) {
    // Before any library is looked up: without native access the JDK only warns at the first
    // restricted call (and a later JDK refuses it), so say which flag is missing up front.
    JvmFlags.requireNativeAccess(CudaLibraries.class.getModule());
    JvmFlags.requireNativeAccess(CudaBackend.class.getModule());
    Optional<CudaLibraries> libraries = CudaLibraries.load(whyNot);
    if (libraries.isEmpty()) {
      return Optional.empty();
    }
    int count = CudaRuntime.deviceCount();
    if (ordinal < 0 || ordinal >= count) {
      whyNot.accept(
          "the CUDA libraries loaded, but "
              + (count == 0
                  ? "no CUDA device is visible"
                  : "there is no device cuda:" + ordinal + " (devices: 0.." + (count - 1) + ")"));
      return Optional.empty();
    }
    return Optional.of(new CudaBackend(ordinal));
  }

  /**
   * One line per visible device, with the runtime and library versions (for {@code marrow info}).
   */
  public static List<String> describeDevices() {
    List<String> lines = new ArrayList<>();
    lines.add("CUDA " + CudaRuntime.versions() + ", cuDNN " + Cudnn.version());
    int count = CudaRuntime.deviceCount();
    for (int i = 0; i < count; i++) {
      lines.add(CudaRuntime.deviceInfo(i).toString());
    }
    if (count == 0) {
      lines.add("no CUDA device is visible");
    }
    return lines;
  }

  @Override
  public String name() {
    return "cuda:" + ordinal;
  }

  @Override
  public int threads() {
    return 1;
  }

  /** The device this backend runs on. */
  public String device() {
    return info.toString();
  }

  // ---- memory ---------------------------------------------------------------------------------

  @Override
  public synchronized Tensor allocate(Shape shape) {
    return Tensor.onDevice(shape, newBuffer(shape.size()));
  }

  private CudaBuffer newBuffer(int floats) {
    makeCurrent();
    requireOpen();
    CudaBuffer b = new CudaBuffer(this, floats);
    live.add(b);
    return b;
  }

  synchronized void forget(CudaBuffer buffer) {
    live.remove(buffer);
  }

  /** Device buffers this backend still owns (for leak tests). */
  public synchronized int liveBuffers() {
    return live.size();
  }

  void makeCurrent() {
    if (!current.get()) {
      CudaRuntime.setDevice(ordinal);
      kernels.makeCurrent();
      current.set(true);
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException(name() + " is closed");
    }
  }

  /** The device copy of {@code t}, giving a host tensor one first. */
  private DeviceBuffer buffer(Tensor t) {
    DeviceBuffer d = t.deviceBuffer();
    if (d == null) {
      t.attachDevice(newBuffer(t.size()));
    } else if (d.owner() != this) {
      throw new IllegalArgumentException(t + " lives on another device");
    }
    return t.deviceBuffer();
  }

  private MemorySegment in(Tensor t) {
    buffer(t);
    return t.deviceForReading().address();
  }

  private MemorySegment inout(Tensor t) {
    buffer(t);
    return t.deviceForWriting().address();
  }

  private MemorySegment out(Tensor t) {
    buffer(t);
    return t.deviceForOverwriting().address();
  }

  private MemorySegment scratch(int floats) {
    if (scratch == null || scratch.floats() < floats) {
      if (scratch != null) {
        scratch.free();
      }
      scratch = newBuffer(Math.max(floats, 1024));
    }
    return scratch.address();
  }

  private MemorySegment workspace(long bytes) {
    if (bytes == 0) {
      return MemorySegment.NULL;
    }
    if (workspace == null || 4L * workspace.floats() < bytes) {
      if (workspace != null) {
        workspace.free();
      }
      workspace = newBuffer((int) ((bytes + 3) / 4));
    }
    return workspace.address();
  }

  private MemorySegment hostFloat(float v) {
    scalar.set(ValueLayout.JAVA_FLOAT, 0, v);
    return scalar;
  }

  private float readScalar() {
    return scalar.get(ValueLayout.JAVA_FLOAT, 0);
  }

  // ---- BLAS -----------------------------------------------------------------------------------

  @Override
  public synchronized void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Tensor a,
      int aOffset,
      int lda,
      Tensor b,
      int bOffset,
      int ldb,
      float beta,
      Tensor c,
      int cOffset,
      int ldc) {
    makeCurrent();
    // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands, keep the
    // transposes, and the row strides become the column-major leading dimensions.
    boolean overwritesAllOfC = beta == 0 && cOffset == 0 && ldc == n && m * n == c.size();
    MemorySegment cPtr = overwritesAllOfC ? out(c) : inout(c);
    alphaSlot.set(ValueLayout.JAVA_FLOAT, 0, alpha);
    betaSlot.set(ValueLayout.JAVA_FLOAT, 0, beta);
    cublas(
        cublas_h.cublasSgemm_v2(
            cublasHandle,
            transB ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(),
            transA ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(),
            n,
            m,
            k,
            alphaSlot,
            CudaRuntime.offset(in(b), bOffset),
            ldb,
            CudaRuntime.offset(in(a), aOffset),
            lda,
            betaSlot,
            CudaRuntime.offset(cPtr, cOffset),
            ldc),
        "cublasSgemm_v2");
  }

  @Override
  public synchronized void biasAdd(Tensor y, Tensor bias, int rows, int cols) {
    makeCurrent();
    cudnn(
        cudnn_h.cudnnAddTensor(
            cudnn.handle,
            one,
            cudnn.tensor(1, cols, 1, 1),
            in(bias),
            one,
            cudnn.tensor(rows, cols, 1, 1),
            inout(y)),
        "cudnnAddTensor");
  }

  @Override
  public synchronized void biasGrad(Tensor dy, Tensor dBias, int rows, int cols, float beta) {
    makeCurrent();
    MemorySegment db = beta == 0 ? out(dBias) : inout(dBias);
    cudnn(
        cudnn_h.cudnnConvolutionBackwardBias(
            cudnn.handle,
            one,
            cudnn.tensor(rows, cols, 1, 1),
            in(dy),
            hostFloat(beta),
            cudnn.tensor(1, cols, 1, 1),
            db),
        "cudnnConvolutionBackwardBias");
  }

  @Override
  public synchronized void copy(Tensor src, Tensor dst) {
    Backend.requireSameSize(src, dst);
    makeCurrent();
    if (src != dst) {
      CudaRuntime.copyOnDevice(out(dst), in(src), 4L * dst.size());
    }
  }

  @Override
  public synchronized void axpy(float alpha, Tensor x, Tensor y) {
    makeCurrent();
    cublas(
        cublas_h.cublasSaxpy_v2(cublasHandle, y.size(), hostFloat(alpha), in(x), 1, inout(y), 1),
        "cublasSaxpy_v2");
  }

  @Override
  public synchronized float sumOfSquares(Tensor x) {
    makeCurrent();
    MemorySegment p = in(x);
    cublas(cublas_h.cublasSdot_v2(cublasHandle, x.size(), p, 1, p, 1, scalar), "cublasSdot_v2");
    return readScalar();
  }

  @Override
  public synchronized void scale(Tensor x, float alpha) {
    makeCurrent();
    if (alpha == 0) { // writes zeros even over NaN, which scal by 0 would keep
      CudaRuntime.memset(out(x), 4L * x.size());
    } else {
      cublas(
          cublas_h.cublasSscal_v2(cublasHandle, x.size(), hostFloat(alpha), inout(x), 1),
          "cublasSscal_v2");
    }
  }

  @Override
  public synchronized void copyBlocks(
      Tensor src,
      int srcOffset,
      int srcStride,
      Tensor dst,
      int dstOffset,
      int dstStride,
      int blocks,
      int blockLength,
      boolean accumulate) {
    Backend.requireBlocksInside(src, srcOffset, srcStride, blocks, blockLength, "src");
    Backend.requireBlocksInside(dst, dstOffset, dstStride, blocks, blockLength, "dst");
    long total = (long) blocks * blockLength;
    if (total == 0) {
      return;
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          blocks + " blocks of " + blockLength + " overlap in dst: they cannot all fit in it");
    }
    makeCurrent();
    // src before dst: when they share storage, reading first brings the device copy up to date.
    MemorySegment s = in(src);
    boolean overwritesAllOfDst =
        !accumulate && dstOffset == 0 && dstStride == blockLength && total == dst.size();
    MemorySegment d = overwritesAllOfDst ? out(dst) : inout(dst);
    kernels.launch(
        "copy_blocks",
        (int) total,
        new CudaKernels.Args()
            .ptr(s)
            .i(srcOffset)
            .i(srcStride)
            .ptr(d)
            .i(dstOffset)
            .i(dstStride)
            .i(blocks)
            .i(blockLength)
            .i(accumulate ? 1 : 0));
  }

  @Override
  public synchronized void multiply(Tensor a, Tensor b, Tensor out, boolean accumulate) {
    Backend.requireSameSize(a, b);
    Backend.requireSameSize(a, out);
    makeCurrent();
    // Inputs before the output, so that an output aliasing an input is uploaded first.
    MemorySegment aPtr = in(a), bPtr = in(b);
    MemorySegment outPtr = accumulate ? inout(out) : out(out);
    kernels.launch(
        accumulate ? "multiply_add" : "multiply",
        out.size(),
        new CudaKernels.Args().ptr(aPtr).ptr(bPtr).ptr(outPtr).i(out.size()));
  }

  // ---- convolution ----------------------------------------------------------------------------

  @Override
  public synchronized void conv2dForward(
      ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    makeCurrent();
    if (!Cudnn.symmetric(g)) {
      conv2dForward(unpadded(g), padded(g, x, 0f), w, bias, y);
      return;
    }
    Cudnn.Convolution c = cudnn.convolution(g, WORKSPACE_LIMIT);
    MemorySegment ws = workspace(c.workspaceBytes());
    MemorySegment yPtr = out(y);
    cudnn(
        cudnn_h.cudnnConvolutionForward(
            cudnn.handle,
            one,
            c.x(),
            in(x),
            c.w(),
            in(w),
            c.conv(),
            c.forwardAlgo(),
            ws,
            c.workspaceBytes(),
            zero,
            c.y(),
            yPtr),
        "cudnnConvolutionForward");
    if (bias != null) {
      cudnn(
          cudnn_h.cudnnAddTensor(cudnn.handle, one, c.bias(), in(bias), one, c.y(), yPtr),
          "cudnnAddTensor");
    }
  }

  @Override
  public synchronized void conv2dBackwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    makeCurrent();
    if (!Cudnn.symmetric(g)) {
      Tensor dPadded = paddingBuffer(g, 1);
      conv2dBackwardData(unpadded(g), w, dy, dPadded);
      crop(g, dPadded, dx);
      return;
    }
    Cudnn.Convolution c = cudnn.convolution(g, WORKSPACE_LIMIT);
    MemorySegment ws = workspace(c.workspaceBytes());
    cudnn(
        cudnn_h.cudnnConvolutionBackwardData(
            cudnn.handle,
            one,
            c.w(),
            in(w),
            c.y(),
            in(dy),
            c.conv(),
            c.backwardDataAlgo(),
            ws,
            c.workspaceBytes(),
            zero,
            c.x(),
            out(dx)),
        "cudnnConvolutionBackwardData");
  }

  @Override
  public synchronized void conv2dBackwardFilter(
      ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    makeCurrent();
    if (!Cudnn.symmetric(g)) {
      conv2dBackwardFilter(unpadded(g), padded(g, x, 0f), dy, dw, beta);
      return;
    }
    Cudnn.Convolution c = cudnn.convolution(g, WORKSPACE_LIMIT);
    MemorySegment ws = workspace(c.workspaceBytes());
    MemorySegment dwPtr = beta == 0 ? out(dw) : inout(dw);
    cudnn(
        cudnn_h.cudnnConvolutionBackwardFilter(
            cudnn.handle,
            one,
            c.x(),
            in(x),
            c.y(),
            in(dy),
            c.conv(),
            c.backwardFilterAlgo(),
            ws,
            c.workspaceBytes(),
            hostFloat(beta),
            c.w(),
            dwPtr),
        "cudnnConvolutionBackwardFilter");
  }

  @Override
  public synchronized void conv2dBackwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta) {
    makeCurrent();
    MemorySegment dbPtr = beta == 0 ? out(db) : inout(db);
    cudnn(
        cudnn_h.cudnnConvolutionBackwardBias(
            cudnn.handle,
            one,
            cudnn.tensor(g.n(), g.f(), g.outH(), g.outW()),
            in(dy),
            hostFloat(beta),
            cudnn.tensor(1, g.f(), 1, 1),
            dbPtr),
        "cudnnConvolutionBackwardBias");
  }

  // ---- pooling --------------------------------------------------------------------------------

  @Override
  public synchronized void poolForward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    makeCurrent();
    if (!Cudnn.symmetric(g)) {
      poolForward(mode, unpadded(g), padded(g, x, poolPadValue(mode, g)), y);
      return;
    }
    cudnn(
        cudnn_h.cudnnPoolingForward(
            cudnn.handle,
            cudnn.pooling(mode, g),
            one,
            cudnn.tensor(g.n(), g.c(), g.h(), g.w()),
            in(x),
            zero,
            cudnn.tensor(g.n(), g.c(), g.outH(), g.outW()),
            out(y)),
        "cudnnPoolingForward");
  }

  @Override
  public synchronized void poolBackward(
      PoolMode mode, ConvGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    makeCurrent();
    if (!Cudnn.symmetric(g)) {
      Tensor dPadded = paddingBuffer(g, 1);
      poolBackward(mode, unpadded(g), padded(g, x, poolPadValue(mode, g)), y, dy, dPadded);
      crop(g, dPadded, dx);
      return;
    }
    MemorySegment xd = cudnn.tensor(g.n(), g.c(), g.h(), g.w());
    MemorySegment yd = cudnn.tensor(g.n(), g.c(), g.outH(), g.outW());
    cudnn(
        cudnn_h.cudnnPoolingBackward(
            cudnn.handle,
            cudnn.pooling(mode, g),
            one,
            yd,
            in(y),
            yd,
            in(dy),
            xd,
            in(x),
            zero,
            xd,
            out(dx)),
        "cudnnPoolingBackward");
  }

  // ---- explicit padding for geometries cuDNN's symmetric padding cannot express --------------

  /** The same operation on an input padded explicitly, with no padding of its own. */
  private static ConvGeometry unpadded(ConvGeometry g) {
    int ph = (g.outH() - 1) * g.strideH() + g.dilationH() * (g.kh() - 1) + 1;
    int pw = (g.outW() - 1) * g.strideW() + g.dilationW() * (g.kw() - 1) + 1;
    return new ConvGeometry(
        g.n(),
        g.c(),
        ph,
        pw,
        g.f(),
        g.kh(),
        g.kw(),
        g.strideH(),
        g.strideW(),
        0,
        0,
        g.dilationH(),
        g.dilationW(),
        g.outH(),
        g.outW());
  }

  private static float poolPadValue(PoolMode mode, ConvGeometry g) {
    return switch (mode) {
      case MAX -> Float.NEGATIVE_INFINITY; // never a window's maximum
      case AVERAGE_INCLUDE_PADDING -> 0f; // counted, as zeros
      case AVERAGE_EXCLUDE_PADDING ->
          throw new UnsupportedOperationException(
              "average pooling "
                  + "that excludes padding needs top/left and bottom/right padding alike on CUDA: "
                  + g);
    };
  }

  /** A device buffer for the explicitly padded input (slot 0) or its gradient (slot 1). */
  private Tensor paddingBuffer(ConvGeometry g, int slot) {
    ConvGeometry u = unpadded(g);
    return paddingBuffers.computeIfAbsent(
        List.of(g, slot), k -> allocate(Shape.of(g.n(), g.c(), u.h(), u.w())));
  }

  private Tensor padded(ConvGeometry g, Tensor x, float value) {
    ConvGeometry u = unpadded(g);
    Tensor p = paddingBuffer(g, 0);
    kernels.launch(
        "pad_planes",
        p.size(),
        new CudaKernels.Args()
            .ptr(in(x))
            .ptr(out(p))
            .i(g.n() * g.c())
            .i(g.h())
            .i(g.w())
            .i(g.padTop())
            .i(g.padLeft())
            .i(u.h())
            .i(u.w())
            .f(value));
    return p;
  }

  private void crop(ConvGeometry g, Tensor padded, Tensor dx) {
    ConvGeometry u = unpadded(g);
    kernels.launch(
        "crop_planes",
        dx.size(),
        new CudaKernels.Args()
            .ptr(in(padded))
            .ptr(out(dx))
            .i(g.n() * g.c())
            .i(g.h())
            .i(g.w())
            .i(g.padTop())
            .i(g.padLeft())
            .i(u.h())
            .i(u.w()));
  }

  // ---- batch normalisation --------------------------------------------------------------------

  @Override
  public synchronized void batchNormForwardTraining(
      int n,
      int c,
      int spatial,
      Tensor x,
      Tensor gamma,
      Tensor beta,
      Tensor runningMean,
      Tensor runningVar,
      float factor,
      float epsilon,
      Tensor savedMean,
      Tensor savedInvStd,
      Tensor y) {
    makeCurrent();
    MemorySegment xd = cudnn.tensor(n, c, spatial, 1);
    cudnn(
        cudnn_h.cudnnBatchNormalizationForwardTraining(
            cudnn.handle,
            cudnn_h.CUDNN_BATCHNORM_SPATIAL(),
            one,
            zero,
            xd,
            in(x),
            xd,
            out(y),
            cudnn.tensor(1, c, 1, 1),
            in(gamma),
            in(beta),
            factor,
            inout(runningMean),
            inout(runningVar),
            epsilon,
            out(savedMean),
            out(savedInvStd)),
        "cudnnBatchNormalizationForwardTraining");
  }

  @Override
  public synchronized void batchNormForwardInference(
      int n,
      int c,
      int spatial,
      Tensor x,
      Tensor gamma,
      Tensor beta,
      Tensor runningMean,
      Tensor runningVar,
      float epsilon,
      Tensor y) {
    makeCurrent();
    MemorySegment xd = cudnn.tensor(n, c, spatial, 1);
    cudnn(
        cudnn_h.cudnnBatchNormalizationForwardInference(
            cudnn.handle,
            cudnn_h.CUDNN_BATCHNORM_SPATIAL(),
            one,
            zero,
            xd,
            in(x),
            xd,
            out(y),
            cudnn.tensor(1, c, 1, 1),
            in(gamma),
            in(beta),
            in(runningMean),
            in(runningVar),
            epsilon),
        "cudnnBatchNormalizationForwardInference");
  }

  @Override
  public synchronized void batchNormBackward(
      int n,
      int c,
      int spatial,
      Tensor x,
      Tensor dy,
      Tensor gamma,
      Tensor savedMean,
      Tensor savedInvStd,
      Tensor dx,
      Tensor dGamma,
      Tensor dBeta) {
    makeCurrent();
    MemorySegment xd = cudnn.tensor(n, c, spatial, 1);
    // epsilon is unused when the saved statistics are passed; cuDNN still checks its minimum.
    cudnn(
        cudnn_h.cudnnBatchNormalizationBackward(
            cudnn.handle,
            cudnn_h.CUDNN_BATCHNORM_SPATIAL(),
            one,
            zero,
            one,
            zero,
            xd,
            in(x),
            xd,
            in(dy),
            xd,
            out(dx),
            cudnn.tensor(1, c, 1, 1),
            in(gamma),
            out(dGamma),
            out(dBeta),
            1e-5,
            in(savedMean),
            in(savedInvStd)),
        "cudnnBatchNormalizationBackward");
  }

  // ---- activations ----------------------------------------------------------------------------

  private static int cudnnMode(Activation kind) {
    return switch (kind) {
      case RELU -> cudnn_h.CUDNN_ACTIVATION_RELU();
      case SIGMOID -> cudnn_h.CUDNN_ACTIVATION_SIGMOID();
      case TANH -> cudnn_h.CUDNN_ACTIVATION_TANH();
      default -> throw new IllegalArgumentException(kind + " has no cuDNN mode");
    };
  }

  /**
   * The code of kernels.cu's activation_forward/backward, or 0 for the kinds cuDNN runs. cuDNN's
   * legacy activation API has no gelu, silu, softplus or leaky ReLU; it has ELU, but one kernel
   * family for the five keeps their definitions (slope, thresholds) in one place.
   */
  private static int kernelActivation(Activation kind) {
    return switch (kind) {
      case LEAKY_RELU -> 1;
      case ELU -> 2;
      case GELU -> 3;
      case SILU -> 4;
      case SOFTPLUS -> 5;
      default -> 0;
    };
  }

  @Override
  public synchronized void activationForward(Activation kind, Tensor x, Tensor y) {
    makeCurrent();
    if (kind == Activation.SOFTMAX) {
      throw new IllegalArgumentException("softmax is row-wise: use softmaxForward");
    }
    if (kind == Activation.LINEAR) {
      copy(x, y);
      return;
    }
    if (kernelActivation(kind) != 0) {
      Backend.requireSameSize(x, y);
      MemorySegment xPtr = x == y ? inout(y) : in(x);
      kernels.launch(
          "activation_forward",
          x.size(),
          new CudaKernels.Args()
              .i(kernelActivation(kind))
              .ptr(xPtr)
              .ptr(x == y ? xPtr : out(y))
              .i(x.size()));
      return;
    }
    MemorySegment d = cudnn.tensor(1, x.size(), 1, 1);
    MemorySegment yPtr = x == y ? inout(y) : out(y);
    cudnn(
        cudnn_h.cudnnActivationForward(
            cudnn.handle, cudnn.activation(cudnnMode(kind)), one, d, in(x), zero, d, yPtr),
        "cudnnActivationForward");
  }

  @Override
  public synchronized void activationBackward(
      Activation kind, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    makeCurrent();
    if (kind == Activation.LINEAR) {
      copy(dy, dx);
      return;
    }
    if (kernelActivation(kind) != 0) {
      boolean fromInput = kind.backwardNeedsInput();
      MemorySegment dyPtr = dx == dy ? inout(dx) : in(dy);
      kernels.launch(
          "activation_backward",
          dy.size(),
          new CudaKernels.Args()
              .i(kernelActivation(kind))
              .ptr(fromInput ? in(x) : null)
              .ptr(fromInput ? null : in(y))
              .ptr(dyPtr)
              .ptr(dx == dy ? dyPtr : out(dx))
              .i(dy.size()));
      return;
    }
    MemorySegment d = cudnn.tensor(1, y.size(), 1, 1);
    MemorySegment yPtr = in(y);
    MemorySegment dxPtr = dx == dy ? inout(dx) : out(dx);
    // For relu, sigmoid and tanh the derivative is a function of y (and relu's x > 0 exactly where
    // y > 0), so y stands in for cuDNN's x argument: callers need not keep x for them.
    cudnn(
        cudnn_h.cudnnActivationBackward(
            cudnn.handle,
            cudnn.activation(cudnnMode(kind)),
            one,
            d,
            yPtr,
            d,
            in(dy),
            d,
            yPtr,
            zero,
            d,
            dxPtr),
        "cudnnActivationBackward");
  }

  @Override
  public synchronized void softmaxForward(Tensor x, Tensor y, int rows, int cols) {
    makeCurrent();
    MemorySegment d = cudnn.tensor(rows, cols, 1, 1);
    MemorySegment yPtr = x == y ? inout(y) : out(y);
    cudnn(
        cudnn_h.cudnnSoftmaxForward(
            cudnn.handle,
            cudnn_h.CUDNN_SOFTMAX_ACCURATE(),
            cudnn_h.CUDNN_SOFTMAX_MODE_INSTANCE(),
            one,
            d,
            in(x),
            zero,
            d,
            yPtr),
        "cudnnSoftmaxForward");
  }

  @Override
  public synchronized void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
    makeCurrent();
    MemorySegment d = cudnn.tensor(rows, cols, 1, 1);
    MemorySegment dxPtr = dx == dy ? inout(dx) : out(dx);
    cudnn(
        cudnn_h.cudnnSoftmaxBackward(
            cudnn.handle,
            cudnn_h.CUDNN_SOFTMAX_ACCURATE(),
            cudnn_h.CUDNN_SOFTMAX_MODE_INSTANCE(),
            one,
            d,
            in(y),
            d,
            in(dy),
            zero,
            d,
            dxPtr),
        "cudnnSoftmaxBackward");
  }

  // ---- losses (kernels write one non-negative term per row or element; cuBLAS sums them) ------

  private float sum(MemorySegment terms, int n) {
    cublas(cublas_h.cublasSasum_v2(cublasHandle, n, terms, 1, scalar), "cublasSasum_v2");
    return readScalar();
  }

  @Override
  public synchronized float softmaxCrossEntropy(
      Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols, float gradScale) {
    makeCurrent();
    MemorySegment rowLoss = scratch(rows);
    kernels.launch(
        "softmax_xent_sparse",
        rows,
        new CudaKernels.Args()
            .ptr(in(logits))
            .ptr(in(labels))
            .ptr(dLogits == null ? null : out(dLogits))
            .ptr(rowLoss)
            .i(rows)
            .i(cols)
            .f(gradScale));
    float loss = sum(rowLoss, rows);
    if (Float.isNaN(loss)) {
      requireClassIndices(labels, rows, cols);
    }
    return loss;
  }

  private static void requireClassIndices(Tensor labels, int rows, int cols) {
    float[] l = labels.readArray();
    for (int r = 0; r < rows; r++) {
      if ((int) l[r] != l[r] || l[r] < 0 || l[r] >= cols) {
        throw new IllegalArgumentException(
            "label " + l[r] + " at row " + r + " is not a class index in [0, " + cols + ")");
      }
    }
  }

  @Override
  public synchronized float softmaxCrossEntropyDense(
      Tensor logits, Tensor targets, Tensor dLogits, int rows, int cols, float gradScale) {
    makeCurrent();
    MemorySegment rowLoss = scratch(rows);
    kernels.launch(
        "softmax_xent_dense",
        rows,
        new CudaKernels.Args()
            .ptr(in(logits))
            .ptr(in(targets))
            .ptr(dLogits == null ? null : out(dLogits))
            .ptr(rowLoss)
            .i(rows)
            .i(cols)
            .f(gradScale));
    return sum(rowLoss, rows);
  }

  @Override
  public synchronized float crossEntropyOfProbabilities(
      Tensor probs, Tensor targets, Tensor dProbs, int rows, int cols, float gradScale) {
    makeCurrent();
    int n = rows * cols;
    MemorySegment terms = scratch(n);
    kernels.launch(
        "xent_probabilities",
        n,
        new CudaKernels.Args()
            .ptr(in(probs))
            .ptr(in(targets))
            .ptr(dProbs == null ? null : out(dProbs))
            .ptr(terms)
            .i(n)
            .f(gradScale));
    return sum(terms, n);
  }

  @Override
  public synchronized float pointwiseLoss(
      PointwiseLoss kind,
      float delta,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      float gradScale) {
    makeCurrent();
    int n = predictions.size();
    MemorySegment terms = scratch(n);
    kernels.launch(
        "pointwise_loss",
        n,
        new CudaKernels.Args()
            .ptr(in(predictions))
            .ptr(in(targets))
            .ptr(dPredictions == null ? null : out(dPredictions))
            .ptr(terms)
            .i(n)
            .i(kind.ordinal())
            .f(delta)
            .f(gradScale));
    return sum(terms, n);
  }

  @Override
  public synchronized float squaredError(
      Tensor predictions, Tensor targets, Tensor dPredictions, float gradScale) {
    makeCurrent();
    int n = predictions.size();
    MemorySegment terms = scratch(n);
    kernels.launch(
        "squared_error",
        n,
        new CudaKernels.Args()
            .ptr(in(predictions))
            .ptr(in(targets))
            .ptr(dPredictions == null ? null : out(dPredictions))
            .ptr(terms)
            .i(n)
            .f(gradScale));
    return sum(terms, n);
  }

  @Override
  public synchronized int countCorrect(Tensor scores, Tensor labels, int rows, int cols) {
    return countCorrect(scores, in(labels), null, rows, cols);
  }

  @Override
  public synchronized int countCorrectDense(Tensor scores, Tensor targets, int rows, int cols) {
    return countCorrect(scores, null, in(targets), rows, cols);
  }

  private int countCorrect(
      Tensor scores, MemorySegment labels, MemorySegment targets, int rows, int cols) {
    makeCurrent();
    MemorySegment hits = scratch(rows);
    kernels.launch(
        "count_correct",
        rows,
        new CudaKernels.Args().ptr(in(scores)).ptr(labels).ptr(targets).ptr(hits).i(rows).i(cols));
    return Math.round(sum(hits, rows));
  }

  @Override
  public synchronized void argmax(Tensor scores, int rows, int cols, int[] out) {
    makeCurrent();
    MemorySegment indices = scratch(rows);
    kernels.launch(
        "argmax_rows", rows, new CudaKernels.Args().ptr(in(scores)).ptr(indices).i(rows).i(cols));
    try (Arena call = Arena.ofConfined()) {
      MemorySegment host = call.allocate(ValueLayout.JAVA_FLOAT, rows);
      CudaRuntime.copyToHost(host, indices, 4L * rows);
      for (int r = 0; r < rows; r++) {
        out[r] = (int) host.getAtIndex(ValueLayout.JAVA_FLOAT, r);
      }
    }
  }

  // ---- regularisation and optimizers ----------------------------------------------------------

  @Override
  public synchronized void dropoutForward(Tensor x, Tensor y, Tensor mask, float rate, long seed) {
    makeCurrent();
    kernels.launch(
        "dropout_forward",
        x.size(),
        new CudaKernels.Args().ptr(in(x)).ptr(out(y)).ptr(out(mask)).f(rate).l(seed).i(x.size()));
  }

  @Override
  public synchronized void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
    makeCurrent();
    MemorySegment dxPtr = dx == dy ? inout(dx) : out(dx);
    kernels.launch(
        "multiply",
        dx.size(),
        new CudaKernels.Args().ptr(in(dy)).ptr(in(mask)).ptr(dxPtr).i(dx.size()));
  }

  @Override
  public synchronized void sgdUpdate(
      Tensor param,
      Tensor grad,
      Tensor velocity,
      float lr,
      float momentum,
      boolean nesterov,
      float weightDecay) {
    makeCurrent();
    kernels.launch(
        "sgd_update",
        param.size(),
        new CudaKernels.Args()
            .ptr(inout(param))
            .ptr(in(grad))
            .ptr(velocity == null ? null : inout(velocity))
            .f(lr)
            .f(momentum)
            .i(nesterov ? 1 : 0)
            .f(weightDecay)
            .i(param.size()));
  }

  @Override
  public synchronized void adamUpdate(
      Tensor param,
      Tensor grad,
      Tensor m,
      Tensor v,
      float lr,
      float beta1,
      float beta2,
      float epsilon,
      int step,
      float weightDecay,
      boolean decoupledWeightDecay) {
    makeCurrent();
    kernels.launch(
        "adam_update",
        param.size(),
        new CudaKernels.Args()
            .ptr(inout(param))
            .ptr(in(grad))
            .ptr(inout(m))
            .ptr(inout(v))
            .f(lr)
            .f(beta1)
            .f(beta2)
            .f(epsilon)
            .d(1 - Math.pow(beta1, step))
            .d(1 - Math.pow(beta2, step))
            .f(weightDecay)
            .i(decoupledWeightDecay ? 1 : 0)
            .i(param.size()));
  }

  // ---- lifetime -------------------------------------------------------------------------------

  /**
   * Frees every device buffer this backend allocated, the descriptors, handles and module, and
   * releases the primary context. Tensors whose only current copy was on the device are gone with
   * it: copy out what you need (a model's save, {@link Tensor#releaseDevice()}) before closing.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    makeCurrent();
    CudaRuntime.synchronize();
    closed = true;
    for (CudaBuffer b : new ArrayList<>(live)) {
      b.free();
    }
    cudnn.close();
    cublas(cublas_h.cublasDestroy_v2(cublasHandle), "cublasDestroy_v2");
    kernels.close();
    arena.close();
  }
}
