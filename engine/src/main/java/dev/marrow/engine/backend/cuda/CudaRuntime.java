package dev.marrow.engine.backend.cuda;

import static dev.marrow.bindings.CudaStatus.runtime;

import dev.marrow.bindings.cudart.cudart_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA runtime calls Marrow makes, over the jextract bindings, each checked. Memory copies take
 * off-heap host segments: the bindings are plain downcalls, which may not see the Java heap.
 */
final class CudaRuntime {
  private CudaRuntime() {}

  /** What the runtime reports about one device. */
  record DeviceInfo(
      int ordinal, String name, int major, int minor, int multiprocessors, long totalMemory) {
    @Override
    public String toString() {
      return String.format(
          "cuda:%d %s (compute capability %d.%d, %d SMs, %.1f GiB)",
          ordinal, name, major, minor, multiprocessors, totalMemory / (double) (1L << 30));
    }
  }

  static int deviceCount() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
      int status = cudart_h.cudaGetDeviceCount(count);
      // "no device" and "no driver" mean zero devices here, not a failure.
      if (status == cudart_h.cudaErrorNoDevice()
          || status == cudart_h.cudaErrorInsufficientDriver()) {
        return 0;
      }
      runtime(status, "cudaGetDeviceCount");
      return count.get(ValueLayout.JAVA_INT, 0);
    }
  }

  /**
   * Name and memory from the driver API, the rest from cudaDeviceGetAttribute: never from {@code
   * cudaDeviceProp}, whose layout changed between CUDA 12 and 13 while the bindings know one.
   */
  static DeviceInfo deviceInfo(int ordinal) {
    JCudaDriver.setExceptionsEnabled(true);
    JCudaDriver.cuInit(0);
    CUdevice device = new CUdevice();
    JCudaDriver.cuDeviceGet(device, ordinal);
    byte[] name = new byte[256];
    JCudaDriver.cuDeviceGetName(name, name.length, device);
    long[] totalMemory = new long[1];
    JCudaDriver.cuDeviceTotalMem(totalMemory, device);
    int length = 0;
    while (length < name.length && name[length] != 0) {
      length++;
    }
    try (Arena arena = Arena.ofConfined()) {
      return new DeviceInfo(
          ordinal,
          new String(name, 0, length, StandardCharsets.UTF_8),
          attribute(arena, cudart_h.cudaDevAttrComputeCapabilityMajor(), ordinal),
          attribute(arena, cudart_h.cudaDevAttrComputeCapabilityMinor(), ordinal),
          attribute(arena, cudart_h.cudaDevAttrMultiProcessorCount(), ordinal),
          totalMemory[0]);
    }
  }

  private static int attribute(Arena arena, int attribute, int ordinal) {
    MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
    runtime(cudart_h.cudaDeviceGetAttribute(value, attribute, ordinal), "cudaDeviceGetAttribute");
    return value.get(ValueLayout.JAVA_INT, 0);
  }

  /** "12.6" style runtime and driver versions. */
  static String versions() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
      runtime(cudart_h.cudaRuntimeGetVersion(v), "cudaRuntimeGetVersion");
      return "runtime "
          + majorMinor(v.get(ValueLayout.JAVA_INT, 0))
          + ", driver "
          + driverVersion();
    }
  }

  /** The CUDA version the driver supports, "12.6" style. */
  static String driverVersion() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
      runtime(cudart_h.cudaDriverGetVersion(v), "cudaDriverGetVersion");
      return majorMinor(v.get(ValueLayout.JAVA_INT, 0));
    }
  }

  // CUDA's version numbers are 1000 · major + 10 · minor.
  private static String majorMinor(int version) {
    return version / 1000 + "." + version % 1000 / 10;
  }

  /** Device memory in use on the current device, all processes together (total − free). */
  static long memoryInUse() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
      MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
      runtime(cudart_h.cudaMemGetInfo(free, total), "cudaMemGetInfo");
      return total.get(ValueLayout.JAVA_LONG, 0) - free.get(ValueLayout.JAVA_LONG, 0);
    }
  }

  static void setDevice(int ordinal) {
    runtime(cudart_h.cudaSetDevice(ordinal), "cudaSetDevice");
  }

  /** cudaMalloc; the caller owns the returned address. */
  static MemorySegment malloc(long bytes) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment slot = arena.allocate(ValueLayout.ADDRESS);
      runtime(cudart_h.cudaMalloc(slot, Math.max(bytes, 4)), "cudaMalloc(" + bytes + " bytes)");
      return slot.get(ValueLayout.ADDRESS, 0);
    }
  }

  static void free(MemorySegment device) {
    runtime(cudart_h.cudaFree(device), "cudaFree");
  }

  static void memset(MemorySegment device, long bytes) {
    runtime(cudart_h.cudaMemset(device, 0, bytes), "cudaMemset");
  }

  static void copyToDevice(MemorySegment device, MemorySegment host, long bytes) {
    runtime(
        cudart_h.cudaMemcpy(device, host, bytes, cudart_h.cudaMemcpyHostToDevice()),
        "cudaMemcpy(host to device)");
  }

  static void copyToHost(MemorySegment host, MemorySegment device, long bytes) {
    runtime(
        cudart_h.cudaMemcpy(host, device, bytes, cudart_h.cudaMemcpyDeviceToHost()),
        "cudaMemcpy(device to host)");
  }

  static void copyOnDevice(MemorySegment dst, MemorySegment src, long bytes) {
    runtime(
        cudart_h.cudaMemcpy(dst, src, bytes, cudart_h.cudaMemcpyDeviceToDevice()),
        "cudaMemcpy(device to device)");
  }

  static void synchronize() {
    runtime(cudart_h.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }

  /** The address {@code floats} elements past {@code base}. */
  static MemorySegment offset(MemorySegment base, long floats) {
    return floats == 0 ? base : MemorySegment.ofAddress(base.address() + 4 * floats);
  }
}
