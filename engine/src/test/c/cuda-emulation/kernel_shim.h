/* Lets kernels.cu compile as host C++: a launch sets these indices and calls the kernel once per
 * thread of the grid, in order. The kernels use no shared memory and no barriers, so running their
 * threads one after another is one of the schedules a GPU may choose. */
#include <math.h>

struct dim3 { unsigned x, y, z; };
extern thread_local dim3 blockIdx, blockDim, threadIdx, gridDim;

#define __global__
#define __device__ static inline
