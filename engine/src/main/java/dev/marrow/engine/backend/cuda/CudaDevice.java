package dev.marrow.engine.backend.cuda;

import dev.marrow.engine.tensor.DeviceBuffer;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The runtime side of one {@link CudaBackend}: its device and primary context, the device buffers
 * it owns, the copies that keep a tensor's host and device copies in step, scratch and workspace
 * memory, and the host scalars cuBLAS and cuDNN read (host pointer mode). The op families reach
 * device memory only through {@link #in}, {@link #out} and {@link #inout}.
 *
 * <p>Not thread-safe by itself: the backend serialises every call.
 */
final class CudaDevice implements AutoCloseable {
  final int ordinal;
  final CudaRuntime.DeviceInfo info;
  final CudaKernels kernels;

  private final Arena arena = Arena.ofShared();

  /** Host constants 1 and 0 (cuDNN's alpha and beta). */
  final MemorySegment one;

  final MemorySegment zero;

  /** One host float for a call's scalar argument or result; calls are serialised. */
  private final MemorySegment scalar;

  private final Set<CudaBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());

  /** Whether the calling thread has this device and context current. */
  private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

  private CudaBuffer scratch;
  private CudaBuffer workspace;
  private boolean closed;

  CudaDevice(int ordinal) {
    this.ordinal = ordinal;
    CudaRuntime.setDevice(ordinal);
    this.info = CudaRuntime.deviceInfo(ordinal);
    this.kernels = new CudaKernels(ordinal, info.major(), info.minor());
    current.set(true);
    this.one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    this.zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
    this.scalar = arena.allocate(ValueLayout.JAVA_FLOAT);
  }

  /** Makes this device and its primary context current on the calling thread (once per thread). */
  void makeCurrent() {
    if (!current.get()) {
      CudaRuntime.setDevice(ordinal);
      kernels.makeCurrent();
      current.set(true);
    }
  }

  // ---- memory ---------------------------------------------------------------------------------

  CudaBuffer newBuffer(int floats) {
    makeCurrent();
    if (closed) {
      throw new IllegalStateException("cuda:" + ordinal + " is closed");
    }
    CudaBuffer b = new CudaBuffer(this, floats);
    synchronized (this) { // a tensor may free its buffer from another thread (forget)
      live.add(b);
    }
    return b;
  }

  synchronized void forget(CudaBuffer buffer) {
    live.remove(buffer);
  }

  synchronized int liveBuffers() {
    return live.size();
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

  /** The device address of a tensor the call reads (uploaded first when the host copy is newer). */
  MemorySegment in(Tensor t) {
    buffer(t);
    return t.deviceForReading().address();
  }

  /** The device address of a tensor the call reads and writes. */
  MemorySegment inout(Tensor t) {
    buffer(t);
    return t.deviceForWriting().address();
  }

  /** The device address of a tensor the call overwrites entirely (nothing is uploaded). */
  MemorySegment out(Tensor t) {
    buffer(t);
    return t.deviceForOverwriting().address();
  }

  /** At least {@code floats} floats of device memory, valid until the next call of this method. */
  MemorySegment scratch(int floats) {
    if (scratch == null || scratch.floats() < floats) {
      if (scratch != null) {
        scratch.free();
      }
      scratch = newBuffer(Math.max(floats, 1024));
    }
    return scratch.address();
  }

  /** A cuDNN workspace of {@code bytes}, or NULL for none; grown, never shrunk. */
  MemorySegment workspace(long bytes) {
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

  /** {@code v} in host memory, for a library's scalar argument. */
  MemorySegment hostFloat(float v) {
    scalar.set(ValueLayout.JAVA_FLOAT, 0, v);
    return scalar;
  }

  /** The host float a library call wrote its result into ({@link #resultSlot()}). */
  float readScalar() {
    return scalar.get(ValueLayout.JAVA_FLOAT, 0);
  }

  /** Host memory for one float result (cuBLAS' dot and asum, host pointer mode). */
  MemorySegment resultSlot() {
    return scalar;
  }

  // ---- copies and synchronisation ---------------------------------------------------------------

  void copy(MemorySegment dst, MemorySegment src, int floats) {
    CudaRuntime.copyOnDevice(dst, src, 4L * floats);
  }

  /** Copies {@code floats} floats from device memory into a new array. */
  float[] download(MemorySegment src, int floats) {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment host = call.allocate(ValueLayout.JAVA_FLOAT, floats);
      CudaRuntime.copyToHost(host, src, 4L * floats);
      return host.toArray(ValueLayout.JAVA_FLOAT);
    }
  }

  /** Waits for all work queued on the device. */
  void synchronize() {
    CudaRuntime.synchronize();
  }

  /** Frees every buffer still owned; later allocations fail. */
  void freeAll() {
    closed = true;
    List<CudaBuffer> owned;
    synchronized (this) {
      owned = new ArrayList<>(live);
    }
    for (CudaBuffer b : owned) {
      b.free();
    }
  }

  /** Unloads the kernels and releases the primary context; call after {@link #freeAll}. */
  @Override
  public void close() {
    kernels.close();
    arena.close();
  }
}
