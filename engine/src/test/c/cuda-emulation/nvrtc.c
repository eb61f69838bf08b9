/* NVRTC (libnvrtc.so.12, or .so.13 in the CUDA 13 flavour). The emulation cannot generate GPU code; it "compiles" exactly the
 * kernels.cu it was built with (embedded below) and refuses any other source, so a test can never
 * run kernels that differ from what the backend sends. */
#include "emulation.h"

#include <stdlib.h>
#include <string.h>

__asm__(".section .rodata\n.global marrow_kernels_source\nmarrow_kernels_source:\n"
        ".incbin \"" KERNELS_CU_PATH "\"\n.byte 0\n.previous\n");
extern const char marrow_kernels_source[];

enum {
  NVRTC_SUCCESS = 0, NVRTC_ERROR_INVALID_INPUT = 3, NVRTC_ERROR_INVALID_PROGRAM = 4,
  NVRTC_ERROR_COMPILATION = 6
};

static const char PTX[] = "// marrow-emulated-ptx: the kernels of kernels.cu, run on the host\n";

typedef struct { char* source; const char* log; int compiled; } Program;

EXPORT int nvrtcVersion(int* major, int* minor) {
  *major = EMU_CUDA_VERSION / 1000;
  *minor = EMU_CUDA_VERSION % 1000 / 10;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcCreateProgram(Program** prog, const char* src, const char* name, int numHeaders,
    const char* const* headers, const char* const* includeNames) {
  (void) name, (void) headers, (void) includeNames;
  if (prog == NULL || src == NULL || numHeaders < 0) return NVRTC_ERROR_INVALID_INPUT;
  Program* p = calloc(1, sizeof(Program));
  p->source = strdup(src);
  p->log = "";
  *prog = p;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcDestroyProgram(Program** prog) {
  if (prog == NULL || *prog == NULL) return NVRTC_ERROR_INVALID_PROGRAM;
  free((*prog)->source);
  free(*prog);
  *prog = NULL;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcCompileProgram(Program* prog, int numOptions, const char* const* options) {
  if (prog == NULL) return NVRTC_ERROR_INVALID_PROGRAM;
  for (int i = 0; i < numOptions; i++) {
    if (strncmp(options[i], "--gpu-architecture=compute_", 27) != 0) {
      prog->log = "the emulation accepts only --gpu-architecture=compute_XY";
      return NVRTC_ERROR_INVALID_INPUT;
    }
  }
  if (strcmp(prog->source, marrow_kernels_source) != 0) {
    prog->log = "kernels.cu(1): error: the CUDA host emulation runs only the kernels.cu it was "
                "built from; rebuild it (mvn test-compile) after changing the kernels";
    return NVRTC_ERROR_COMPILATION;
  }
  prog->compiled = 1;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetPTXSize(Program* prog, size_t* size) {
  if (prog == NULL || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
  *size = sizeof PTX;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetPTX(Program* prog, char* ptx) {
  if (prog == NULL || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
  memcpy(ptx, PTX, sizeof PTX);
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetProgramLogSize(Program* prog, size_t* size) {
  if (prog == NULL) return NVRTC_ERROR_INVALID_PROGRAM;
  *size = strlen(prog->log) + 1;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetProgramLog(Program* prog, char* log) {
  if (prog == NULL) return NVRTC_ERROR_INVALID_PROGRAM;
  strcpy(log, prog->log);
  return NVRTC_SUCCESS;
}

EXPORT const char* nvrtcGetErrorString(int result) {
  switch (result) {
    case NVRTC_SUCCESS: return "NVRTC_SUCCESS";
    case NVRTC_ERROR_INVALID_INPUT: return "NVRTC_ERROR_INVALID_INPUT";
    case NVRTC_ERROR_INVALID_PROGRAM: return "NVRTC_ERROR_INVALID_PROGRAM";
    case NVRTC_ERROR_COMPILATION: return "NVRTC_ERROR_COMPILATION";
    default: return "NVRTC_ERROR_UNKNOWN";
  }
}
