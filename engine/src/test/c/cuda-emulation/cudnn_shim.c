/* cuDNN 9's libcudnn.so.9 as NVIDIA ships it (CUDA 13 flavour of the emulation): a shim that
 * exports the API and loads the sub-library behind each function at its first call, with dlopen
 * by soname, as cuDNN 9 does. When libcudnn_graph/ops/cnn.so.9 are neither loaded already nor on
 * the linker path, the call returns CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED. Each forwarder
 * restates its function's argument kinds (pointers, int, double, size_t) from cudnn.c. */
#include "emulation.h"

#include <dlfcn.h>
#include <stddef.h>

enum { CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED = 1008 };

/* The function `name` of sub-library `soname`, or NULL when it cannot be loaded. */
static void* resolve(const char* soname, const char* name) {
  void* lib = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
  return lib == NULL ? NULL : dlsym(lib, name);
}

EXPORT size_t cudnnGetVersion(void) { return EMU_CUDNN_VERSION; }

EXPORT const char* cudnnGetErrorString(int status) {
  switch (status) {
    case 0: return "CUDNN_STATUS_SUCCESS";
    case 1001: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
    case 2000: return "CUDNN_STATUS_BAD_PARAM";
    case 3000: return "CUDNN_STATUS_NOT_SUPPORTED";
    case 5000: return "CUDNN_STATUS_EXECUTION_FAILED";
    default: return "CUDNN_STATUS_UNKNOWN";
  }
}

/* ---- libcudnn_graph.so.9 ---- */
EXPORT int cudnnCreate(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_graph.so.9", "cudnnCreate");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnDestroy(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_graph.so.9", "cudnnDestroy");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnSetStream(void* a0, void* a1) {
  int (*f)(void*, void*) = (int (*)(void*, void*)) resolve("libcudnn_graph.so.9", "cudnnSetStream");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1);
}

/* ---- libcudnn_ops.so.9 ---- */
EXPORT int cudnnCreateTensorDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnCreateTensorDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnDestroyTensorDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnDestroyTensorDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnCreateFilterDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnCreateFilterDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnDestroyFilterDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnDestroyFilterDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnCreatePoolingDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnCreatePoolingDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnDestroyPoolingDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnDestroyPoolingDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnCreateActivationDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnCreateActivationDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnDestroyActivationDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_ops.so.9", "cudnnDestroyActivationDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnSetTensor4dDescriptorEx(void* a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8, int a9) {
  int (*f)(void*, int, int, int, int, int, int, int, int, int) = (int (*)(void*, int, int, int, int, int, int, int, int, int)) resolve("libcudnn_ops.so.9", "cudnnSetTensor4dDescriptorEx");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9);
}
EXPORT int cudnnSetTensor4dDescriptor(void* a0, int a1, int a2, int a3, int a4, int a5, int a6) {
  int (*f)(void*, int, int, int, int, int, int) = (int (*)(void*, int, int, int, int, int, int)) resolve("libcudnn_ops.so.9", "cudnnSetTensor4dDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnSetFilter4dDescriptor(void* a0, int a1, int a2, int a3, int a4, int a5, int a6) {
  int (*f)(void*, int, int, int, int, int, int) = (int (*)(void*, int, int, int, int, int, int)) resolve("libcudnn_ops.so.9", "cudnnSetFilter4dDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnSetPooling2dDescriptor(void* a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8) {
  int (*f)(void*, int, int, int, int, int, int, int, int) = (int (*)(void*, int, int, int, int, int, int, int, int)) resolve("libcudnn_ops.so.9", "cudnnSetPooling2dDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8);
}
EXPORT int cudnnSetActivationDescriptor(void* a0, int a1, int a2, double a3) {
  int (*f)(void*, int, int, double) = (int (*)(void*, int, int, double)) resolve("libcudnn_ops.so.9", "cudnnSetActivationDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3);
}
EXPORT int cudnnAddTensor(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnAddTensor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnPoolingForward(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnPoolingForward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7);
}
EXPORT int cudnnPoolingBackward(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8, void* a9, void* a10, void* a11) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnPoolingBackward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}
EXPORT int cudnnActivationForward(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnActivationForward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7);
}
EXPORT int cudnnActivationBackward(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8, void* a9, void* a10, void* a11) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnActivationBackward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
}
EXPORT int cudnnSoftmaxForward(void* a0, int a1, int a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8) {
  int (*f)(void*, int, int, void*, void*, void*, void*, void*, void*) = (int (*)(void*, int, int, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnSoftmaxForward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8);
}
EXPORT int cudnnSoftmaxBackward(void* a0, int a1, int a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8, void* a9, void* a10) {
  int (*f)(void*, int, int, void*, void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, int, int, void*, void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnSoftmaxBackward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
}
EXPORT int cudnnBatchNormalizationForwardTraining(void* a0, int a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8, void* a9, void* a10, double a11, void* a12, void* a13, double a14, void* a15, void* a16) {
  int (*f)(void*, int, void*, void*, void*, void*, void*, void*, void*, void*, void*, double, void*, void*, double, void*, void*) = (int (*)(void*, int, void*, void*, void*, void*, void*, void*, void*, void*, void*, double, void*, void*, double, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnBatchNormalizationForwardTraining");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16);
}
EXPORT int cudnnBatchNormalizationForwardInference(void* a0, int a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8, void* a9, void* a10, void* a11, void* a12, double a13) {
  int (*f)(void*, int, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, double) = (int (*)(void*, int, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, double)) resolve("libcudnn_ops.so.9", "cudnnBatchNormalizationForwardInference");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13);
}
EXPORT int cudnnBatchNormalizationBackward(void* a0, int a1, void* a2, void* a3, void* a4, void* a5, void* a6, void* a7, void* a8, void* a9, void* a10, void* a11, void* a12, void* a13, void* a14, void* a15, double a16, void* a17, void* a18) {
  int (*f)(void*, int, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, double, void*, void*) = (int (*)(void*, int, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, void*, double, void*, void*)) resolve("libcudnn_ops.so.9", "cudnnBatchNormalizationBackward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18);
}

/* ---- libcudnn_cnn.so.9 ---- */
EXPORT int cudnnCreateConvolutionDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_cnn.so.9", "cudnnCreateConvolutionDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnDestroyConvolutionDescriptor(void* a0) {
  int (*f)(void*) = (int (*)(void*)) resolve("libcudnn_cnn.so.9", "cudnnDestroyConvolutionDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0);
}
EXPORT int cudnnSetConvolution2dDescriptor(void* a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7, int a8) {
  int (*f)(void*, int, int, int, int, int, int, int, int) = (int (*)(void*, int, int, int, int, int, int, int, int)) resolve("libcudnn_cnn.so.9", "cudnnSetConvolution2dDescriptor");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8);
}
EXPORT int cudnnSetConvolutionMathType(void* a0, int a1) {
  int (*f)(void*, int) = (int (*)(void*, int)) resolve("libcudnn_cnn.so.9", "cudnnSetConvolutionMathType");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1);
}
EXPORT int cudnnGetConvolution2dForwardOutputDim(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolution2dForwardOutputDim");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnConvolutionForward(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, int a7, void* a8, size_t a9, void* a10, void* a11, void* a12) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, int, void*, size_t, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, int, void*, size_t, void*, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnConvolutionForward");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
}
EXPORT int cudnnConvolutionBackwardData(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, int a7, void* a8, size_t a9, void* a10, void* a11, void* a12) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, int, void*, size_t, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, int, void*, size_t, void*, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnConvolutionBackwardData");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
}
EXPORT int cudnnConvolutionBackwardFilter(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6, int a7, void* a8, size_t a9, void* a10, void* a11, void* a12) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*, int, void*, size_t, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*, int, void*, size_t, void*, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnConvolutionBackwardFilter");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
}
EXPORT int cudnnConvolutionBackwardBias(void* a0, void* a1, void* a2, void* a3, void* a4, void* a5, void* a6) {
  int (*f)(void*, void*, void*, void*, void*, void*, void*) = (int (*)(void*, void*, void*, void*, void*, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnConvolutionBackwardBias");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnGetConvolutionForwardAlgorithm_v7(void* a0, void* a1, void* a2, void* a3, void* a4, int a5, void* a6, void* a7) {
  int (*f)(void*, void*, void*, void*, void*, int, void*, void*) = (int (*)(void*, void*, void*, void*, void*, int, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolutionForwardAlgorithm_v7");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7);
}
EXPORT int cudnnGetConvolutionBackwardDataAlgorithm_v7(void* a0, void* a1, void* a2, void* a3, void* a4, int a5, void* a6, void* a7) {
  int (*f)(void*, void*, void*, void*, void*, int, void*, void*) = (int (*)(void*, void*, void*, void*, void*, int, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7);
}
EXPORT int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void* a0, void* a1, void* a2, void* a3, void* a4, int a5, void* a6, void* a7) {
  int (*f)(void*, void*, void*, void*, void*, int, void*, void*) = (int (*)(void*, void*, void*, void*, void*, int, void*, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6, a7);
}
EXPORT int cudnnGetConvolutionForwardWorkspaceSize(void* a0, void* a1, void* a2, void* a3, void* a4, int a5, void* a6) {
  int (*f)(void*, void*, void*, void*, void*, int, void*) = (int (*)(void*, void*, void*, void*, void*, int, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolutionForwardWorkspaceSize");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnGetConvolutionBackwardDataWorkspaceSize(void* a0, void* a1, void* a2, void* a3, void* a4, int a5, void* a6) {
  int (*f)(void*, void*, void*, void*, void*, int, void*) = (int (*)(void*, void*, void*, void*, void*, int, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolutionBackwardDataWorkspaceSize");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int cudnnGetConvolutionBackwardFilterWorkspaceSize(void* a0, void* a1, void* a2, void* a3, void* a4, int a5, void* a6) {
  int (*f)(void*, void*, void*, void*, void*, int, void*) = (int (*)(void*, void*, void*, void*, void*, int, void*)) resolve("libcudnn_cnn.so.9", "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  return f == NULL ? CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED : f(a0, a1, a2, a3, a4, a5, a6);
}
EXPORT int marrow_emulation_convolution_math_type(void) {
  int (*f)(void) = (int (*)(void)) resolve("libcudnn_cnn.so.9", "marrow_emulation_convolution_math_type");
  return f == NULL ? -1 : f();
}
