package dev.marrow.engine.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

/**
 * The fused kernels of {@code kernels.cu}, compiled once per backend by NVRTC (through JCuda) for
 * the device's compute capability and launched through the driver API on the device's primary
 * context — the one the runtime API, cuBLAS and cuDNN use too, on the same default stream, so all
 * work is ordered without events.
 */
final class CudaKernels implements AutoCloseable {
  static final String SOURCE_RESOURCE = "kernels.cu";
  private static final int BLOCK = 256;

  private final CUdevice device = new CUdevice();
  private final CUcontext context = new CUcontext();
  private final CUmodule module = new CUmodule();
  private final Map<String, CUfunction> functions = new HashMap<>();

  CudaKernels(int ordinal, int major, int minor) {
    JCudaDriver.setExceptionsEnabled(true);
    JNvrtc.setExceptionsEnabled(true);
    cuInit(0);
    cuDeviceGet(device, ordinal);
    cuDevicePrimaryCtxRetain(context, device);
    makeCurrent();
    String ptx = compile(source(), "--gpu-architecture=compute_" + major + minor);
    cuModuleLoadData(module, ptx);
  }

  /** The kernel source as shipped in the engine jar. */
  static String source() {
    try (InputStream in = CudaKernels.class.getResourceAsStream(SOURCE_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(SOURCE_RESOURCE + " is missing from the engine jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String compile(String source, String architecture) {
    nvrtcProgram program = new nvrtcProgram();
    JNvrtc.nvrtcCreateProgram(program, source, SOURCE_RESOURCE, 0, null, null);
    try {
      JNvrtc.nvrtcCompileProgram(program, 1, new String[] {architecture});
      String[] ptx = new String[1];
      JNvrtc.nvrtcGetPTX(program, ptx);
      return ptx[0];
    } catch (jcuda.CudaException e) {
      String[] log = new String[1];
      JNvrtc.nvrtcGetProgramLog(program, log);
      throw new IllegalStateException(
          "NVRTC could not compile "
              + SOURCE_RESOURCE
              + " for "
              + architecture
              + ": "
              + e.getMessage()
              + "\n"
              + log[0],
          e);
    } finally {
      JNvrtc.nvrtcDestroyProgram(program);
    }
  }

  /** Makes the primary context current on the calling thread. */
  void makeCurrent() {
    cuCtxSetCurrent(context);
  }

  /** Launches {@code name} with one thread per work item. */
  void launch(String name, int items, Args args) {
    if (items <= 0) {
      return;
    }
    CUfunction f =
        functions.computeIfAbsent(
            name,
            n -> {
              CUfunction fn = new CUfunction();
              cuModuleGetFunction(fn, module, n);
              return fn;
            });
    int blocks = (items + BLOCK - 1) / BLOCK;
    cuLaunchKernel(f, blocks, 1, 1, BLOCK, 1, 1, 0, null, args.pointer(), null);
  }

  @Override
  public void close() {
    cuModuleUnload(module);
    cuDevicePrimaryCtxRelease(device);
  }

  /** Kernel arguments in declaration order, as cuLaunchKernel's array of argument pointers. */
  static final class Args {
    private final List<NativePointerObject> values = new ArrayList<>();

    Args ptr(MemorySegment device) {
      values.add(Pointer.to(new long[] {device == null ? 0 : device.address()}));
      return this;
    }

    Args f(float v) {
      values.add(Pointer.to(new float[] {v}));
      return this;
    }

    Args d(double v) {
      values.add(Pointer.to(new double[] {v}));
      return this;
    }

    Args i(int v) {
      values.add(Pointer.to(new int[] {v}));
      return this;
    }

    Args l(long v) {
      values.add(Pointer.to(new long[] {v}));
      return this;
    }

    Pointer pointer() {
      return Pointer.to(values.toArray(new NativePointerObject[0]));
    }
  }
}
