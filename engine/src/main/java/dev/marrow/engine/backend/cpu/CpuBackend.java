package dev.marrow.engine.backend.cpu;

import dev.marrow.JvmFlags;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PointwiseLoss;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/**
 * The pure-Java backend: Vector API kernels split over one {@link ThreadTeam} sized to the cores.
 * Each kernel family lives in its own class; this class only routes the SPI to them.
 */
public final class CpuBackend implements Backend {
  private final ThreadTeam team;
  private final Gemm gemm;
  private final ElementwiseKernels elementwise;
  private final BlockCopyKernels blockCopies;
  private final LossKernels losses;
  private final OptimizerKernels optimizers;
  private final ConvKernels convolutions;
  private final DirectConv directConvolution;
  private final WinogradConv winograd;
  private final PoolKernels pooling;
  private final BatchNormKernels batchNorm;

  /** A backend using every available processor. */
  public CpuBackend() {
    this(Runtime.getRuntime().availableProcessors());
  }

  public CpuBackend(int threads) {
    JvmFlags.requireVectorApi(); // before any kernel class loads, with the flags to add
    this.team = new ThreadTeam(threads);
    this.gemm = new Gemm(team);
    this.elementwise = new ElementwiseKernels(team);
    this.blockCopies = new BlockCopyKernels(team);
    this.losses = new LossKernels();
    this.optimizers = new OptimizerKernels(team);
    this.convolutions = new ConvKernels(team, gemm, elementwise);
    this.directConvolution = new DirectConv(team);
    this.winograd = new WinogradConv(team, gemm);
    this.pooling = new PoolKernels(team);
    this.batchNorm = new BatchNormKernels(team);
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int threads() {
    return team.size();
  }

  /**
   * The team's worker threads; a kernel also runs on the thread that calls it. For measurements per
   * thread, such as the allocation test's.
   */
  public List<Thread> workerThreads() {
    return team.workers();
  }

  @Override
  public Tensor allocate(Shape shape) {
    return Tensor.zeros(shape);
  }

  @Override
  public void gemm(
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
    gemm.run(
        transA, transB, m, n, k, alpha, a.array(), aOffset, lda, b.array(), bOffset, ldb, beta,
        c.array(), cOffset, ldc);
  }

  @Override
  public void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    conv2dForward(g, x, w, bias, Activation.LINEAR, y);
  }

  @Override
  public void conv2dForward(
      ConvGeometry g, Tensor x, Tensor w, Tensor bias, Activation kind, Tensor y) {
    // Winograd where it applies and pays, im2col + GEMM everywhere else: im2col beat DirectConv on
    // all the zoo's layer shapes, by 3-29× (bench/run ConvBenchmark; figures in the README).
    requireElementwise(kind);
    float[] b = bias == null ? null : bias.array();
    if (WinogradConv.pays(g, g.c())) {
      winograd.forward(g, x.array(), w.array(), b, kind, y.array());
    } else {
      convolutions.forward(g, x.array(), w.array(), b, kind, y.array());
    }
  }

  /** im2col + GEMM forward regardless of shape (for benchmarks and tests). */
  public void conv2dForwardIm2col(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    convolutions.forward(
        g, x.array(), w.array(), bias == null ? null : bias.array(), Activation.LINEAR, y.array());
  }

  /**
   * Winograd F(2×2, 3×3) forward (3 × 3, stride 1, no dilation, padding ≤ 2), regardless of size.
   */
  public void conv2dForwardWinograd(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    requireWinograd(g);
    winograd.forward(
        g, x.array(), w.array(), bias == null ? null : bias.array(), Activation.LINEAR, y.array());
  }

  /** Direct forward (stride 1, no dilation): the alternative ConvBenchmark measures. */
  public void conv2dForwardDirect(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    if (g.strideH() != 1 || g.strideW() != 1 || g.dilationH() != 1 || g.dilationW() != 1) {
      throw new IllegalArgumentException("direct convolution needs stride 1 and no dilation");
    }
    directConvolution.forward(
        g, x.array(), w.array(), bias == null ? null : bias.array(), y.array());
  }

  @Override
  public void conv2dBackwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    // the backward pass convolves dy's f channels: their number decides, as c does forward
    if (WinogradConv.pays(g, g.f())) {
      winograd.backwardData(g, w.array(), dy.array(), dx.array());
    } else {
      convolutions.backwardData(g, w.array(), dy.array(), dx.array());
    }
  }

  /** im2col + GEMM backward data regardless of shape (for benchmarks and tests). */
  public void conv2dBackwardDataIm2col(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    convolutions.backwardData(g, w.array(), dy.array(), dx.array());
  }

  /** Winograd backward data regardless of size (same conditions as the forward). */
  public void conv2dBackwardDataWinograd(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    requireWinograd(g);
    winograd.backwardData(g, w.array(), dy.array(), dx.array());
  }

  private static void requireWinograd(ConvGeometry g) {
    if (!WinogradConv.applies(g)) {
      throw new IllegalArgumentException(
          "Winograd F(2×2, 3×3) needs a 3×3 filter, stride 1, no dilation and padding of at most"
              + " 2, not "
              + g);
    }
  }

  @Override
  public void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    if (WinogradConv.paysForFilterGradient(g)) {
      winograd.backwardFilter(g, x.array(), dy.array(), dw.array(), beta);
    } else {
      convolutions.backwardFilter(g, x.array(), dy.array(), dw.array(), beta);
    }
  }

  /** im2col + GEMM filter gradient regardless of shape (for benchmarks and tests). */
  public void conv2dBackwardFilterIm2col(
      ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    convolutions.backwardFilter(g, x.array(), dy.array(), dw.array(), beta);
  }

  /** Winograd filter gradient regardless of size (same conditions as the forward). */
  public void conv2dBackwardFilterWinograd(
      ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    requireWinograd(g);
    winograd.backwardFilter(g, x.array(), dy.array(), dw.array(), beta);
  }

  @Override
  public void conv2dBackwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta) {
    convolutions.backwardBias(g, dy.array(), db.array(), beta);
  }

  @Override
  public void poolForward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    pooling.forward(mode, g, x.array(), y.array());
  }

  @Override
  public void poolBackward(
      PoolMode mode, ConvGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    pooling.backward(mode, g, x.array(), y.array(), dy.array(), dx.array());
  }

  @Override
  public void batchNormForwardTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    batchNorm.forwardTraining(bn, x.array(), false, y.array());
  }

  // y written in the normalising pass: one read and write of the activation fewer
  @Override
  public void batchNormReluForwardTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    batchNorm.forwardTraining(bn, x.array(), true, y.array());
  }

  @Override
  public void batchNormForwardInference(BatchNormArgs bn, Tensor x, Tensor y) {
    batchNorm.forwardInference(bn, x.array(), false, y.array());
  }

  @Override
  public void batchNormReluForwardInference(BatchNormArgs bn, Tensor x, Tensor y) {
    batchNorm.forwardInference(bn, x.array(), true, y.array());
  }

  @Override
  public void batchNormBackward(
      BatchNormArgs bn, Tensor x, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    batchNorm.backward(bn, x.array(), dy.array(), false, dx.array(), dGamma.array(), dBeta.array());
  }

  // The ReLU's test recomputed from x and the saved statistics: y is not read, dy not masked first
  @Override
  public void batchNormReluBackward(
      BatchNormArgs bn, Tensor x, Tensor y, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    batchNorm.backward(bn, x.array(), dy.array(), true, dx.array(), dGamma.array(), dBeta.array());
  }

  @Override
  public void biasAdd(Tensor y, Tensor bias, int rows, int cols) {
    elementwise.biasAdd(y.array(), bias.array(), rows, cols);
  }

  @Override
  public void biasActivation(Tensor y, Tensor bias, Activation kind, int rows, int cols) {
    requireElementwise(kind);
    elementwise.biasActivation(y.array(), bias == null ? null : bias.array(), kind, rows, cols);
  }

  private static void requireElementwise(Activation kind) {
    if (kind == Activation.SOFTMAX) {
      throw new IllegalArgumentException("softmax is row-wise: use softmaxForward");
    }
  }

  @Override
  public void biasGrad(Tensor dy, Tensor dBias, int rows, int cols, float beta) {
    elementwise.columnSums(dy.array(), dBias.array(), rows, cols, beta);
  }

  @Override
  public void copy(Tensor src, Tensor dst) {
    Backend.requireSameSize(src, dst);
    elementwise.copy(src.array(), dst.array(), dst.size());
  }

  // one pass: resnet's Add had copied one input, then added the other (two passes of three)
  @Override
  public void add(Tensor a, Tensor b, Tensor y) {
    Backend.requireSameSize(a, y);
    Backend.requireSameSize(b, y);
    elementwise.add(a.array(), b.array(), y.array(), y.size());
  }

  @Override
  public void addRelu(Tensor a, Tensor b, Tensor y) {
    Backend.requireSameSize(a, y);
    Backend.requireSameSize(b, y);
    elementwise.addRelu(a.array(), b.array(), y.array(), y.size());
  }

  @Override
  public void axpy(float alpha, Tensor x, Tensor y) {
    elementwise.axpy(alpha, x.array(), y.array(), y.size());
  }

  @Override
  public float sumOfSquares(Tensor x) {
    double s = 0;
    float[] a = x.array();
    for (int i = 0; i < x.size(); i++) { // once per step per regularised layer: no kernel
      s += (double) a[i] * a[i];
    }
    return (float) s;
  }

  @Override
  public void scale(Tensor x, float alpha) {
    elementwise.scale(x.array(), x.size(), alpha);
  }

  @Override
  public void copyBlocks(
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
    blockCopies.copy(
        src.array(),
        srcOffset,
        srcStride,
        dst.array(),
        dstOffset,
        dstStride,
        blocks,
        blockLength,
        accumulate);
  }

  @Override
  public void multiply(Tensor a, Tensor b, Tensor out, boolean accumulate) {
    Backend.requireSameSize(a, b);
    Backend.requireSameSize(a, out);
    if (accumulate) {
      elementwise.multiplyAdd(a.array(), b.array(), out.array(), out.size());
    } else {
      elementwise.multiply(a.array(), b.array(), out.array(), out.size());
    }
  }

  @Override
  public void activationForward(Activation kind, Tensor x, Tensor y) {
    elementwise.activationForward(kind, x.array(), y.array(), x.size());
  }

  @Override
  public void activationBackward(Activation kind, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    elementwise.activationBackward(
        kind,
        x == null ? null : x.array(),
        y == null ? null : y.array(),
        dy.array(),
        dx.array(),
        dy.size());
  }

  @Override
  public void softmaxForward(Tensor x, Tensor y, int rows, int cols) {
    losses.softmax(x.array(), y.array(), rows, cols);
  }

  @Override
  public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
    losses.softmaxBackward(y.array(), dy.array(), dx.array(), rows, cols);
  }

  @Override
  public float softmaxCrossEntropy(
      Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols, float gradScale) {
    return losses.softmaxCrossEntropy(
        logits.array(),
        labels.array(),
        null,
        dLogits == null ? null : dLogits.array(),
        rows,
        cols,
        gradScale);
  }

  @Override
  public float softmaxCrossEntropyDense(
      Tensor logits, Tensor targets, Tensor dLogits, int rows, int cols, float gradScale) {
    return losses.softmaxCrossEntropy(
        logits.array(),
        null,
        targets.array(),
        dLogits == null ? null : dLogits.array(),
        rows,
        cols,
        gradScale);
  }

  @Override
  public float crossEntropyOfProbabilities(
      Tensor probs, Tensor targets, Tensor dProbs, int rows, int cols, float gradScale) {
    return losses.crossEntropyOfProbabilities(
        probs.array(),
        targets.array(),
        dProbs == null ? null : dProbs.array(),
        rows * cols,
        gradScale);
  }

  @Override
  public float squaredError(
      Tensor predictions, Tensor targets, Tensor dPredictions, float gradScale) {
    return losses.squaredError(
        predictions.array(),
        targets.array(),
        dPredictions == null ? null : dPredictions.array(),
        predictions.size(),
        gradScale);
  }

  @Override
  public float pointwiseLoss(
      PointwiseLoss kind,
      float delta,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      float gradScale) {
    return losses.pointwise(
        kind,
        delta,
        predictions.array(),
        targets.array(),
        dPredictions == null ? null : dPredictions.array(),
        predictions.size(),
        gradScale);
  }

  @Override
  public int countCorrect(Tensor scores, Tensor labels, int rows, int cols) {
    return losses.countCorrect(scores.array(), labels.array(), null, rows, cols);
  }

  @Override
  public int countCorrectDense(Tensor scores, Tensor targets, int rows, int cols) {
    return losses.countCorrect(scores.array(), null, targets.array(), rows, cols);
  }

  @Override
  public void argmax(Tensor scores, int rows, int cols, int[] out) {
    for (int r = 0; r < rows; r++) {
      out[r] = LossKernels.argmax(scores.array(), r * cols, cols);
    }
  }

  @Override
  public void dropoutForward(Tensor x, Tensor y, Tensor mask, float rate, long seed) {
    elementwise.dropoutForward(x.array(), y.array(), mask.array(), x.size(), rate, seed);
  }

  @Override
  public void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
    elementwise.multiply(dy.array(), mask.array(), dx.array(), dy.size());
  }

  @Override
  public void sgdUpdate(
      Tensor param,
      Tensor grad,
      Tensor velocity,
      float lr,
      float momentum,
      boolean nesterov,
      float weightDecay) {
    optimizers.sgd(
        param.array(),
        grad.array(),
        velocity == null ? null : velocity.array(),
        param.size(),
        lr,
        momentum,
        nesterov,
        weightDecay);
  }

  @Override
  public void adamUpdate(
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
    optimizers.adam(
        param.array(),
        grad.array(),
        m.array(),
        v.array(),
        param.size(),
        lr,
        beta1,
        beta2,
        epsilon,
        step,
        weightDecay,
        decoupledWeightDecay);
  }

  @Override
  public void close() {
    team.close();
  }
}
