/* NVRTC (libnvrtc.so.12, or .so.13 in the CUDA 13 flavour). The emulation cannot generate GPU code; it "compiles" exactly the
 * kernels.cu it was built with (embedded below) and refuses any other source, so a test can never
 * run kernels that differ from what the backend sends. What it hands back says what a real NVRTC's
 * output would be, for the emulated driver to judge as a real one does: PTX names its ISA version
 * (that of the NVRTC's CUDA release) and its virtual architecture; a CUBIN (only for a real
 * architecture, -arch=sm_XY) names its architecture and CUDA release. */
#include "emulation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__asm__(".section .rodata\n.global marrow_kernels_source\nmarrow_kernels_source:\n"
        ".incbin \"" KERNELS_CU_PATH "\"\n.byte 0\n.previous\n");
extern const char marrow_kernels_source[];

enum {
  NVRTC_SUCCESS = 0, NVRTC_ERROR_INVALID_INPUT = 3, NVRTC_ERROR_INVALID_PROGRAM = 4,
  NVRTC_ERROR_INVALID_OPTION = 5, NVRTC_ERROR_COMPILATION = 6,
  NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7
};

/* The architectures nvrtcGetSupportedArchs lists: CUDA 12.6's NVRTC compiles for sm_50 to sm_90;
 * CUDA 13 dropped everything before Turing (sm_75) and added Blackwell. */
#if EMU_CUDA_VERSION >= 13000
static const int ARCHS[] = {75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121};
#else
static const int ARCHS[] = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};
#endif
#define ARCH_COUNT ((int) (sizeof ARCHS / sizeof ARCHS[0]))

typedef struct {
  char* source;
  const char* log;
  int compiled;
  int arch; /* XY of -arch=compute_XY or sm_XY */
  int real; /* sm_XY: machine code as well as PTX */
  char ptx[256];
  char cubin[256];
} Program;

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

EXPORT int nvrtcGetNumSupportedArchs(int* numArchs) {
  if (numArchs == NULL) return NVRTC_ERROR_INVALID_INPUT;
  *numArchs = ARCH_COUNT;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetSupportedArchs(int* supportedArchs) {
  if (supportedArchs == NULL) return NVRTC_ERROR_INVALID_INPUT;
  memcpy(supportedArchs, ARCHS, sizeof ARCHS);
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcCompileProgram(Program* prog, int numOptions, const char* const* options) {
  if (prog == NULL) return NVRTC_ERROR_INVALID_PROGRAM;
  prog->arch = 0;
  for (int i = 0; i < numOptions; i++) {
    static const char OPTION[] = "--gpu-architecture=";
    const char* value = options[i] + sizeof OPTION - 1;
    int real = strncmp(value, "sm_", 3) == 0;
    if (strncmp(options[i], OPTION, sizeof OPTION - 1) != 0
        || (!real && strncmp(value, "compute_", 8) != 0)) {
      prog->log = "the emulation accepts only --gpu-architecture=compute_XY or sm_XY";
      return NVRTC_ERROR_INVALID_INPUT;
    }
    int arch = atoi(value + (real ? 3 : 8)), known = 0;
    for (int a = 0; a < ARCH_COUNT; a++) known |= ARCHS[a] == arch;
    if (!known) {
      prog->log = "nvrtc: error: invalid value for --gpu-architecture (-arch)";
      return NVRTC_ERROR_INVALID_OPTION;
    }
    prog->arch = arch;
    prog->real = real;
  }
  if (prog->arch == 0) {
    prog->log = "the emulation needs --gpu-architecture";
    return NVRTC_ERROR_INVALID_INPUT;
  }
  /* As NVRTC does at every compilation: its builtins, by soname (build.sh names the library; found
   * on the linker path, which the emulation's folder never is, or already loaded). */
  if (dlopen(EMU_NVRTC_BUILTINS, RTLD_NOW) == NULL) {
    prog->log = "nvrtc: error: failed to open " EMU_NVRTC_BUILTINS ".\n  Make sure that "
                EMU_NVRTC_BUILTINS " is installed correctly.";
    return NVRTC_ERROR_BUILTIN_OPERATION_FAILURE;
  }
  if (strcmp(prog->source, marrow_kernels_source) != 0) {
    prog->log = "kernels.cu(1): error: the CUDA host emulation runs only the kernels.cu it was "
                "built from; rebuild it (mvn test-compile) after changing the kernels";
    return NVRTC_ERROR_COMPILATION;
  }
  snprintf(prog->ptx, sizeof prog->ptx,
      "// marrow-emulated-ptx: the kernels of kernels.cu, run on the host\n"
      ".version %d.%d\n.target compute_%d\n",
      EMU_PTX_ISA / 10, EMU_PTX_ISA % 10, prog->arch);
  /* A cubin is an ELF file; its bytes hold no NUL before the end, so the driver can read it. */
  snprintf(prog->cubin, sizeof prog->cubin, "\177ELF marrow-emulated-cubin sm_%d cuda %d\n",
      prog->arch, EMU_CUDA_VERSION);
  prog->compiled = 1;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetPTXSize(Program* prog, size_t* size) {
  if (prog == NULL || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
  *size = strlen(prog->ptx) + 1;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetPTX(Program* prog, char* ptx) {
  if (prog == NULL || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
  strcpy(ptx, prog->ptx);
  return NVRTC_SUCCESS;
}

/* Size 0 after a virtual architecture (compute_XY), as NVRTC documents. */
EXPORT int nvrtcGetCUBINSize(Program* prog, size_t* size) {
  if (prog == NULL || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
  *size = prog->real ? strlen(prog->cubin) + 1 : 0;
  return NVRTC_SUCCESS;
}

EXPORT int nvrtcGetCUBIN(Program* prog, char* cubin) {
  if (prog == NULL || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
  if (!prog->real) return NVRTC_ERROR_INVALID_INPUT;
  strcpy(cubin, prog->cubin);
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
    case NVRTC_ERROR_INVALID_OPTION: return "NVRTC_ERROR_INVALID_OPTION";
    case NVRTC_ERROR_COMPILATION: return "NVRTC_ERROR_COMPILATION";
    case NVRTC_ERROR_BUILTIN_OPERATION_FAILURE: return "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE";
    default: return "NVRTC_ERROR_UNKNOWN";
  }
}
