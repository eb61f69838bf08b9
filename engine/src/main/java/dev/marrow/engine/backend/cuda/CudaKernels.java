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
import java.util.Arrays;
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
 * <p>NVRTC makes machine code (a CUBIN) for the device whenever it knows the device's architecture,
 * and PTX only for a device newer than it (see {@link #target}): the driver compiles PTX only of an
 * ISA version it knows, so PTX from an NVRTC newer than the driver (a pip-installed CUDA 12.9 NVRTC
 * beside a CUDA 12.2 driver) fails to load with {@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION}, while
 * machine code runs on any driver of its CUDA major version (CUDA's minor-version compatibility).
 * PyTorch's NVRTC path makes the same choice.
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

  /** What NVRTC was asked for: {@code sm_XY} machine code or {@code compute_XY} PTX. */
  private final Target target;

  /** NVRTC's version, major.minor. */
  private final String nvrtc;

  CudaKernels(int ordinal, int major, int minor) {
    JCudaDriver.setExceptionsEnabled(true);
    cuInit(0);
    cuDeviceGet(device, ordinal);
    cuDevicePrimaryCtxRetain(context, device);
    try {
      makeCurrent();
      nvrtc = nvrtcVersion();
      target = target(major * 10 + minor, supportedArchitectures(), nvrtc);
      byte[] image = compile(source(), target);
      try {
        cuModuleLoadData(module, image);
      } catch (jcuda.CudaException e) {
        throw new IllegalStateException(
            "the CUDA driver ("
                + CudaRuntime.driverVersion()
                + ") cannot load the kernels NVRTC built ("
                + describe()
                + "): "
                + e.getMessage()
                + ". A driver runs machine code of its own CUDA major version and PTX no newer"
                + " than itself: update the driver, or put an NVRTC of the driver's CUDA release"
                + " first on MARROW_CUDA_LIB.",
            e);
      }
    } catch (RuntimeException e) {
      cuDevicePrimaryCtxRelease(device);
      throw e;
    }
  }

  /**
   * NVRTC's output for a device of architecture {@code arch} (10 · major + minor): machine code for
   * that architecture when it is among {@code supported} (NVRTC's list), else PTX for the newest
   * supported one below it, which the driver compiles for the device when the module loads (a GPU
   * newer than this NVRTC). A device older than every supported architecture (CUDA 13's NVRTC
   * starts at sm_75) is an error that says which NVRTC would do.
   */
  static Target target(int arch, int[] supported, String nvrtcVersion) {
    int below = 0;
    for (int a : supported) {
      if (a == arch) {
        return new Target("sm_" + arch, true);
      }
      if (a < arch) {
        below = Math.max(below, a);
      }
    }
    if (below == 0) {
      throw new IllegalStateException(
          "NVRTC "
              + nvrtcVersion
              + " cannot compile for this GPU (sm_"
              + arch
              + "): it supports sm_"
              + Arrays.stream(supported).min().orElse(0)
              + " to sm_"
              + Arrays.stream(supported).max().orElse(0)
              + ". Put an NVRTC of an earlier CUDA release (12.x for sm_50 to sm_72) first on"
              + " MARROW_CUDA_LIB.");
    }
    return new Target("compute_" + below, false);
  }

  /**
   * An NVRTC target: {@code name} goes into {@code --gpu-architecture}; {@code machineCode} says
   * whether the module is loaded from the CUBIN (sm_XY) or from PTX (compute_XY).
   */
  record Target(String name, boolean machineCode) {}

  /** How the kernels were built, e.g. "NVRTC 12.6, sm_90 machine code". */
  String describe() {
    return "NVRTC "
        + nvrtc
        + ", "
        + target.name()
        + (target.machineCode() ? " machine code" : " PTX compiled by the driver");
  }

  /** NVRTC's architectures, as 10 · major + minor. */
  private static int[] supportedArchitectures() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
      CudaStatus.nvrtc(nvrtc_h.nvrtcGetNumSupportedArchs(count), "nvrtcGetNumSupportedArchs");
      MemorySegment archs =
          arena.allocate(ValueLayout.JAVA_INT, count.get(ValueLayout.JAVA_INT, 0));
      CudaStatus.nvrtc(nvrtc_h.nvrtcGetSupportedArchs(archs), "nvrtcGetSupportedArchs");
      return archs.toArray(ValueLayout.JAVA_INT);
    }
  }

  private static String nvrtcVersion() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment major = arena.allocate(ValueLayout.JAVA_INT);
      MemorySegment minor = arena.allocate(ValueLayout.JAVA_INT);
      CudaStatus.nvrtc(nvrtc_h.nvrtcVersion(major, minor), "nvrtcVersion");
      return major.get(ValueLayout.JAVA_INT, 0) + "." + minor.get(ValueLayout.JAVA_INT, 0);
    }
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

  /**
   * The module image for {@code source}: the CUBIN for a machine-code target, else the PTX with its
   * terminating NUL; or an exception carrying NVRTC's log.
   */
  private static byte[] compile(String source, Target target) {
    String architecture = "--gpu-architecture=" + target.name();
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
        if (target.machineCode()) {
          CudaStatus.nvrtc(nvrtc_h.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
          MemorySegment cubin = arena.allocate(size.get(ValueLayout.JAVA_LONG, 0));
          CudaStatus.nvrtc(nvrtc_h.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
          return cubin.toArray(ValueLayout.JAVA_BYTE);
        }
        CudaStatus.nvrtc(nvrtc_h.nvrtcGetPTXSize(program, size), "nvrtcGetPTXSize");
        MemorySegment ptx = arena.allocate(size.get(ValueLayout.JAVA_LONG, 0)); // NUL included
        CudaStatus.nvrtc(nvrtc_h.nvrtcGetPTX(program, ptx), "nvrtcGetPTX");
        return ptx.toArray(ValueLayout.JAVA_BYTE);
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
