/*
 * Marrow's CUDA host emulation (tests only): the CUDA runtime, driver, NVRTC, cuBLAS and cuDNN
 * entry points the CUDA backend and JCuda call, with NVIDIA's documented semantics on host memory.
 * "Device" pointers are host pointers. Declarations here are written from NVIDIA's documentation
 * with plain C types (handles as pointers, enums as int); no SDK header is used.
 */
#ifndef MARROW_CUDA_EMULATION_H
#define MARROW_CUDA_EMULATION_H

#include <stddef.h>

#define EXPORT __attribute__((visibility("default")))

/* Version numbers the emulation reports: CUDA 12.6, cuBLAS 12.6, cuDNN 9.6. */
#define EMU_CUDA_VERSION 12060
#define EMU_CUBLAS_VERSION 120600
#define EMU_CUDNN_VERSION 90600

/* Emulated device: one "GPU" of compute capability 8.0 with 16 GiB. */
#define EMU_DEVICE_NAME "Marrow CUDA host emulation"
#define EMU_DEVICE_MEMORY (16ULL << 30)

#endif
