#!/usr/bin/env bash
# Builds the CUDA host emulation (tests only) into OUT, one shared library per NVIDIA library,
# each under NVIDIA's soname, so that JCuda's JNI code (linked against libcuda.so.1 and
# libnvrtc.so.12) binds to the emulation once the backend has loaded it.
#   build.sh OUT KERNELS_CU
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
kernels="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
command -v gcc >/dev/null && command -v g++ >/dev/null || {
  echo "the CUDA host emulation needs gcc and g++ (apt-get install build-essential)" >&2; exit 2; }
mkdir -p "$out"
flags=(-shared -fPIC -O2 -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -I "$here")
gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcudart.so.12 -o "$out/libcudart.so.12" "$here/cudart.c"
g++ "${flags[@]}" -std=c++17 -DKERNELS_CU="\"$kernels\"" -Wl,-soname,libcuda.so.1 \
  -o "$out/libcuda.so.1" "$here/driver.cpp"
gcc "${flags[@]}" -std=gnu11 -DKERNELS_CU_PATH="\"$kernels\"" -Wl,-soname,libnvrtc.so.12 \
  -Wl,--version-script="$here/nvrtc.map" -o "$out/libnvrtc.so.12" "$here/nvrtc.c"
gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcublas.so.12 -o "$out/libcublas.so.12" "$here/cublas.c"
gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcudnn.so.9 -o "$out/libcudnn.so.9" "$here/cudnn.c" -lm
echo "CUDA host emulation built in $out"
