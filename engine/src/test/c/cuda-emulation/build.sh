#!/usr/bin/env bash
# Builds the CUDA host emulation (tests only) into OUT, one shared library per NVIDIA library,
# each under NVIDIA's soname, so that JCuda's JNI code (linked against libcuda.so.1) binds to the
# emulation once the backend has loaded it.
#   build.sh OUT KERNELS_CU [12|13]
# 12 (the default): CUDA 12.6 sonames (libcudart/libnvrtc/libcublas.so.12), one libcudnn.so.9.
# 13: what a CUDA 13 machine ships: only .so.13 sonames, and cuDNN 9 split as NVIDIA ships it, a
# libcudnn.so.9 shim that dlopens libcudnn_graph/ops/cnn.so.9 by soname at first use. OUT is never
# on the linker path, so the sub-libraries load only if the backend loaded them first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
kernels="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
cuda="${3:-12}"
command -v gcc >/dev/null && command -v g++ >/dev/null || {
  echo "the CUDA host emulation needs gcc and g++ (apt-get install build-essential)" >&2; exit 2; }
mkdir -p "$out"
flags=(-shared -fPIC -O2 -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter -I "$here")
case "$cuda" in
  12) ;;
  13) flags+=(-DEMU_CUDA_VERSION=13000 -DEMU_CUBLAS_VERSION=130000
        -DEMU_CUDART_SONAME='"libcudart.so.13"') ;;
  *) echo "build.sh: CUDA flavour must be 12 or 13, got $cuda" >&2; exit 2 ;;
esac
gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcudart.so.$cuda -o "$out/libcudart.so.$cuda" \
  "$here/cudart.c"
g++ "${flags[@]}" -std=c++17 -DKERNELS_CU="\"$kernels\"" -Wl,-soname,libcuda.so.1 \
  -o "$out/libcuda.so.1" "$here/driver.cpp"
builtins="libnvrtc-builtins.so.$([ "$cuda" = 12 ] && echo 12.6 || echo 13.0)"
gcc "${flags[@]}" -std=gnu11 -Wl,-soname,"$builtins" -o "$out/$builtins" "$here/nvrtc_builtins.c"
sed "s/libnvrtc.so.12/libnvrtc.so.$cuda/" "$here/nvrtc.map" > "$out/nvrtc.map"
gcc "${flags[@]}" -std=gnu11 -DKERNELS_CU_PATH="\"$kernels\"" -DEMU_NVRTC_BUILTINS="\"$builtins\"" \
  -Wl,-soname,libnvrtc.so.$cuda \
  -Wl,--version-script="$out/nvrtc.map" -o "$out/libnvrtc.so.$cuda" "$here/nvrtc.c"
gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcublas.so.$cuda -o "$out/libcublas.so.$cuda" \
  "$here/cublas.c"
if [ "$cuda" = 12 ]; then
  gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcudnn.so.9 -o "$out/libcudnn.so.9" \
    "$here/cudnn.c" -lm
else
  # Each sub-library is the emulated API, but only cnn exports the convolution functions, as in
  # NVIDIA's split: the JDK's loader lookup searches loaded libraries in hash order, so with every
  # copy exporting cudnnConvolutionForward the convolutions ran in whichever copy came first (it
  # depended on the folder's path) and the math-type record read from cnn said -1. The shim
  # forwards each function to the sub-library that holds it.
  printf '{ local: *Convolution*; };\n' > "$out/cudnn-without-convolution.map"
  for part in graph ops cnn; do
    extra=()
    [ "$part" = cnn ] || extra=(-DEMU_CUDNN_WITHOUT_CONVOLUTION
      -Wl,--version-script="$out/cudnn-without-convolution.map")
    gcc "${flags[@]}" "${extra[@]}" -std=gnu11 -Wl,-soname,libcudnn_$part.so.9 \
      -o "$out/libcudnn_$part.so.9" "$here/cudnn.c" -lm
  done
  gcc "${flags[@]}" -std=gnu11 -Wl,-soname,libcudnn.so.9 -o "$out/libcudnn.so.9" \
    "$here/cudnn_shim.c" -ldl
fi
echo "CUDA $cuda host emulation built in $out"
