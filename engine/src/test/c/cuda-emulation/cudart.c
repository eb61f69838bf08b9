/* CUDA runtime API (libcudart.so.12, or .so.13 in the CUDA 13 flavour): devices, memory, copies, streams, events, errors. */
#include "emulation.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidDevice = 101, cudaErrorInvalidResourceHandle = 400
};

/* Live allocations, so that copies and frees of pointers cudaMalloc did not return (or that run
 * past the end of one) fail as on a device instead of corrupting the heap silently. Leak checks
 * read them as a GPU's would, through cudaMemGetInfo: there is no emulation-only counter, which a
 * leak check could rely on and then find absent (and pass vacuously) on hardware. */
typedef struct { char* base; size_t bytes; } Allocation;
static Allocation* allocations;
static size_t allocationCount, allocationCapacity;
static int currentDevice;


static Allocation* find(const void* p, size_t bytes) {
  for (size_t i = 0; i < allocationCount; i++) {
    char* b = allocations[i].base;
    if ((const char*) p >= b && (const char*) p + bytes <= b + allocations[i].bytes) {
      return &allocations[i];
    }
  }
  return NULL;
}

/* For the other emulated libraries (emulation.h's emu_on_device). */
EXPORT int marrow_emulation_on_device(const void* p, size_t bytes) { return find(p, bytes) != NULL; }

EXPORT int cudaMalloc(void** devPtr, size_t size) {
  if (devPtr == NULL) return cudaErrorInvalidValue;
  void* p = aligned_alloc(256, (size + 255) / 256 * 256 + 256);
  if (p == NULL) return cudaErrorMemoryAllocation;
  if (allocationCount == allocationCapacity) {
    allocationCapacity = allocationCapacity ? 2 * allocationCapacity : 64;
    allocations = realloc(allocations, allocationCapacity * sizeof(Allocation));
  }
  allocations[allocationCount++] = (Allocation) {p, size};
  *devPtr = p;
  return cudaSuccess;
}

EXPORT int cudaFree(void* devPtr) {
  if (devPtr == NULL) return cudaSuccess;
  for (size_t i = 0; i < allocationCount; i++) {
    if (allocations[i].base == devPtr) {
      free(devPtr);
      allocations[i] = allocations[--allocationCount];
      return cudaSuccess;
    }
  }
  return cudaErrorInvalidValue;
}

/* cudaMemcpyKind: 0 host-host, 1 host-device, 2 device-host, 3 device-device, 4 default. */
EXPORT int cudaMemcpy(void* dst, const void* src, size_t count, int kind) {
  if (kind < 0 || kind > 4) return cudaErrorInvalidValue;
  if ((kind == 1 || kind == 3) && find(dst, count) == NULL) return cudaErrorInvalidValue;
  if ((kind == 2 || kind == 3) && find(src, count) == NULL) return cudaErrorInvalidValue;
  memmove(dst, src, count);
  return cudaSuccess;
}

EXPORT int cudaMemcpyAsync(void* dst, const void* src, size_t count, int kind, void* stream) {
  (void) stream;
  return cudaMemcpy(dst, src, count, kind);
}

EXPORT int cudaMemset(void* devPtr, int value, size_t count) {
  if (find(devPtr, count) == NULL) return cudaErrorInvalidValue;
  memset(devPtr, value, count);
  return cudaSuccess;
}

EXPORT int cudaMemsetAsync(void* devPtr, int value, size_t count, void* stream) {
  (void) stream;
  return cudaMemset(devPtr, value, count);
}

EXPORT int cudaMemGetInfo(size_t* freeBytes, size_t* total) {
  size_t used = 0;
  for (size_t i = 0; i < allocationCount; i++) used += allocations[i].bytes;
  *total = EMU_DEVICE_MEMORY;
  *freeBytes = EMU_DEVICE_MEMORY - used;
  return cudaSuccess;
}

EXPORT int cudaGetDeviceCount(int* count) { *count = 1; return cudaSuccess; }

EXPORT int cudaSetDevice(int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  currentDevice = device;
  return cudaSuccess;
}

EXPORT int cudaGetDevice(int* device) { *device = currentDevice; return cudaSuccess; }

/* struct cudaDeviceProp begins: char name[256]; cudaUUID_t uuid (16 bytes); char luid[8];
 * unsigned int luidDeviceNodeMask; size_t totalGlobalMem (at offset 288). The rest stays zero.
 * CUDA 13 changed the struct (deprecated fields removed, so later offsets moved), and a caller
 * knows the layout of the headers it was built from: the backend must not read it. Tests count
 * the calls. */
static int devicePropertiesCalls;
EXPORT int marrow_emulation_device_properties_calls(void) { return devicePropertiesCalls; }

EXPORT int cudaGetDeviceProperties_v2(void* prop, int device) {
  devicePropertiesCalls++;
  if (device != 0) return cudaErrorInvalidDevice;
  char* p = prop;
  memset(p, 0, 296);
  strncpy(p, EMU_DEVICE_NAME, 255);
  size_t mem = EMU_DEVICE_MEMORY;
  memcpy(p + 288, &mem, sizeof mem);
  return cudaSuccess;
}

/* cudaDeviceAttr: 16 multiprocessor count, 75/76 compute capability major/minor. */
EXPORT int cudaDeviceGetAttribute(int* value, int attr, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  switch (attr) {
    case 16: *value = 1; return cudaSuccess;
    case 75: *value = EMU_CC_MAJOR; return cudaSuccess;
    case 76: *value = EMU_CC_MINOR; return cudaSuccess;
    default: return cudaErrorInvalidValue;
  }
}

EXPORT int cudaDeviceSynchronize(void) { return cudaSuccess; }
EXPORT int cudaGetLastError(void) { return cudaSuccess; }
EXPORT int cudaRuntimeGetVersion(int* v) { *v = EMU_CUDA_VERSION; return cudaSuccess; }
/* The driver's version, as the real runtime asks the driver (a test may have lowered it there). */
EXPORT int cudaDriverGetVersion(int* v) {
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  int (*get)(int*) = driver == NULL ? NULL : (int (*)(int*)) dlsym(driver, "cuDriverGetVersion");
  if (get == NULL || get(v) != 0) *v = EMU_CUDA_VERSION;
  return cudaSuccess;
}

/* Streams run in issue order on the host: every call has finished when it returns. */
EXPORT int cudaStreamCreate(void** stream) { *stream = malloc(1); return cudaSuccess; }
EXPORT int cudaStreamDestroy(void* stream) { free(stream); return cudaSuccess; }
EXPORT int cudaStreamSynchronize(void* stream) { (void) stream; return cudaSuccess; }

typedef struct { struct timespec at; int recorded; } Event;

EXPORT int cudaEventCreate(void** event) {
  *event = calloc(1, sizeof(Event));
  return cudaSuccess;
}

EXPORT int cudaEventDestroy(void* event) { free(event); return cudaSuccess; }

EXPORT int cudaEventRecord(void* event, void* stream) {
  (void) stream;
  Event* e = event;
  clock_gettime(CLOCK_MONOTONIC, &e->at);
  e->recorded = 1;
  return cudaSuccess;
}

EXPORT int cudaEventSynchronize(void* event) { (void) event; return cudaSuccess; }

EXPORT int cudaEventElapsedTime(float* ms, void* start, void* end) {
  Event *a = start, *b = end;
  if (!a->recorded || !b->recorded) return cudaErrorInvalidResourceHandle;
  *ms = (float) ((b->at.tv_sec - a->at.tv_sec) * 1e3 + (b->at.tv_nsec - a->at.tv_nsec) / 1e6);
  return cudaSuccess;
}

EXPORT const char* cudaGetErrorName(int error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    default: return "cudaErrorUnknown";
  }
}

EXPORT const char* cudaGetErrorString(int error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    default: return "unknown error";
  }
}
