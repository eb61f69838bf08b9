/*
 * Marrow's CUDA host emulation (tests only): the CUDA runtime, driver, NVRTC, cuBLAS and cuDNN
 * entry points the CUDA backend and JCuda call, with NVIDIA's documented semantics on host memory.
 * "Device" pointers are host pointers. Declarations here are written from NVIDIA's documentation
 * with plain C types (handles as pointers, enums as int); no SDK header is used.
 */
#ifndef MARROW_CUDA_EMULATION_H
#define MARROW_CUDA_EMULATION_H

#include <dlfcn.h>
#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

/* Version numbers the emulation reports: CUDA 12.6, cuBLAS 12.6, cuDNN 9.6 (the CUDA 13 flavour
 * sets 13.0 on the compiler's command line). */
#ifndef EMU_CUDA_VERSION
#define EMU_CUDA_VERSION 12060
#define EMU_CUBLAS_VERSION 120600
#endif
#define EMU_CUDNN_VERSION 90600

/* The PTX ISA version a CUDA release's compilers write and its driver reads, as 10·major + minor
 * (CUDA 12.0 → 8.0 … 12.6 → 8.5, 12.8 → 8.7, 12.9 → 8.8, 13.0 → 9.0). A driver refuses PTX of a
 * newer ISA (CUDA_ERROR_UNSUPPORTED_PTX_VERSION): what an NVRTC newer than the driver produces. */
static inline int emu_ptx_isa(int cudaVersion) {
  static const int VERSIONS[][2] = {{12000, 80}, {12010, 81}, {12020, 82}, {12030, 83},
      {12040, 84}, {12050, 85}, {12080, 87}, {12090, 88}, {13000, 90}};
  int isa = 0;
  for (unsigned i = 0; i < sizeof VERSIONS / sizeof VERSIONS[0]; i++) {
    if (cudaVersion >= VERSIONS[i][0]) isa = VERSIONS[i][1];
  }
  return isa;
}
#define EMU_PTX_ISA emu_ptx_isa(EMU_CUDA_VERSION)

/* Emulated device: one "GPU" of compute capability 8.0 with 16 GiB. */
#define EMU_DEVICE_NAME "Marrow CUDA host emulation"
#define EMU_DEVICE_MEMORY (16ULL << 30)
#define EMU_CC_MAJOR 8
#define EMU_CC_MINOR 0

/* What sm_80 and newer do to FP32 operands when the math mode allows tensor ops: TF32 keeps 10 of
 * the 23 mantissa bits, rounding to nearest (ties away from zero, as cvt.rna.tf32.f32). The
 * emulation applies it wherever NVIDIA's libraries may, so a math mode that lets TF32 in by
 * accident shows up as a ~1e-3 relative error in tests. */
#define EMU_TENSOR_CORES (EMU_CC_MAJOR >= 8)

static inline float emu_tf32(float v) {
  union { float f; unsigned u; } b = {v};
  if ((b.u & 0x7f800000u) == 0x7f800000u) return v; /* Inf and NaN stay */
  b.u = (b.u + 0x1000u) & 0xffffe000u;
  return b.f;
}

/* The emulated runtime's soname: the other libraries find its allocation registry through it. */
#ifndef EMU_CUDART_SONAME
#define EMU_CUDART_SONAME "libcudart.so.12"
#endif

/* Whether [p, p + bytes) lies inside one live cudaMalloc allocation. On a GPU, a host pointer
 * handed to cuBLAS, cuDNN or a kernel faults; here the libraries ask the emulated runtime, which
 * owns the registry, found by its soname once it is loaded. Without it (a library called alone)
 * everything passes. */
static inline int emu_on_device(const void* p, size_t bytes) {
  static int (*inside)(const void*, size_t);
  if (inside == NULL) {
    void* runtime = dlopen(EMU_CUDART_SONAME, RTLD_NOW | RTLD_NOLOAD);
    if (runtime != NULL) {
      inside = (int (*)(const void*, size_t)) dlsym(runtime, "marrow_emulation_on_device");
    }
    if (inside == NULL) return 1;
  }
  return inside(p, bytes);
}

#endif
