package dev.marrow.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, expm1, log1p, sigmoid and tanh on float vectors, and erf and the normal CDF over arrays,
 * built from IEEE add, multiply, divide and fused multiply-add only (Cephes' single-precision
 * polynomials), so results are bit-identical whether the JIT has compiled the caller or not. The
 * Vector API's own EXP and TANH are not: compiled code calls an intrinsic math library whose last
 * bit differs from the interpreter's fallback, which made training results depend on when the JIT
 * reached a kernel. Accuracy, tested against double-precision references in VectorMathTest, is
 * stated at each function.
 */
final class VectorMath {
  private VectorMath() {}

  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  private static final float HALF_LN2 = 0.34657359f;
  private static final float SQRT_HALF = 0.707106781186547524f;
  private static final float SQRT2 = 1.41421356237309505f;

  /** 1.5·2²³: adding it rounds to the nearest integer and leaves that integer in the low bits. */
  private static final float ROUNDER = 12582912f;

  private static final int ROUNDER_BITS = 0x4B400000;

  /**
   * e^x, clamped to the finite normal range (e^x for x ≤ −87.3 is 2⁻¹²⁶·…, not 0). Within 2 ulp.
   */
  static FloatVector exp(FloatVector x) {
    x = x.max(-87.3f).min(88.3f);
    FloatVector t = x.fma(LOG2E, ROUNDER);
    FloatVector n = t.sub(ROUNDER);
    FloatVector r = n.fma(n.broadcast(-LN2_HI), x); // Cody-Waite: x − n·ln2 in two exact steps
    r = n.fma(n.broadcast(-LN2_LO), r);
    FloatVector y = expPolynomial(r).mul(r.mul(r)).add(r).add(1f);
    IntVector k = ((IntVector) t.reinterpretAsInts()).sub(ROUNDER_BITS);
    FloatVector scale =
        (FloatVector) k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return y.mul(scale);
  }

  /** Cephes' p with e^r = 1 + r + r²·p(r) for |r| ≤ ln2/2. */
  private static FloatVector expPolynomial(FloatVector r) {
    FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
    p = horner(p, r, 8.3334519073e-3f);
    p = horner(p, r, 4.1665795894e-2f);
    p = horner(p, r, 1.6666665459e-1f);
    return horner(p, r, 5.0000001201e-1f);
  }

  /**
   * e^x − 1 (ELU's negative side). Where |x| &lt; ln2/2, exp's reduction leaves x as it is, so its
   * polynomial gives x + x²·p(x) without the 1 that would cancel. Within 3 ulp.
   */
  static FloatVector expm1(FloatVector x) {
    FloatVector near = expPolynomial(x).mul(x.mul(x)).add(x);
    FloatVector far = exp(x).sub(1f);
    return far.blend(near, x.abs().compare(VectorOperators.LT, HALF_LN2));
  }

  /**
   * log(1 + u) for 0 ≤ u ≤ 1, softplus' range (Cephes' logf polynomial): w = 1 + u rounded, and w
   * or w/2 (exactly) in [√½, √2) is f + 1, log(f + 1) by the polynomial, ln 2 added in two parts
   * for w/2. What rounding w dropped, c = u − (w − 1) (exact, as 1 ≥ u), adds c/w, which keeps
   * small u accurate. Within 1.5 ulp. Without logf's exponent extraction: that made the loops
   * calling it too large for C2 to compile whole (see erf below).
   */
  static FloatVector log1p(FloatVector u) {
    FloatVector w = u.add(1f);
    FloatVector c = u.sub(w.sub(1f));
    VectorMask<Float> halve = w.compare(VectorOperators.GE, SQRT2);
    FloatVector f = w.blend(w.mul(0.5f), halve).sub(1f); // exact
    FloatVector e = f.broadcast(0f).blend(1f, halve);
    FloatVector z = f.mul(f);
    FloatVector p = f.fma(7.0376836292e-2f, -1.1514610310e-1f);
    p = horner(p, f, 1.1676998740e-1f);
    p = horner(p, f, -1.2420140846e-1f);
    p = horner(p, f, 1.4249322787e-1f);
    p = horner(p, f, -1.6668057665e-1f);
    p = horner(p, f, 2.0000714765e-1f);
    p = horner(p, f, -2.4999993993e-1f);
    p = horner(p, f, 3.3333331174e-1f);
    FloatVector y = p.mul(f).mul(z);
    y = e.fma(e.broadcast(LN2_LO), y);
    y = z.fma(z.broadcast(-0.5f), y).add(c.div(w));
    // e·LN2_HI is exact (LN2_HI has 9 significant bits), so the fused add rounds as Cephes' does
    return e.fma(e.broadcast(LN2_HI), f.add(y));
  }

  /** One Horner step, p·x + c, fused. */
  private static FloatVector horner(FloatVector p, FloatVector x, float c) {
    return p.fma(x, p.broadcast(c));
  }

  /** 1 / (1 + e^−x). Within 3 ulp. */
  static FloatVector sigmoid(FloatVector x) {
    FloatVector d = exp(x.neg()).add(1f);
    return d.broadcast(1f).div(d);
  }

  /**
   * tanh: an odd polynomial below |x| = 0.625, 1 − 2/(e^2|x| + 1) with x's sign above. Within 3
   * ulp.
   */
  static FloatVector tanh(FloatVector x) {
    FloatVector z = x.mul(x);
    FloatVector p = z.fma(-5.70498872745e-3f, 2.06390887954e-2f);
    p = horner(p, z, -5.37397155531e-2f);
    p = horner(p, z, 1.33314422036e-1f);
    p = horner(p, z, -3.33332819422e-1f);
    FloatVector small = p.mul(z).fma(x, x);
    FloatVector ax = x.abs();
    FloatVector d = exp(ax.add(ax)).add(1f);
    FloatVector large = d.broadcast(-2f).div(d).add(1f);
    large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
    VectorMask<Float> isLarge = ax.compare(VectorOperators.GE, 0.625f);
    return small.blend(large, isLarge);
  }

  // ---- erf and Φ: array to array, in passes ---------------------------------------------------
  //
  // They are too long for one loop. C2 stops inlining into a compilation once its graph passes a
  // node budget, which the Vector API's layers use up after a few dozen operations, and a vector
  // passed to or returned from a call that is not inlined lives on the heap (a one-loop Φ
  // allocated 0.8 KiB per 16 elements). So each runs as passes, loops small enough to compile
  // whole over blocks of a few hundred elements that stay in L1, without masks (masks cost nodes
  // too). Splitting is not enough by itself: C2 inlines the passes back into their caller and runs
  // out of budget there, or not, depending on which it compiled first. So all passes are called
  // from one call site, in run: it sees many pass classes, and C2 calls such a site without
  // inlining, compiling each pass on its own.

  /** A pass over whole vectors: reads x (and out), writes out, for i below n rounded up. */
  @FunctionalInterface
  interface Pass {
    void run(float[] x, float[] out, int n);
  }

  /** Runs the passes in order: the one call site of every pass (see above). */
  static void run(Pass[] passes, float[] x, float[] out, int n) {
    for (Pass p : passes) {
      p.run(x, out, n);
    }
  }

  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  private static final Pass[] ERF = {
    (x, out, n) -> expOfMinusSquare(x, out, n, 1f),
    (x, out, n) -> erfcTail(x, out, n, 1f),
    VectorMath::erfFromTail
  };

  /** Φ's passes followed by {@code next}, which finds Φ(x) in out. */
  static Pass[] normalCdfThen(Pass next) {
    return new Pass[] {
      (x, out, n) -> expOfMinusSquare(x, out, n, 0.5f),
      (x, out, n) -> erfcTail(x, out, n, SQRT_HALF),
      VectorMath::normalCdfFromTail,
      next
    };
  }

  private static final Pass[] NORMAL_CDF = normalCdfThen((x, out, n) -> {});

  /**
   * {@code out[i] = erf(x[i])} for i &lt; n rounded up to whole vectors, which both arrays must
   * hold (Cephes' erff): x·T(x²) below |x| = 1, else 1 − erfc(|x|) with x's sign. Within 2 ulp
   * (1.1e-7 absolute). out must not be x.
   */
  static void erf(float[] x, float[] out, int n) {
    run(ERF, x, out, n);
  }

  /**
   * {@code out[i] = Φ(x[i])} for i &lt; n rounded up to whole vectors, which both arrays must hold.
   * Φ(x) = ½·erfc(−x/√2) is the standard normal CDF (Cephes' ndtrf): ½ + ½·erf(x/√2) in the middle,
   * ½·erfc(|x|/√2) in the tails so that the lower tail keeps its relative accuracy. Within 7e-8
   * absolute and 7 ulp (the worst near x = −1.2, where ½ + ½·erf cancels) down to Φ = 1e-37 (x ≈
   * −13); flushed to 0 below. out must not be x.
   */
  static void normalCdf(float[] x, float[] out, int n) {
    run(NORMAL_CDF, x, out, n);
  }

  // Last pass of erf: out = x·T(x²) or ±(1 − out), out holding erfc(|x|)
  private static void erfFromTail(float[] x, float[] out, int n) {
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      FloatVector small = v.mul(erfPolynomial(v.mul(v)));
      FloatVector large = FloatVector.fromArray(S, out, i).neg().add(1f);
      large = large.blend(large.neg(), v.compare(VectorOperators.LT, 0f));
      small.blend(large, v.abs().compare(VectorOperators.GE, 1f)).intoArray(out, i);
    }
  }

  // Last pass of Φ: out = the middle or the tail, out holding erfc(|x|/√2)
  private static void normalCdfFromTail(float[] x, float[] out, int n) {
    for (int i = 0; i < n; i += L) {
      FloatVector t = FloatVector.fromArray(S, x, i).mul(SQRT_HALF);
      // ½ + t·T(t²)/2 rounded once: where Φ is small, ½ + ½·erf cancels and a rounded t·T shows
      FloatVector middle = t.fma(erfPolynomial(t.mul(t)).mul(0.5f), t.broadcast(0.5f));
      FloatVector half = FloatVector.fromArray(S, out, i).mul(0.5f);
      FloatVector tail = half.blend(half.neg().add(1f), t.compare(VectorOperators.GT, 0f));
      middle.blend(tail, t.abs().compare(VectorOperators.GE, 1f)).intoArray(out, i);
    }
  }

  /** Cephes' T with erf(x) = x·T(x²) for |x| ≤ 1. */
  private static FloatVector erfPolynomial(FloatVector z) {
    FloatVector p = z.fma(7.853861353153693e-5f, -8.010193625184903e-4f);
    p = horner(p, z, 5.188327685732524e-3f);
    p = horner(p, z, -2.685381193529856e-2f);
    p = horner(p, z, 1.128358514861418e-1f);
    p = horner(p, z, -3.761262582423300e-1f);
    return horner(p, z, 1.128379165726710f);
  }

  /**
   * First pass of erfc(a), a = |x|·√k: out = e^−a², 0 once that underflows (erfc(9.35) ≈ 1e-39). a²
   * is taken from x as k·x² split in two, h + l, l being what rounding h dropped (k is 1 or ½, so
   * scaling is exact): rounding a² whole, or rounding a = x/√2 first, would cost e^−a² a relative
   * 2⁻²⁴·a² (the 3.9e-6 Cephes states for erfcf near a = 9).
   */
  private static void expOfMinusSquare(float[] x, float[] out, int n, float k) {
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      FloatVector xx = v.mul(v);
      FloatVector h = xx.mul(k);
      FloatVector l = v.fma(v, xx.neg()).mul(k);
      FloatVector e = exp(h.neg());
      e = e.fma(l.neg(), e); // e^−(h + l) = e^−h·(1 − l) to float precision
      e.blend(0f, h.compare(VectorOperators.GT, 87.3f)).intoArray(out, i);
    }
  }

  /**
   * Second pass: out = erfc(a) = out·P(1/a²)/a for a = |x|·s ≥ 1 (Cephes' erfcf, P fitted on [1, 2)
   * and another on [2, 14)). Lanes with a &lt; 1 get garbage, for the last pass to blend away.
   */
  private static void erfcTail(float[] x, float[] out, int n, float s) {
    for (int i = 0; i < n; i += L) {
      FloatVector a = FloatVector.fromArray(S, x, i).abs().mul(s);
      FloatVector q = a.broadcast(1f).div(a);
      FloatVector y = q.mul(q);
      FloatVector p = y.fma(2.326819970068386e-2f, -1.387039388740657e-1f);
      p = horner(p, y, 3.687424674597105e-1f);
      p = horner(p, y, -5.824733027278666e-1f);
      p = horner(p, y, 6.210004621745983e-1f);
      p = horner(p, y, -4.944515323274145e-1f);
      p = horner(p, y, 3.404879937665872e-1f);
      p = horner(p, y, -2.741127028184656e-1f);
      p = horner(p, y, 5.638259427386472e-1f);
      FloatVector r = y.fma(-1.047766399936249e1f, 1.297719955372516e1f);
      r = horner(r, y, -7.495518717768503f);
      r = horner(r, y, 2.921019019210786f);
      r = horner(r, y, -1.015265279202700f);
      r = horner(r, y, 4.218463358204948e-1f);
      r = horner(r, y, -2.820767439740514e-1f);
      r = horner(r, y, 5.641895067754075e-1f);
      FloatVector poly = p.blend(r, a.compare(VectorOperators.GE, 2f));
      FloatVector.fromArray(S, out, i).mul(q).mul(poly).intoArray(out, i);
    }
  }
}
