/* NVRTC's builtins library (libnvrtc-builtins.so.MAJOR.MINOR), which libnvrtc opens by soname at
 * every compilation. Its content does not matter here; that it is found does: on a machine whose
 * CUDA folder is not on the linker path (Python wheels, MARROW_CUDA_LIB), only a library the
 * backend loaded first is. */
#include "emulation.h"

EXPORT int marrow_emulation_nvrtc_builtins(void) { return EMU_CUDA_VERSION; }
