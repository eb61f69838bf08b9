package dev.marrow.engine.backend.cuda;

import dev.marrow.engine.tensor.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A cudaMalloc'd float buffer owned by one {@link CudaDevice}, which frees it at the latest. */
final class CudaBuffer implements DeviceBuffer {
  private final CudaDevice owner;
  private final int floats;
  private MemorySegment address;

  CudaBuffer(CudaDevice owner, int floats) {
    this.owner = owner;
    this.floats = floats;
    this.address = CudaRuntime.malloc(4L * floats);
    CudaRuntime.memset(address, 4L * floats);
  }

  int floats() {
    return floats;
  }

  @Override
  public MemorySegment address() {
    if (address == null) {
      throw new IllegalStateException("device buffer used after it was freed");
    }
    return address;
  }

  @Override
  public Object owner() {
    return owner;
  }

  @Override
  public void upload(float[] src) {
    owner.makeCurrent();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment staging = arena.allocateFrom(ValueLayout.JAVA_FLOAT, src);
      CudaRuntime.copyToDevice(address(), staging, 4L * floats);
    }
  }

  @Override
  public void download(float[] dst) {
    owner.makeCurrent();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment staging = arena.allocate(ValueLayout.JAVA_FLOAT, floats);
      CudaRuntime.copyToHost(staging, address(), 4L * floats);
      MemorySegment.copy(staging, ValueLayout.JAVA_FLOAT, 0, dst, 0, floats);
    }
  }

  @Override
  public void free() {
    MemorySegment a;
    synchronized (this) {
      a = address;
      address = null;
    }
    if (a != null) {
      owner.forget(this);
      CudaRuntime.free(a);
    }
  }
}
