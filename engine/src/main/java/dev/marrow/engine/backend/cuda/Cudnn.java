package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.cudnn;

import dev.marrow.bindings.cudnn.cudnnConvolutionBwdDataAlgoPerfStruct;
import dev.marrow.bindings.cudnn.cudnnConvolutionBwdFilterAlgoPerfStruct;
import dev.marrow.bindings.cudnn.cudnnConvolutionFwdAlgoPerfStruct;
import dev.marrow.bindings.cudnn.cudnn_h;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * The cuDNN handle and every descriptor the backend has needed, created once per shape and
 * destroyed with the handle. Convolutions also cache their algorithm choices (cuDNN's own {@code
 * _v7} heuristics ranking, deterministic algorithms only in deterministic mode) and workspace
 * sizes. Pooling and activations propagate NaN, as the CPU backend does.
 */
final class Cudnn implements AutoCloseable {
  final MemorySegment handle;
  private final Arena arena = Arena.ofShared();
  private final Map<List<Integer>, MemorySegment> tensors = new HashMap<>();
  private final Map<ConvGeometry, Convolution> convolutions = new HashMap<>();
  private final Map<List<Object>, MemorySegment> poolings = new HashMap<>();
  private final Map<Integer, MemorySegment> activations = new HashMap<>();
  private final List<Runnable> destroyers = new ArrayList<>();

  /** The descriptors and algorithm choices of one convolution geometry. */
  record Convolution(
      MemorySegment x,
      MemorySegment w,
      MemorySegment y,
      MemorySegment conv,
      MemorySegment bias,
      int forwardAlgo,
      int backwardDataAlgo,
      int backwardFilterAlgo,
      long workspaceBytes) {}

  /** Whether convolutions may use TF32 tensor cores (opt-in). */
  private final boolean tf32;

  /** Whether only algorithms that cuDNN reports deterministic may run. */
  private final boolean deterministic;

  Cudnn(boolean tf32, boolean deterministic) {
    this.tf32 = tf32;
    this.deterministic = deterministic;
    MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
    cudnn(cudnn_h.cudnnCreate(slot), "cudnnCreate");
    handle = slot.get(ValueLayout.ADDRESS, 0);
  }

  static String version() {
    long v = cudnn_h.cudnnGetVersion();
    return v / 10000 + "." + v % 10000 / 100 + "." + v % 100;
  }

  /** A float NCHW descriptor for (n, c, h, w). */
  MemorySegment tensor(int n, int c, int h, int w) {
    return tensors.computeIfAbsent(
        List.of(n, c, h, w),
        k -> {
          MemorySegment d =
              create(
                  cudnn_h::cudnnCreateTensorDescriptor,
                  cudnn_h::cudnnDestroyTensorDescriptor,
                  "cudnnCreateTensorDescriptor");
          cudnn(
              cudnn_h.cudnnSetTensor4dDescriptor(
                  d, cudnn_h.CUDNN_TENSOR_NCHW(), cudnn_h.CUDNN_DATA_FLOAT(), n, c, h, w),
              "cudnnSetTensor4dDescriptor(" + k + ")");
          return d;
        });
  }

  Convolution convolution(ConvGeometry g, long workspaceLimit) {
    Convolution cached = convolutions.get(g);
    if (cached != null) {
      return cached;
    }
    MemorySegment x = tensor(g.n(), g.c(), g.h(), g.w());
    MemorySegment y = tensor(g.n(), g.f(), g.outH(), g.outW());
    MemorySegment w =
        create(
            cudnn_h::cudnnCreateFilterDescriptor,
            cudnn_h::cudnnDestroyFilterDescriptor,
            "cudnnCreateFilterDescriptor");
    // Filter descriptors take (dataType, format); tensor descriptors (format, dataType).
    cudnn(
        cudnn_h.cudnnSetFilter4dDescriptor(
            w,
            cudnn_h.CUDNN_DATA_FLOAT(),
            cudnn_h.CUDNN_TENSOR_NCHW(),
            g.f(),
            g.c(),
            g.kh(),
            g.kw()),
        "cudnnSetFilter4dDescriptor");
    MemorySegment conv =
        create(
            cudnn_h::cudnnCreateConvolutionDescriptor,
            cudnn_h::cudnnDestroyConvolutionDescriptor,
            "cudnnCreateConvolutionDescriptor");
    cudnn(
        cudnn_h.cudnnSetConvolution2dDescriptor(
            conv,
            g.padTop(),
            g.padLeft(),
            g.strideH(),
            g.strideW(),
            g.dilationH(),
            g.dilationW(),
            cudnn_h.CUDNN_CROSS_CORRELATION(),
            cudnn_h.CUDNN_DATA_FLOAT()),
        "cudnnSetConvolution2dDescriptor");
    // FP32 stays FP32: CUDNN_DEFAULT_MATH lets cuDNN run FP32 convolutions in TF32 on sm_80 and
    // newer, so FMA math it is unless the user opts into TF32, which TENSOR_OP_MATH allows (the
    // ALLOW_CONVERSION variant would also allow FP16 down-conversion).
    cudnn(
        cudnn_h.cudnnSetConvolutionMathType(
            conv, tf32 ? cudnn_h.CUDNN_TENSOR_OP_MATH() : cudnn_h.CUDNN_FMA_MATH()),
        "cudnnSetConvolutionMathType");
    try (Arena a = Arena.ofConfined()) {
      MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
      MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
      int requested = 8;
      MemorySegment fwd = a.allocate(cudnnConvolutionFwdAlgoPerfStruct.layout(), requested);
      cudnn(
          cudnn_h.cudnnGetConvolutionForwardAlgorithm_v7(
              handle, x, w, conv, y, requested, count, fwd),
          "cudnnGetConvolutionForwardAlgorithm_v7");
      int fa =
          pick(
              fwd,
              count,
              cudnnConvolutionFwdAlgoPerfStruct.layout().byteSize(),
              workspaceLimit,
              cudnnConvolutionFwdAlgoPerfStruct::status,
              cudnnConvolutionFwdAlgoPerfStruct::memory,
              cudnnConvolutionFwdAlgoPerfStruct::determinism,
              cudnnConvolutionFwdAlgoPerfStruct::algo);
      cudnn(
          cudnn_h.cudnnGetConvolutionForwardWorkspaceSize(handle, x, w, conv, y, fa, size),
          "cudnnGetConvolutionForwardWorkspaceSize");
      long workspace = size.get(ValueLayout.JAVA_LONG, 0);

      MemorySegment bwdData = a.allocate(cudnnConvolutionBwdDataAlgoPerfStruct.layout(), requested);
      cudnn(
          cudnn_h.cudnnGetConvolutionBackwardDataAlgorithm_v7(
              handle, w, y, conv, x, requested, count, bwdData),
          "cudnnGetConvolutionBackwardDataAlgorithm_v7");
      int da =
          pick(
              bwdData,
              count,
              cudnnConvolutionBwdDataAlgoPerfStruct.layout().byteSize(),
              workspaceLimit,
              cudnnConvolutionBwdDataAlgoPerfStruct::status,
              cudnnConvolutionBwdDataAlgoPerfStruct::memory,
              cudnnConvolutionBwdDataAlgoPerfStruct::determinism,
              cudnnConvolutionBwdDataAlgoPerfStruct::algo);
      cudnn(
          cudnn_h.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, w, y, conv, x, da, size),
          "cudnnGetConvolutionBackwardDataWorkspaceSize");
      workspace = Math.max(workspace, size.get(ValueLayout.JAVA_LONG, 0));

      MemorySegment bwdFilter =
          a.allocate(cudnnConvolutionBwdFilterAlgoPerfStruct.layout(), requested);
      cudnn(
          cudnn_h.cudnnGetConvolutionBackwardFilterAlgorithm_v7(
              handle, x, y, conv, w, requested, count, bwdFilter),
          "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
      int wa =
          pick(
              bwdFilter,
              count,
              cudnnConvolutionBwdFilterAlgoPerfStruct.layout().byteSize(),
              workspaceLimit,
              cudnnConvolutionBwdFilterAlgoPerfStruct::status,
              cudnnConvolutionBwdFilterAlgoPerfStruct::memory,
              cudnnConvolutionBwdFilterAlgoPerfStruct::determinism,
              cudnnConvolutionBwdFilterAlgoPerfStruct::algo);
      cudnn(
          cudnn_h.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, x, y, conv, w, wa, size),
          "cudnnGetConvolutionBackwardFilterWorkspaceSize");
      workspace = Math.max(workspace, size.get(ValueLayout.JAVA_LONG, 0));

      Convolution c = new Convolution(x, w, y, conv, tensor(1, g.f(), 1, 1), fa, da, wa, workspace);
      convolutions.put(g, c);
      return c;
    }
  }

  /**
   * The first algorithm in cuDNN's ranking that succeeded, fits the workspace limit and, in
   * deterministic mode, is one cuDNN reports deterministic (some backward algorithms accumulate
   * with atomics, in an order that changes from run to run).
   */
  private int pick(
      MemorySegment results,
      MemorySegment count,
      long stride,
      long workspaceLimit,
      ToIntFunction<MemorySegment> status,
      ToLongFunction<MemorySegment> memory,
      ToIntFunction<MemorySegment> determinism,
      ToIntFunction<MemorySegment> algo) {
    int n = count.get(ValueLayout.JAVA_INT, 0);
    for (int i = 0; i < n; i++) {
      MemorySegment r = results.asSlice(i * stride, stride);
      if (status.applyAsInt(r) == cudnn_h.CUDNN_STATUS_SUCCESS()
          && memory.applyAsLong(r) <= workspaceLimit
          && (!deterministic || determinism.applyAsInt(r) == cudnn_h.CUDNN_DETERMINISTIC())) {
        return algo.applyAsInt(r);
      }
    }
    throw new IllegalStateException(
        "cuDNN offered no "
            + (deterministic ? "deterministic " : "")
            + "convolution algorithm that fits "
            + workspaceLimit
            + " bytes of workspace ("
            + n
            + " candidates)");
  }

  MemorySegment pooling(PoolMode mode, ConvGeometry g) {
    return poolings.computeIfAbsent(
        List.of(mode, g.kh(), g.kw(), g.padTop(), g.padLeft(), g.strideH(), g.strideW()),
        k -> {
          if (g.dilationH() != 1 || g.dilationW() != 1) {
            throw new UnsupportedOperationException("cuDNN pooling has no dilation: " + g);
          }
          MemorySegment d =
              create(
                  cudnn_h::cudnnCreatePoolingDescriptor,
                  cudnn_h::cudnnDestroyPoolingDescriptor,
                  "cudnnCreatePoolingDescriptor");
          int cudnnMode =
              switch (mode) {
                // The deterministic max mode routes each gradient to one maximum, as the Backend
                // says.
                case MAX -> cudnn_h.CUDNN_POOLING_MAX_DETERMINISTIC();
                case AVERAGE_EXCLUDE_PADDING ->
                    cudnn_h.CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING();
                case AVERAGE_INCLUDE_PADDING ->
                    cudnn_h.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING();
              };
          cudnn(
              cudnn_h.cudnnSetPooling2dDescriptor(
                  d,
                  cudnnMode,
                  cudnn_h.CUDNN_PROPAGATE_NAN(), // a NaN in a window is its maximum, as on the CPU
                  g.kh(),
                  g.kw(),
                  g.padTop(),
                  g.padLeft(),
                  g.strideH(),
                  g.strideW()),
              "cudnnSetPooling2dDescriptor");
          return d;
        });
  }

  MemorySegment activation(int cudnnMode) {
    return activations.computeIfAbsent(
        cudnnMode,
        k -> {
          MemorySegment d =
              create(
                  cudnn_h::cudnnCreateActivationDescriptor,
                  cudnn_h::cudnnDestroyActivationDescriptor,
                  "cudnnCreateActivationDescriptor");
          cudnn(
              cudnn_h.cudnnSetActivationDescriptor(
                  d,
                  cudnnMode,
                  cudnn_h.CUDNN_PROPAGATE_NAN(),
                  0.0), // relu(NaN) = NaN, as on the CPU
              "cudnnSetActivationDescriptor");
          return d;
        });
  }

  private interface Creator {
    int create(MemorySegment slot);
  }

  private interface Destroyer {
    int destroy(MemorySegment descriptor);
  }

  private MemorySegment create(Creator creator, Destroyer destroyer, String function) {
    MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
    cudnn(creator.create(slot), function);
    MemorySegment d = slot.get(ValueLayout.ADDRESS, 0);
    destroyers.add(() -> cudnn(destroyer.destroy(d), function.replace("Create", "Destroy")));
    return d;
  }

  @Override
  public void close() {
    for (int i = destroyers.size() - 1; i >= 0; i--) {
      destroyers.get(i).run();
    }
    destroyers.clear();
    cudnn(cudnn_h.cudnnDestroy(handle), "cudnnDestroy");
    arena.close();
  }
}
