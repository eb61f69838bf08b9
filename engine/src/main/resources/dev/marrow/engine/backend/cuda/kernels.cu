// Marrow's fused kernels for what cuBLAS and cuDNN don't cover, compiled at run time by NVRTC.
// One thread per element (or per row for row-wise work), no shared memory and no inter-thread
// cooperation, so that the CUDA host emulation can run this same file as C++ thread by thread.
// Every kernel follows the semantics of the matching Backend method (see Backend.java).

#define MARROW_INDEX (blockIdx.x * blockDim.x + threadIdx.x)
#define MOMENT_FLUSH 1e-30f

extern "C" __global__ void fill(float* x, float value, int n) {
  int i = MARROW_INDEX;
  if (i < n) x[i] = value;
}

extern "C" __global__ void multiply(const float* a, const float* b, float* out, int n) {
  int i = MARROW_INDEX;
  if (i < n) out[i] = a[i] * b[i];
}

// out += a * b: Backend.multiply with accumulate (the kernel above is the overwriting form).
extern "C" __global__ void multiply_add(const float* a, const float* b, float* out, int n) {
  int i = MARROW_INDEX;
  if (i < n) out[i] += a[i] * b[i];
}

// Backend.copyBlocks: block b < blocks is `length` floats at srcOffset + b * srcStride in src and
// at dstOffset + b * dstStride in dst; one thread per copied float (blocks * length < 2^31, checked
// on the host). Blocks never overlap in dst, so accumulating threads never share an element.
extern "C" __global__ void copy_blocks(const float* src, int srcOffset, int srcStride, float* dst,
    int dstOffset, int dstStride, int blocks, int length, int accumulate) {
  int i = MARROW_INDEX;
  if (i >= blocks * length) return;
  int b = i / length, j = i - b * length;
  float v = src[srcOffset + (long) b * srcStride + j];
  float* d = dst + dstOffset + (long) b * dstStride + j;
  *d = accumulate ? *d + v : v;
}

// The activations cuDNN's activation descriptors lack (see Activation.java for the definitions).
// Codes as CudaBackend#kernelActivation numbers them.
#define ACT_LEAKY_RELU 1
#define ACT_ELU 2
#define ACT_GELU 3
#define ACT_SILU 4
#define ACT_SOFTPLUS 5
#define LEAKY_RELU_SLOPE 0.2f
#define SQRT_HALF 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

__device__ float activate(int kind, float x) {
  switch (kind) {
    case ACT_LEAKY_RELU: return x > 0.0f ? x : LEAKY_RELU_SLOPE * x;
    case ACT_ELU: return x > 0.0f ? x : expm1f(x);
    case ACT_GELU: return 0.5f * x * erfcf(-x * SQRT_HALF);  // erfc keeps the lower tail accurate
    case ACT_SILU: return x / (1.0f + expf(-x));
    default: return x > 20.0f ? x : fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));  // softplus
  }
}

// f'(x) from the forward input x (gelu, silu, softplus) or output y (leaky_relu, elu).
__device__ float activation_derivative(int kind, float x, float y) {
  switch (kind) {
    case ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : LEAKY_RELU_SLOPE;
    case ACT_ELU: return y > 0.0f ? 1.0f : y + 1.0f;  // e^x = y + 1 for x <= 0
    case ACT_GELU: return 0.5f * erfcf(-x * SQRT_HALF) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
    case ACT_SILU: {
      float s = 1.0f / (1.0f + expf(-x));
      return s * (1.0f + x * (1.0f - s));
    }
    default: return x > 20.0f ? 1.0f : 1.0f / (1.0f + expf(-x));  // softplus
  }
}

// x, y are (n): y = f(x); x and y may be the same buffer.
extern "C" __global__ void activation_forward(int kind, const float* x, float* y, int n) {
  int i = MARROW_INDEX;
  if (i < n) y[i] = activate(kind, x[i]);
}

// x, y, dy, dx are (n): dx = dy * f'(x). Only the one of x and y that the kind reads may be null.
extern "C" __global__ void activation_backward(int kind, const float* x, const float* y,
    const float* dy, float* dx, int n) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  int fromInput = kind == ACT_GELU || kind == ACT_SILU || kind == ACT_SOFTPLUS;
  dx[i] = dy[i] * activation_derivative(kind, fromInput ? x[i] : 0.0f, fromInput ? 0.0f : y[i]);
}

extern "C" __global__ void sgd_update(float* param, const float* grad, float* velocity, float lr,
    float momentum, int nesterov, float weightDecay, int n) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  float g = grad[i] + weightDecay * param[i];
  float step = g;
  if (momentum != 0.0f) {
    float v = momentum * velocity[i] + g;
    v = fabsf(v) < MOMENT_FLUSH ? 0.0f : v;
    velocity[i] = v;
    step = nesterov ? g + momentum * v : v;
  }
  param[i] -= lr * step;
}

// correction1/2 = 1 - beta^t, computed on the host in double precision.
extern "C" __global__ void adam_update(float* param, const float* grad, float* m, float* v,
    float lr, float beta1, float beta2, float epsilon, double correction1, double correction2,
    float weightDecay, int decoupled, int n) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  float p = param[i];
  float g = grad[i] + (decoupled ? 0.0f : weightDecay * p);
  if (decoupled) p -= lr * weightDecay * p;
  float mi = beta1 * m[i] + (1.0f - beta1) * g;
  float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
  mi = fabsf(mi) < MOMENT_FLUSH ? 0.0f : mi;
  vi = vi < MOMENT_FLUSH ? 0.0f : vi;
  m[i] = mi;
  v[i] = vi;
  double mHat = mi / correction1, vHat = vi / correction2;
  param[i] = (float) (p - lr * mHat / (sqrt(vHat) + epsilon));
}

// Softmax + cross-entropy of one row against a target distribution; rowLoss[r] >= 0.
// A sparse label that is not a class index makes the row's loss NaN (the host reports it).
__device__ void softmax_xent_row(const float* logits, const float* targets, float label,
    float* dlogits, float* rowLoss, int r, int cols, float gradScale) {
  const float* z = logits + (long) r * cols;
  int li = (int) label;
  if (targets == 0 && (li != label || li < 0 || li >= cols)) {
    rowLoss[r] = nanf("");
    return;
  }
  float max = z[0];
  for (int c = 1; c < cols; c++) max = fmaxf(max, z[c]);
  double sum = 0, targetSum = 0, loss = 0;
  for (int c = 0; c < cols; c++) {
    sum += exp((double) (z[c] - max));
    targetSum += targets ? targets[(long) r * cols + c] : (c == li ? 1.0 : 0.0);
  }
  double logSum = log(sum) + max;
  for (int c = 0; c < cols; c++) {
    double t = targets ? targets[(long) r * cols + c] : (c == li ? 1.0 : 0.0);
    loss += t * (logSum - z[c]);
    if (dlogits) {
      dlogits[(long) r * cols + c] = (float) (gradScale * (exp(z[c] - logSum) * targetSum - t));
    }
  }
  rowLoss[r] = (float) loss;
}

extern "C" __global__ void softmax_xent_sparse(const float* logits, const float* labels,
    float* dlogits, float* rowLoss, int rows, int cols, float gradScale) {
  int r = MARROW_INDEX;
  if (r < rows) softmax_xent_row(logits, 0, labels[r], dlogits, rowLoss, r, cols, gradScale);
}

extern "C" __global__ void softmax_xent_dense(const float* logits, const float* targets,
    float* dlogits, float* rowLoss, int rows, int cols, float gradScale) {
  int r = MARROW_INDEX;
  if (r < rows) softmax_xent_row(logits, targets, 0.0f, dlogits, rowLoss, r, cols, gradScale);
}

// Cross-entropy of probabilities clipped to [eps, 1 - eps] as Keras does; per-element loss.
extern "C" __global__ void xent_probabilities(const float* probs, const float* targets,
    float* dprobs, float* loss, int n, float gradScale) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  double eps = 1e-7, p = probs[i], t = targets[i];
  double clipped = fmin(fmax(p, eps), 1 - eps);
  loss[i] = (float) (-t * log(clipped));
  if (dprobs) dprobs[i] = (float) (p < eps || p > 1 - eps ? 0 : -gradScale * t / clipped);
}

extern "C" __global__ void squared_error(const float* pred, const float* targets, float* dpred,
    float* loss, int n, float gradScale) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  double d = (double) pred[i] - targets[i];
  loss[i] = (float) (d * d);
  if (dpred) dpred[i] = (float) (gradScale * 2 * d);
}

// Backend.pointwiseLoss: kind is PointwiseLoss's ordinal (ABSOLUTE, HUBER, BCE on logits, BCE on
// probabilities); per-element loss terms, summed on the host side of the backend.
extern "C" __global__ void pointwise_loss(const float* pred, const float* targets, float* dpred,
    float* loss, int n, int kind, float delta, float gradScale) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  double x = pred[i], t = targets[i], d = x - t, term, grad;
  if (kind == 0) {
    term = fabs(d);
    grad = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
  } else if (kind == 1) {
    term = fabs(d) <= delta ? 0.5 * d * d : delta * (fabs(d) - 0.5 * delta);
    grad = fmin((double) delta, fmax(-(double) delta, d));
  } else if (kind == 2) {
    double e = exp(-fabs(x));
    term = fmax(x, 0.0) - x * t + log1p(e);
    grad = (x >= 0 ? 1 / (1 + e) : e / (1 + e)) - t;
  } else {
    double eps = 1e-7, p = fmin(fmax(x, eps), 1 - eps);
    term = -(t * log(p) + (1 - t) * log(1 - p));
    grad = x < eps || x > 1 - eps ? 0.0 : (p - t) / (p * (1 - p));
  }
  loss[i] = (float) term;
  if (dpred) dpred[i] = (float) (gradScale * grad);
}

__device__ int argmax_row(const float* scores, int r, int cols) {
  const float* s = scores + (long) r * cols;
  int best = 0;
  for (int c = 1; c < cols; c++) {
    if (s[c] > s[best]) best = c;
  }
  return best;
}

extern "C" __global__ void argmax_rows(const float* scores, float* out, int rows, int cols) {
  int r = MARROW_INDEX;
  if (r < rows) out[r] = (float) argmax_row(scores, r, cols);
}

// hit[r] = 1 when row r's argmax is its label (targets == 0) or its target's argmax.
extern "C" __global__ void count_correct(const float* scores, const float* labels,
    const float* targets, float* hit, int rows, int cols) {
  int r = MARROW_INDEX;
  if (r >= rows) return;
  int expected = targets ? argmax_row(targets, r, cols) : (int) labels[r];
  hit[r] = argmax_row(scores, r, cols) == expected ? 1.0f : 0.0f;
}

// The counter-based uniform of DropoutMask.java: splitmix64 of (seed, index), top 24 bits.
__device__ float dropout_uniform(unsigned long long seed, unsigned long long index) {
  unsigned long long z = seed + (index + 1ULL) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z = z ^ (z >> 31);
  return (float) (z >> 40) * 5.9604644775390625e-8f;
}

extern "C" __global__ void dropout_forward(const float* x, float* y, float* mask, float rate,
    unsigned long long seed, int n) {
  int i = MARROW_INDEX;
  if (i >= n) return;
  float m = dropout_uniform(seed, (unsigned long long) i) >= rate ? 1.0f / (1.0f - rate) : 0.0f;
  mask[i] = m;
  y[i] = x[i] * m;
}

// out (planes × ph × pw) = x (planes × h × w) shifted by (top, left), `value` outside it: the
// explicit padding for geometries cuDNN's symmetric padding cannot express.
extern "C" __global__ void pad_planes(const float* x, float* out, int planes, int h, int w,
    int top, int left, int ph, int pw, float value) {
  int i = MARROW_INDEX;
  if (i >= planes * ph * pw) return;
  int plane = i / (ph * pw), r = i / pw % ph - top, c = i % pw - left;
  out[i] = r >= 0 && r < h && c >= 0 && c < w ? x[((long) plane * h + r) * w + c] : value;
}

// The inverse: out (planes × h × w) = the (top, left)-shifted window of padded (planes × ph × pw).
extern "C" __global__ void crop_planes(const float* padded, float* out, int planes, int h, int w,
    int top, int left, int ph, int pw) {
  int i = MARROW_INDEX;
  if (i >= planes * h * w) return;
  int plane = i / (h * w), r = i / w % h + top, c = i % w + left;
  out[i] = r < ph && c < pw ? padded[((long) plane * ph + r) * pw + c] : 0.0f;
}
