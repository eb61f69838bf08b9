// The machine's FP32 FMA peak measured in C, the reference FmaPeak is checked against in the same
// run (bench/run --peak). Compiled there with gcc -O3 -march=native -ffp-contract=fast -pthread:
// one vector of the widest width -march=native allows, CHAINS independent FMA chains per thread
// (latency 4 × 2 FMA ports = 8 in flight on Zen 3 and Skylake-X; 16 fill AVX-512's 32 registers
// with room for the operands, 12 AVX2's 16), no memory traffic.
//
//   fma_peak THREADS    prints "GFLOPS <best of 5 runs>" and the vector width and chain count.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#define CHAINS 16
#else
#define LANES 8
#define CHAINS 12
#endif

typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

static const long ITERATIONS = 20000000;

static void *chains(void *out) {
  vec x, y, a[CHAINS];
  for (int l = 0; l < LANES; l++) {
    x[l] = 1.0000001f;
    y[l] = 0.9999999f;
  }
  for (int c = 0; c < CHAINS; c++) {
    a[c] = c % 2 ? x : y;
  }
  for (long i = 0; i < ITERATIONS; i++) {
#pragma GCC unroll 16
    for (int c = 0; c < CHAINS; c++) {
      a[c] = a[c] * x + y; // one FMA with -ffp-contract=fast
    }
    __asm__ volatile("" : "+x"(x)); // keeps the loop from being folded away
  }
  float sum = 0;
  for (int c = 0; c < CHAINS; c++) {
    for (int l = 0; l < LANES; l++) {
      sum += a[c][l];
    }
  }
  *(float *)out = sum;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  pthread_t *ts = malloc(sizeof(pthread_t) * threads);
  float *sinks = malloc(sizeof(float) * threads);
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < threads; t++) {
      pthread_create(&ts[t], NULL, chains, &sinks[t]);
    }
    for (int t = 0; t < threads; t++) {
      pthread_join(ts[t], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    double flops = 2.0 * CHAINS * LANES * (double)ITERATIONS * threads;
    if (flops / seconds / 1e9 > best) {
      best = flops / seconds / 1e9;
    }
  }
  printf("GFLOPS %.1f lanes %d chains %d threads %d (sink %g)\n", best, LANES, CHAINS, threads,
         (double)sinks[0]);
  return 0;
}
