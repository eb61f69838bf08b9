/* CUDA driver API (libcuda.so.1) as JCuda calls it: init, device, primary context, modules from
 * the emulated NVRTC, and cuLaunchKernel, which runs the kernels of kernels.cu on the host. */
#include "kernel_shim.h"

#include KERNELS_CU

#include <stdio.h>
#include <string.h>

#include "emulation.h"

thread_local dim3 blockIdx, blockDim, threadIdx, gridDim;

enum {
  CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_INVALID_DEVICE = 101, CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209, CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
  CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500, CUDA_ERROR_ILLEGAL_ADDRESS = 700
};

#define ARG(type, i) (*(type*) params[i])

typedef void (*Trampoline)(void** params);
/* args: one letter per parameter, p for a device pointer (checked at launch), else a scalar. */
struct Kernel { const char* name; const char* args; Trampoline launch; };

/* One trampoline a kernel: unpacks cuLaunchKernel's argument pointers in declaration order. */
static const Kernel KERNELS[] = {
  {"fill", "pfi", [](void** params) { fill(ARG(float*, 0), ARG(float, 1), ARG(int, 2)); }},
  {"multiply", "pppi", [](void** params) {
    multiply(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2), ARG(int, 3)); }},
  {"multiply_add", "pppi", [](void** params) {
    multiply_add(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2), ARG(int, 3)); }},
  {"copy_blocks", "piipiiiii", [](void** params) {
    copy_blocks(ARG(const float*, 0), ARG(int, 1), ARG(int, 2), ARG(float*, 3), ARG(int, 4),
        ARG(int, 5), ARG(int, 6), ARG(int, 7), ARG(int, 8)); }},
  {"activation_forward", "ippi", [](void** params) {
    activation_forward(ARG(int, 0), ARG(const float*, 1), ARG(float*, 2), ARG(int, 3)); }},
  {"activation_backward", "ippppi", [](void** params) {
    activation_backward(ARG(int, 0), ARG(const float*, 1), ARG(const float*, 2),
        ARG(const float*, 3), ARG(float*, 4), ARG(int, 5)); }},
  {"sgd_update", "pppffifi", [](void** params) {
    sgd_update(ARG(float*, 0), ARG(const float*, 1), ARG(float*, 2), ARG(float, 3),
        ARG(float, 4), ARG(int, 5), ARG(float, 6), ARG(int, 7)); }},
  {"adam_update", "ppppffffddfii", [](void** params) {
    adam_update(ARG(float*, 0), ARG(const float*, 1), ARG(float*, 2), ARG(float*, 3),
        ARG(float, 4), ARG(float, 5), ARG(float, 6), ARG(float, 7), ARG(double, 8),
        ARG(double, 9), ARG(float, 10), ARG(int, 11), ARG(int, 12)); }},
  {"softmax_xent_sparse", "ppppiif", [](void** params) {
    softmax_xent_sparse(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2),
        ARG(float*, 3), ARG(int, 4), ARG(int, 5), ARG(float, 6)); }},
  {"softmax_xent_dense", "ppppiif", [](void** params) {
    softmax_xent_dense(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2),
        ARG(float*, 3), ARG(int, 4), ARG(int, 5), ARG(float, 6)); }},
  {"xent_probabilities", "ppppif", [](void** params) {
    xent_probabilities(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2),
        ARG(float*, 3), ARG(int, 4), ARG(float, 5)); }},
  {"pointwise_loss", "ppppiiff", [](void** params) {
    pointwise_loss(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2), ARG(float*, 3),
        ARG(int, 4), ARG(int, 5), ARG(float, 6), ARG(float, 7)); }},
  {"squared_error", "ppppif", [](void** params) {
    squared_error(ARG(const float*, 0), ARG(const float*, 1), ARG(float*, 2), ARG(float*, 3),
        ARG(int, 4), ARG(float, 5)); }},
  {"argmax_rows", "ppii", [](void** params) {
    argmax_rows(ARG(const float*, 0), ARG(float*, 1), ARG(int, 2), ARG(int, 3)); }},
  {"count_correct", "ppppii", [](void** params) {
    count_correct(ARG(const float*, 0), ARG(const float*, 1), ARG(const float*, 2),
        ARG(float*, 3), ARG(int, 4), ARG(int, 5)); }},
  {"dropout_forward", "pppfli", [](void** params) {
    dropout_forward(ARG(const float*, 0), ARG(float*, 1), ARG(float*, 2), ARG(float, 3),
        ARG(unsigned long long, 4), ARG(int, 5)); }},
  {"pad_planes", "ppiiiiiiif", [](void** params) {
    pad_planes(ARG(const float*, 0), ARG(float*, 1), ARG(int, 2), ARG(int, 3), ARG(int, 4),
        ARG(int, 5), ARG(int, 6), ARG(int, 7), ARG(int, 8), ARG(float, 9)); }},
  {"crop_planes", "ppiiiiiii", [](void** params) {
    crop_planes(ARG(const float*, 0), ARG(float*, 1), ARG(int, 2), ARG(int, 3), ARG(int, 4),
        ARG(int, 5), ARG(int, 6), ARG(int, 7), ARG(int, 8)); }},
};

/* What the emulated NVRTC returns as PTX and as a CUBIN; a module loads only from one of them. */
static const char PTX_MARKER[] = "// marrow-emulated-ptx";
static const char CUBIN_MARKER[] = "\177ELF marrow-emulated-cubin ";

/* The CUDA version the driver supports. The emulation's own by default; a test lowers it to play
 * an older driver beside a newer NVRTC (marrow_emulation_set_driver_version). */
static int driverVersion = EMU_CUDA_VERSION;

static int initialized;
static int primaryContext; /* its address is the context handle */
static int module;         /* its address is the module handle */

extern "C" {

EXPORT int cuInit(unsigned flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  initialized = 1;
  return CUDA_SUCCESS;
}

EXPORT int cuDriverGetVersion(int* v) { *v = driverVersion; return CUDA_SUCCESS; }

/* Test hook: the driver from now on reports and behaves as CUDA `version`; returns the previous. */
EXPORT int marrow_emulation_set_driver_version(int version) {
  int before = driverVersion;
  driverVersion = version;
  return before;
}

EXPORT int cuDeviceGetCount(int* count) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  *count = 1;
  return CUDA_SUCCESS;
}

EXPORT int cuDeviceGet(int* device, int ordinal) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
  *device = 0;
  return CUDA_SUCCESS;
}

EXPORT int cuDeviceGetName(char* name, int len, int device) {
  if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
  strncpy(name, EMU_DEVICE_NAME, len);
  name[len - 1] = 0;
  return CUDA_SUCCESS;
}

/* cuda.h #defines cuDeviceTotalMem as cuDeviceTotalMem_v2: that is the symbol callers bind. */
EXPORT int cuDeviceTotalMem_v2(size_t* bytes, int device) {
  if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
  if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
  *bytes = EMU_DEVICE_MEMORY;
  return CUDA_SUCCESS;
}

EXPORT int cuDevicePrimaryCtxRetain(void** ctx, int device) {
  if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
  *ctx = &primaryContext;
  primaryContext++;
  return CUDA_SUCCESS;
}

EXPORT int cuDevicePrimaryCtxRelease_v2(int device) {
  if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
  if (primaryContext == 0) return CUDA_ERROR_INVALID_VALUE;
  primaryContext--;
  return CUDA_SUCCESS;
}

EXPORT int cuCtxSetCurrent(void* ctx) {
  return ctx == NULL || ctx == &primaryContext ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT int cuCtxSynchronize(void) { return CUDA_SUCCESS; }

/* As a driver judges a module (CUDA's compatibility rules): machine code runs on a device of its
 * major architecture and no older minor one, built by a CUDA release of no newer major version than
 * the driver's (minor-version compatibility); PTX is compiled by the driver, so it must be of an ISA
 * the driver knows and for a virtual architecture no newer than the device. */
EXPORT int cuModuleLoadData(void** mod, const void* image) {
  const char* text = (const char*) image;
  const int device = EMU_CC_MAJOR * 10 + EMU_CC_MINOR;
  if (strncmp(text, CUBIN_MARKER, sizeof CUBIN_MARKER - 1) == 0) {
    int arch = 0, cuda = 0;
    if (sscanf(text + sizeof CUBIN_MARKER - 1, "sm_%d cuda %d", &arch, &cuda) != 2) {
      return CUDA_ERROR_INVALID_IMAGE;
    }
    if (arch / 10 != device / 10 || arch % 10 > device % 10) return CUDA_ERROR_NO_BINARY_FOR_GPU;
    if (cuda / 1000 > driverVersion / 1000) return CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
  } else if (strncmp(text, PTX_MARKER, sizeof PTX_MARKER - 1) == 0) {
    int major = 0, minor = 0, arch = 0;
    const char* version = strstr(text, "\n.version ");
    const char* target = strstr(text, "\n.target compute_");
    if (version == NULL || target == NULL || sscanf(version, "\n.version %d.%d", &major, &minor) != 2
        || sscanf(target, "\n.target compute_%d", &arch) != 1) {
      return CUDA_ERROR_INVALID_PTX;
    }
    if (major * 10 + minor > emu_ptx_isa(driverVersion)) return CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
    if (arch > device) return CUDA_ERROR_NO_BINARY_FOR_GPU;
  } else {
    return CUDA_ERROR_INVALID_IMAGE;
  }
  *mod = &module;
  return CUDA_SUCCESS;
}

EXPORT int cuModuleUnload(void* mod) {
  return mod == &module ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT int cuModuleGetFunction(void** function, void* mod, const char* name) {
  if (mod != &module) return CUDA_ERROR_INVALID_HANDLE;
  for (const Kernel& k : KERNELS) {
    if (strcmp(k.name, name) == 0) {
      *function = (void*) &k;
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_NOT_FOUND;
}

EXPORT int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
    unsigned by, unsigned bz, unsigned sharedMemBytes, void* stream, void** kernelParams,
    void** extra) {
  (void) sharedMemBytes, (void) stream;
  if (f == NULL || kernelParams == NULL || extra != NULL || gx * gy * gz == 0
      || bx * by * bz == 0 || bx * by * bz > 1024) {
    return CUDA_ERROR_INVALID_VALUE;
  }
  const Kernel* k = (const Kernel*) f;
  /* A pointer argument outside device memory (a host pointer, a freed buffer) faults on a GPU. */
  for (int i = 0; k->args[i] != 0; i++) {
    void* p = *(void**) kernelParams[i];
    if (k->args[i] == 'p' && p != NULL && !emu_on_device(p, 1)) return CUDA_ERROR_ILLEGAL_ADDRESS;
  }
  gridDim = {gx, gy, gz};
  blockDim = {bx, by, bz};
  for (unsigned z = 0; z < gz; z++)
    for (unsigned y = 0; y < gy; y++)
      for (unsigned x = 0; x < gx; x++) {
        blockIdx = {x, y, z};
        for (unsigned tz = 0; tz < bz; tz++)
          for (unsigned ty = 0; ty < by; ty++)
            for (unsigned tx = 0; tx < bx; tx++) {
              threadIdx = {tx, ty, tz};
              k->launch(kernelParams);
            }
      }
  return CUDA_SUCCESS;
}

EXPORT int cuGetErrorName(int error, const char** name) {
  switch (error) {
    case CUDA_SUCCESS: *name = "CUDA_SUCCESS"; break;
    case CUDA_ERROR_INVALID_VALUE: *name = "CUDA_ERROR_INVALID_VALUE"; break;
    case CUDA_ERROR_NOT_INITIALIZED: *name = "CUDA_ERROR_NOT_INITIALIZED"; break;
    case CUDA_ERROR_INVALID_DEVICE: *name = "CUDA_ERROR_INVALID_DEVICE"; break;
    case CUDA_ERROR_INVALID_IMAGE: *name = "CUDA_ERROR_INVALID_IMAGE"; break;
    case CUDA_ERROR_INVALID_HANDLE: *name = "CUDA_ERROR_INVALID_HANDLE"; break;
    case CUDA_ERROR_NOT_FOUND: *name = "CUDA_ERROR_NOT_FOUND"; break;
    case CUDA_ERROR_ILLEGAL_ADDRESS: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; break;
    default: *name = "CUDA_ERROR_UNKNOWN"; return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

EXPORT int cuGetErrorString(int error, const char** text) {
  return cuGetErrorName(error, text);
}

}  // extern "C"
