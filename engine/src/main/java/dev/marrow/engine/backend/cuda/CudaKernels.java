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

import dev.marrow.bindings.CudaException;
import dev.marrow.bindings.CudaStatus;
import dev.marrow.bindings.nvrtc.nvrtc_h;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

/**
 * The fused kernels of {@code kernels.cu}, compiled once per backend by NVRTC for the device's
 * compute capability and launched through the driver API on the device's primary context — the one
 * the runtime API, cuBLAS and cuDNN use too, on the same default stream, so all work is ordered
 * without events.
 *
 * <p>NVRTC is called through the jextract bindings, so it works with whichever {@code
 * libnvrtc.so.N} the locator loaded (CUDA 13 machines have only {@code .so.13}); JCuda's NVRTC
 * binding is linked against {@code libnvrtc.so.12}. The driver API ({@code libcuda.so.1} on CUDA 12
 * and 13) stays on JCuda.
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

  /** PTX for {@code source}, or an exception carrying NVRTC's log. */
  private static String compile(String source, String architecture) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
      CudaStatus.nvrtc(
          nvrtc_h.nvrtcCreateProgram(
              slot,
              arena.allocateFrom(source),
              arena.allocateFrom(SOURCE_RESOURCE),
              0,
              MemorySegment.NULL,
              MemorySegment.NULL),
          "nvrtcCreateProgram");
      MemorySegment program = slot.get(ValueLayout.ADDRESS, 0);
      try {
        MemorySegment options = arena.allocate(ValueLayout.ADDRESS);
        options.set(ValueLayout.ADDRESS, 0, arena.allocateFrom(architecture));
        try {
          CudaStatus.nvrtc(nvrtc_h.nvrtcCompileProgram(program, 1, options), "nvrtcCompileProgram");
        } catch (CudaException e) {
          throw new IllegalStateException(
              "NVRTC could not compile "
                  + SOURCE_RESOURCE
                  + " for "
                  + architecture
                  + ": "
                  + e.getMessage()
                  + "\n"
                  + log(arena, program),
              e);
        }
        MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
        CudaStatus.nvrtc(nvrtc_h.nvrtcGetPTXSize(program, size), "nvrtcGetPTXSize");
        MemorySegment ptx = arena.allocate(size.get(ValueLayout.JAVA_LONG, 0) + 1);
        CudaStatus.nvrtc(nvrtc_h.nvrtcGetPTX(program, ptx), "nvrtcGetPTX");
        return ptx.getString(0);
      } finally {
        slot.set(ValueLayout.ADDRESS, 0, program);
        CudaStatus.nvrtc(nvrtc_h.nvrtcDestroyProgram(slot), "nvrtcDestroyProgram");
      }
    }
  }

  private static String log(Arena arena, MemorySegment program) {
    MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
    CudaStatus.nvrtc(nvrtc_h.nvrtcGetProgramLogSize(program, size), "nvrtcGetProgramLogSize");
    MemorySegment log = arena.allocate(size.get(ValueLayout.JAVA_LONG, 0) + 1);
    CudaStatus.nvrtc(nvrtc_h.nvrtcGetProgramLog(program, log), "nvrtcGetProgramLog");
    return log.getString(0);
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
