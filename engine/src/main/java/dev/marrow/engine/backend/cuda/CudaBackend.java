package dev.marrow.engine.backend.cuda;

import dev.marrow.JvmFlags;
import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PointwiseLoss;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The Backend on an NVIDIA GPU: cuBLAS for GEMM and the BLAS-1 calls, cuDNN for convolution,
 * pooling, batch norm, relu/sigmoid/tanh and softmax, NVRTC-compiled kernels (kernels.cu) for the
 * fused updates and losses and the activations cuDNN lacks. Tensors stay in device memory for the
 * whole step; host tensors handed in (parameters built on the host, input batches) get a device
 * copy on first use, synchronised as {@link Tensor} describes.
 *
 * <p>This class only routes: {@link CudaDevice} holds the runtime side (context, memory, copies),
 * and each op family lives in its own class, as on the CPU. Every device buffer, descriptor, handle
 * and the module are owned by those parts and freed by {@link #close()}. Calls are serialised on
 * the backend (one stream), so several threads may share it.
 */
public final class CudaBackend implements Backend {
  /**
   * System property that lets cuBLAS and cuDNN run FP32 work on TF32 tensor cores (sm_80 and newer:
   * ~10 bits of mantissa in the products, results ~1e-3 relative off FP32). Off by default.
   */
  public static final String TF32_PROPERTY = "marrow.cuda.tf32";

  private final CudaDevice device;
  private final Cudnn cudnn;
  private final GemmOps gemm;
  private final ConvolutionOps convolution;
  private final PoolingOps pooling;
  private final BatchNormOps batchNorm;
  private final ActivationOps activations;
  private final ElementwiseOps elementwise;
  private final LossOps losses;
  private boolean closed;

  private CudaBackend(int ordinal, boolean deterministic) {
    boolean tf32 = Boolean.getBoolean(TF32_PROPERTY);
    this.device = new CudaDevice(ordinal);
    this.gemm = new GemmOps(device, tf32);
    this.cudnn = new Cudnn(tf32, deterministic);
    AsymmetricPadding padding = new AsymmetricPadding(device);
    this.convolution = new ConvolutionOps(device, cudnn, padding);
    this.elementwise = new ElementwiseOps(device);
    this.pooling = new PoolingOps(device, cudnn, padding, elementwise);
    this.batchNorm = new BatchNormOps(device, cudnn);
    this.activations = new ActivationOps(device, cudnn);
    this.losses = new LossOps(device, gemm);
  }

  /** {@link #open(int, boolean, Consumer)}, not deterministic. */
  public static Optional<CudaBackend> open(int ordinal, Consumer<String> whyNot) {
    return open(ordinal, false, whyNot);
  }

  /**
   * Opens device {@code ordinal}, or returns empty and tells {@code whyNot} what is missing: the
   * locator's diagnostic when a library is absent, or that no device is visible. {@code
   * deterministic} limits cuDNN to the algorithms it reports deterministic.
   */
  public static Optional<CudaBackend> open(
      int ordinal, boolean deterministic, Consumer<String> whyNot) {
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
    return Optional.of(new CudaBackend(ordinal, deterministic));
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
    return "cuda:" + device.ordinal;
  }

  /**
   * How this backend's fused kernels were built, e.g. "NVRTC 12.6, sm_90 machine code" (or PTX for
   * a GPU newer than the NVRTC found, compiled by the driver when it loaded them).
   */
  public String kernelBuild() {
    return device.kernels.describe();
  }

  @Override
  public int threads() {
    return 1;
  }

  /** The device this backend runs on. */
  public String device() {
    return device.info.toString();
  }

  /**
   * Device memory in use on device {@code ordinal} by every process, in bytes ({@code
   * cudaMemGetInfo}: total − free): what leak checks compare before and after, on a GPU as on the
   * host emulation. Needs the CUDA libraries loaded (a backend opened once).
   */
  public static long deviceMemoryInUse(int ordinal) {
    CudaRuntime.setDevice(ordinal);
    return CudaRuntime.memoryInUse();
  }

  /** The NVRTC kernels, for tests in this package that launch one directly. */
  CudaKernels kernels() {
    return device.kernels;
  }

  /** Device buffers this backend still owns (for leak tests). */
  public int liveBuffers() {
    return device.liveBuffers();
  }

  @Override
  public synchronized Tensor allocate(Shape shape) {
    return Tensor.onDevice(shape, device.newBuffer(shape.size()));
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
    device.makeCurrent();
    gemm.gemm(
        transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
  }

  @Override
  public synchronized void biasAdd(Tensor y, Tensor bias, int rows, int cols) {
    device.makeCurrent();
    convolution.biasAdd(y, bias, rows, cols);
  }

  @Override
  public synchronized void biasGrad(Tensor dy, Tensor dBias, int rows, int cols, float beta) {
    device.makeCurrent();
    convolution.biasGrad(dy, dBias, rows, cols, beta);
  }

  @Override
  public synchronized void copy(Tensor src, Tensor dst) {
    device.makeCurrent();
    elementwise.copy(src, dst);
  }

  @Override
  public synchronized void axpy(float alpha, Tensor x, Tensor y) {
    device.makeCurrent();
    gemm.axpy(alpha, x, y);
  }

  @Override
  public synchronized float sumOfSquares(Tensor x) {
    device.makeCurrent();
    return gemm.sumOfSquares(x);
  }

  @Override
  public synchronized void scale(Tensor x, float alpha) {
    device.makeCurrent();
    gemm.scale(x, alpha);
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
    device.makeCurrent();
    elementwise.copyBlocks(
        src, srcOffset, srcStride, dst, dstOffset, dstStride, blocks, blockLength, accumulate);
  }

  @Override
  public synchronized void multiply(Tensor a, Tensor b, Tensor out, boolean accumulate) {
    device.makeCurrent();
    elementwise.multiply(a, b, out, accumulate);
  }

  // ---- convolution and pooling ----------------------------------------------------------------

  @Override
  public synchronized void conv2dForward(
      ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    device.makeCurrent();
    convolution.forward(g, x, w, bias, y);
  }

  @Override
  public synchronized void conv2dBackwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    device.makeCurrent();
    convolution.backwardData(g, w, dy, dx);
  }

  @Override
  public synchronized void conv2dBackwardFilter(
      ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    device.makeCurrent();
    convolution.backwardFilter(g, x, dy, dw, beta);
  }

  @Override
  public synchronized void conv2dBackwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta) {
    device.makeCurrent();
    convolution.backwardBias(g, dy, db, beta);
  }

  @Override
  public synchronized void poolForward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    device.makeCurrent();
    pooling.forward(mode, g, x, y);
  }

  @Override
  public synchronized void poolBackward(
      PoolMode mode, ConvGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    device.makeCurrent();
    pooling.backward(mode, g, x, y, dy, dx);
  }

  // ---- batch normalisation --------------------------------------------------------------------

  @Override
  public synchronized void batchNormForwardTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    device.makeCurrent();
    batchNorm.forwardTraining(bn, x, y);
  }

  @Override
  public synchronized void batchNormForwardInference(BatchNormArgs bn, Tensor x, Tensor y) {
    device.makeCurrent();
    batchNorm.forwardInference(bn, x, y);
  }

  @Override
  public synchronized void batchNormBackward(
      BatchNormArgs bn, Tensor x, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    device.makeCurrent();
    batchNorm.backward(bn, x, dy, dx, dGamma, dBeta);
  }

  // ---- activations ----------------------------------------------------------------------------

  @Override
  public synchronized void activationForward(Activation kind, Tensor x, Tensor y) {
    device.makeCurrent();
    activations.forward(kind, x, y);
  }

  @Override
  public synchronized void activationBackward(
      Activation kind, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    device.makeCurrent();
    activations.backward(kind, x, y, dy, dx);
  }

  @Override
  public synchronized void softmaxForward(Tensor x, Tensor y, int rows, int cols) {
    device.makeCurrent();
    activations.softmaxForward(x, y, rows, cols);
  }

  @Override
  public synchronized void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
    device.makeCurrent();
    activations.softmaxBackward(y, dy, dx, rows, cols);
  }

  // ---- losses and metrics ---------------------------------------------------------------------

  @Override
  public synchronized float softmaxCrossEntropy(
      Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols, float gradScale) {
    device.makeCurrent();
    return losses.softmaxCrossEntropy(logits, labels, dLogits, rows, cols, gradScale);
  }

  @Override
  public synchronized float softmaxCrossEntropyDense(
      Tensor logits, Tensor targets, Tensor dLogits, int rows, int cols, float gradScale) {
    device.makeCurrent();
    return losses.softmaxCrossEntropyDense(logits, targets, dLogits, rows, cols, gradScale);
  }

  @Override
  public synchronized float crossEntropyOfProbabilities(
      Tensor probs, Tensor targets, Tensor dProbs, int rows, int cols, float gradScale) {
    device.makeCurrent();
    return losses.crossEntropyOfProbabilities(probs, targets, dProbs, rows, cols, gradScale);
  }

  @Override
  public synchronized float pointwiseLoss(
      PointwiseLoss kind,
      float delta,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      float gradScale) {
    device.makeCurrent();
    return losses.pointwise(kind, delta, predictions, targets, dPredictions, gradScale);
  }

  @Override
  public synchronized float squaredError(
      Tensor predictions, Tensor targets, Tensor dPredictions, float gradScale) {
    device.makeCurrent();
    return losses.squaredError(predictions, targets, dPredictions, gradScale);
  }

  @Override
  public synchronized int countCorrect(Tensor scores, Tensor labels, int rows, int cols) {
    device.makeCurrent();
    return losses.countCorrect(scores, labels, null, rows, cols);
  }

  @Override
  public synchronized int countCorrectDense(Tensor scores, Tensor targets, int rows, int cols) {
    device.makeCurrent();
    return losses.countCorrect(scores, null, targets, rows, cols);
  }

  @Override
  public synchronized void argmax(Tensor scores, int rows, int cols, int[] out) {
    device.makeCurrent();
    losses.argmax(scores, rows, cols, out);
  }

  // ---- regularisation and optimizers ----------------------------------------------------------

  @Override
  public synchronized void dropoutForward(Tensor x, Tensor y, Tensor mask, float rate, long seed) {
    device.makeCurrent();
    elementwise.dropoutForward(x, y, mask, rate, seed);
  }

  @Override
  public synchronized void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
    device.makeCurrent();
    elementwise.dropoutBackward(dy, mask, dx);
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
    device.makeCurrent();
    elementwise.sgdUpdate(param, grad, velocity, lr, momentum, nesterov, weightDecay);
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
    device.makeCurrent();
    elementwise.adamUpdate(
        param, grad, m, v, lr, beta1, beta2, epsilon, step, weightDecay, decoupledWeightDecay);
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
    closed = true;
    device.makeCurrent();
    device.synchronize();
    device.freeAll();
    cudnn.close();
    gemm.close();
    device.close();
  }
}
