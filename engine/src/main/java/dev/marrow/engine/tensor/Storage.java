package dev.marrow.engine.tensor;

/**
 * The elements behind a tensor and its reshaped views, kept on the host, on a device, or on both,
 * with lazy copies between them — Caffe's SyncedMemory protocol. A CPU tensor only ever has the
 * host array, so its accessors reduce to one null check. On a device, a training step's kernels
 * read and write the device copy only; the host copy is refreshed when host code asks for it (a
 * loss value, saving the weights) and pushed back before the next kernel when host code has written
 * it (an input batch, loading weights).
 */
final class Storage {
  private final int size;

  /**
   * Set once for storage a plan lends memory to: this storage is the first {@code size} elements of
   * {@code target}'s, shared with other buffers whose lifetimes do not overlap this one's. Every
   * access goes to the target, so host/device sync state is kept once, where the memory is.
   */
  private Storage target;

  private float[] host;
  private DeviceBuffer device;
  private boolean hostCurrent;
  private boolean deviceCurrent;

  Storage(float[] host) {
    this.size = host.length;
    this.host = host;
    this.hostCurrent = true;
  }

  /** Storage born on a device (zero-filled there); the host array is allocated on first use. */
  Storage(int size, DeviceBuffer device) {
    this.size = size;
    this.device = device;
    this.deviceCurrent = true;
  }

  /** Storage without memory yet: {@link #bind} gives it some before any kernel touches it. */
  Storage(int size) {
    this.size = size;
  }

  int size() {
    return size;
  }

  /** Makes this unbound storage the first {@link #size} elements of {@code memory}'s. */
  synchronized void bind(Storage memory) {
    if (target != null || host != null || device != null) {
      throw new IllegalStateException("storage already has memory");
    }
    Storage m = memory.target != null ? memory.target : memory;
    if (m.size < size) {
      throw new IllegalArgumentException(
          "cannot bind " + size + " elements to storage of " + m.size);
    }
    target = m;
  }

  boolean isUnbound() {
    return target == null && host == null && device == null;
  }

  /** The storage whose memory this is: itself, or the one it was bound to. */
  Storage memory() {
    return target != null ? target : this;
  }

  private Storage target() {
    if (target == null) {
      throw new IllegalStateException(
          "this tensor has no memory yet: a plan binds its buffers after compiling every layer,"
              + " so a layer may not read or write them in compile");
    }
    return target;
  }

  /** The host array, current, for code that may write it: the device copy becomes stale. */
  float[] hostForWriting() {
    if (device == null) {
      return host != null ? host : target().hostForWriting();
    }
    synchronized (this) {
      float[] h = hostForReading();
      deviceCurrent = false;
      return h;
    }
  }

  /** The host array, current, for code that only reads it. */
  float[] hostForReading() {
    if (device == null) {
      return host != null ? host : target().hostForReading();
    }
    synchronized (this) {
      if (host == null) {
        host = new float[size];
      }
      if (!hostCurrent) {
        device.download(host);
        hostCurrent = true;
      }
      return host;
    }
  }

  DeviceBuffer device() {
    return target != null ? target.device() : device;
  }

  synchronized void attach(DeviceBuffer buffer) {
    if (target != null) {
      if (target.size != size) { // the buffer would cover only this part of the memory
        throw new IllegalStateException(
            "a device copy of " + size + " elements for memory of " + target.size);
      }
      target.attach(buffer);
      return;
    }
    if (device != null) {
      throw new IllegalStateException("storage already has a device copy");
    }
    device = buffer;
    deviceCurrent = false;
  }

  /** The device copy, current, for a kernel that reads it. */
  synchronized DeviceBuffer deviceForReading() {
    if (target != null) {
      return target.deviceForReading();
    }
    requireDevice();
    if (!deviceCurrent) {
      device.upload(host);
      deviceCurrent = true;
    }
    return device;
  }

  /** The device copy, current, for a kernel that reads and writes it: the host copy goes stale. */
  synchronized DeviceBuffer deviceForWriting() {
    if (target != null) {
      return target.deviceForWriting();
    }
    DeviceBuffer d = deviceForReading();
    hostCurrent = false;
    return d;
  }

  /** The device copy for a kernel that overwrites every element without reading any. */
  synchronized DeviceBuffer deviceForOverwriting() {
    if (target != null) {
      return target.deviceForOverwriting();
    }
    requireDevice();
    deviceCurrent = true;
    hostCurrent = false;
    return device;
  }

  /** Brings the host copy up to date, then frees the device copy. */
  synchronized void releaseDevice() {
    if (target != null) {
      target.releaseDevice();
      return;
    }
    if (device == null) {
      return;
    }
    hostForReading();
    device.free();
    device = null;
  }

  private void requireDevice() {
    if (device == null) {
      throw new IllegalStateException("tensor has no device copy");
    }
  }
}
