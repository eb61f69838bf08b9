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

  int size() {
    return size;
  }

  /** The host array, current, for code that may write it: the device copy becomes stale. */
  float[] hostForWriting() {
    if (device == null) {
      return host;
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
      return host;
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
    return device;
  }

  synchronized void attach(DeviceBuffer buffer) {
    if (device != null) {
      throw new IllegalStateException("storage already has a device copy");
    }
    device = buffer;
    deviceCurrent = false;
  }

  /** The device copy, current, for a kernel that reads it. */
  synchronized DeviceBuffer deviceForReading() {
    requireDevice();
    if (!deviceCurrent) {
      device.upload(host);
      deviceCurrent = true;
    }
    return device;
  }

  /** The device copy, current, for a kernel that reads and writes it: the host copy goes stale. */
  synchronized DeviceBuffer deviceForWriting() {
    DeviceBuffer d = deviceForReading();
    hostCurrent = false;
    return d;
  }

  /** The device copy for a kernel that overwrites every element without reading any. */
  synchronized DeviceBuffer deviceForOverwriting() {
    requireDevice();
    deviceCurrent = true;
    hostCurrent = false;
    return device;
  }

  /** Brings the host copy up to date, then frees the device copy. */
  synchronized void releaseDevice() {
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
