package dev.marrow.engine.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A tensor's copy in an accelerator's memory, owned by the backend that allocated it. The backend
 * frees every buffer it still owns when it closes; {@link Tensor#releaseDevice()} frees one early.
 */
public interface DeviceBuffer {

  /** The device address (a zero-length segment: it is never dereferenced on the host). */
  MemorySegment address();

  /** The backend that allocated the buffer: only it may launch work on it. */
  Object owner();

  /** Copies all {@code src.length} floats from the host into the buffer. */
  void upload(float[] src);

  /** Copies the whole buffer into {@code dst}. */
  void download(float[] dst);

  /** Returns the memory to the device; the buffer is unusable afterwards. */
  void free();
}
