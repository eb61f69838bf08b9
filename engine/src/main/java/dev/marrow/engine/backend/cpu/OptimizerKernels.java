package dev.marrow.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused optimizer updates: one pass over a parameter, its gradient and its slots.
 *
 * <p>Moment slots below {@link #FLUSH} are flushed to zero. A weight that stops receiving gradient
 * (an MNIST border pixel) has its momentum decay geometrically into the subnormal range, where
 * every x86 multiply takes a microcode assist: measured 8× slower for Adam over such slots. A
 * moment under 1e-30 moves its weight by less than 1e-23, so flushing changes nothing visible.
 */
final class OptimizerKernels {
  /** Moments smaller than this are stored as zero; see the class comment. */
  static final float FLUSH = 1e-30f;

  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;
  private static final int PARALLEL_MIN = 1 << 15;
  private static final ThreadLocal<Update> UPDATES = ThreadLocal.withInitial(Update::new);

  private final ThreadTeam team;

  OptimizerKernels(ThreadTeam team) {
    this.team = team;
  }

  void sgd(
      float[] p,
      float[] g,
      float[] v,
      int n,
      float lr,
      float momentum,
      boolean nesterov,
      float weightDecay) {
    Update u = UPDATES.get();
    u.p = p;
    u.g = g;
    u.v = v;
    u.lr = lr;
    u.momentum = momentum;
    u.nesterov = nesterov;
    u.weightDecay = weightDecay;
    team.forRange(n, PARALLEL_MIN, u.sgd);
    u.release();
  }

  void adam(
      float[] p,
      float[] g,
      float[] m,
      float[] v,
      int n,
      float lr,
      float beta1,
      float beta2,
      float epsilon,
      int step,
      float weightDecay,
      boolean decoupled) {
    Update u = UPDATES.get();
    u.p = p;
    u.g = g;
    u.m = m;
    u.v = v;
    u.beta1 = beta1;
    u.beta2 = beta2;
    u.epsilon = epsilon;
    // Bias corrections folded into two scalars: p -= lr/c1 · m / (sqrt(v)/sqrt(c2) + eps).
    u.stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
    u.invSqrtC2 = (float) (1 / Math.sqrt(1 - Math.pow(beta2, step)));
    u.weightDecay = decoupled ? 0 : weightDecay; // L2, added to the gradient
    u.decay = decoupled ? 1 - lr * weightDecay : 1; // AdamW, applied to the weight
    team.forRange(n, PARALLEL_MIN, u.adam);
    u.release();
  }

  /**
   * One thread's update in flight and its loop bodies, built once: an optimizer step allocates
   * nothing. Team workers read the caller's fields, published by the team's hand-off.
   */
  private static final class Update {
    private float[] p;
    private float[] g;
    private float[] m;
    private float[] v;
    private float lr;
    private float momentum;
    private boolean nesterov;
    private float weightDecay;
    private float beta1;
    private float beta2;
    private float epsilon;
    private float stepSize;
    private float invSqrtC2;
    private float decay;

    private final ThreadTeam.RangeBody sgd = this::sgd;
    private final ThreadTeam.RangeBody adam = this::adam;

    void release() {
      p = g = m = v = null;
    }

    private void sgd(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector pv = FloatVector.fromArray(S, p, i);
        FloatVector gv = FloatVector.fromArray(S, g, i);
        if (weightDecay != 0) {
          gv = pv.fma(FloatVector.broadcast(S, weightDecay), gv);
        }
        FloatVector step = gv;
        if (momentum != 0) {
          FloatVector vv =
              FloatVector.fromArray(S, v, i).fma(FloatVector.broadcast(S, momentum), gv);
          vv = vv.blend(0f, vv.abs().compare(VectorOperators.LT, FLUSH));
          vv.intoArray(v, i);
          step = nesterov ? vv.fma(FloatVector.broadcast(S, momentum), gv) : vv;
        }
        step.fma(FloatVector.broadcast(S, -lr), pv).intoArray(p, i);
      }
      for (; i < to; i++) {
        float gi = g[i] + weightDecay * p[i];
        float step = gi;
        if (momentum != 0) {
          float vi = momentum * v[i] + gi;
          vi = Math.abs(vi) < FLUSH ? 0f : vi;
          v[i] = vi;
          step = nesterov ? gi + momentum * vi : vi;
        }
        p[i] -= lr * step;
      }
    }

    private void adam(int from, int to) {
      float oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2, l2 = weightDecay;
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector pv = FloatVector.fromArray(S, p, i);
        FloatVector gv = FloatVector.fromArray(S, g, i);
        if (l2 != 0) {
          gv = pv.fma(FloatVector.broadcast(S, l2), gv);
        }
        FloatVector mv = FloatVector.fromArray(S, m, i).mul(beta1).add(gv.mul(oneMinusB1));
        FloatVector vv = FloatVector.fromArray(S, v, i).mul(beta2).add(gv.mul(gv).mul(oneMinusB2));
        mv = mv.blend(0f, mv.abs().compare(VectorOperators.LT, FLUSH));
        vv = vv.blend(0f, vv.compare(VectorOperators.LT, FLUSH));
        mv.intoArray(m, i);
        vv.intoArray(v, i);
        FloatVector denom = vv.lanewise(VectorOperators.SQRT).mul(invSqrtC2).add(epsilon);
        pv.mul(decay).sub(mv.mul(stepSize).div(denom)).intoArray(p, i);
      }
      for (; i < to; i++) {
        float gi = g[i] + l2 * p[i];
        float mi = beta1 * m[i] + oneMinusB1 * gi;
        float vi = beta2 * v[i] + oneMinusB2 * gi * gi;
        mi = Math.abs(mi) < FLUSH ? 0f : mi;
        vi = vi < FLUSH ? 0f : vi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtC2 + epsilon);
      }
    }
  }
}
