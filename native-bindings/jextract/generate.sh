#!/usr/bin/env bash
# Regenerates the Panama bindings in src/main/java/dev/marrow/bindings/<lib>/ with jextract.
#   native-bindings/jextract/generate.sh JEXTRACT [CUDA_INCLUDE]
# JEXTRACT: a command that runs jextract (build it from the public openjdk/jextract source:
#   apt-get install libclang-14-dev; javac -d out --release 25 $(find src/main/java -name '*.java');
#   copy src/main/resources/* into out/; run it as java -Djava.library.path=/usr/lib/llvm-14/lib
#   --enable-native-access=org.openjdk.jextract -p out -m org.openjdk.jextract/org.openjdk.jextract.JextractTool;
# the committed bindings come from openjdk/jextract f9866df3a178baa2e4a3746a7a6e458d783ace92 run on
# Temurin 25 against Debian 12's libopenblas-dev 0.3.21 cblas.h and the CUDA 12.6 / cuDNN 9.6
# headers of the public repository zspace/system.cuda-12.6, folder include/);
# CUDA_INCLUDE: that CUDA/cuDNN include folder (NVRTC's nvrtc.h too); without it only CBLAS is
# regenerated.
# Bindings are generated without -l: nothing loads a library at class-load time; the library
# locator finds and loads the library, and the generated code resolves symbols through
# SymbolLookup.loaderLookup().
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jextract="$1"
out="$here/../src/main/java"
# jextract at HEAD emits SymbolLookup.findOrThrow, added in JDK 23; Marrow compiles for JDK 22, so
# rewrite that one call to its JDK 22 spelling (same behaviour: NoSuchElementException if absent).
jdk22_spelling() {
  sed -i 's/SYMBOL_LOOKUP\.findOrThrow(\("[A-Za-z0-9_]*"\))/SYMBOL_LOOKUP.find(\1).orElseThrow()/' "$@"
}

cblas_header=/usr/include/x86_64-linux-gnu/cblas.h
[ -f "$cblas_header" ] || cblas_header=/usr/include/cblas.h
[ -f "$cblas_header" ] || { echo "cblas.h not found: apt-get install libopenblas-dev" >&2; exit 2; }
rm -rf "$out/dev/marrow/bindings/cblas"
$jextract --output "$out" -t dev.marrow.bindings.cblas --header-class-name cblas_h \
  @"$here/includes-cblas.txt" "$cblas_header"
jdk22_spelling "$out"/dev/marrow/bindings/cblas/*.java
echo "generated dev.marrow.bindings.cblas from $cblas_header"

[ $# -ge 2 ] || { echo "no CUDA_INCLUDE given: CUDA bindings left as they are"; exit 0; }
cuda_include="$2"
# generate LIB HEADER [extra clang options...]
generate() {
  local lib="$1" header="$2"
  shift 2
  rm -rf "$out/dev/marrow/bindings/$lib"
  $jextract --output "$out" -t "dev.marrow.bindings.$lib" --header-class-name "${lib}_h" \
    -I "$cuda_include" "$@" @"$here/includes-$lib.txt" "$cuda_include/$header"
  jdk22_spelling "$out"/dev/marrow/bindings/"$lib"/*.java
  echo "generated dev.marrow.bindings.$lib from $cuda_include/$header"
}
generate cudart cuda_runtime_api.h
generate cublas cublas_api.h -D CUBLASAPI=
generate cudnn cudnn.h
generate nvrtc nvrtc.h
