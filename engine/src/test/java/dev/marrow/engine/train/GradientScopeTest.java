package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.tensor.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A training step computes input gradients only where something upstream uses them: behind a
 * parameter-free Flatten, the first Dense layer skips its input-gradient GEMM.
 */
class GradientScopeTest {

  /** A CPU backend that counts GEMM calls. */
  private static Backend counting(Backend inner, AtomicInteger gemms) {
    return (Backend)
        Proxy.newProxyInstance(
            Backend.class.getClassLoader(),
            new Class<?>[] {Backend.class},
            (proxy, method, args) -> {
              if (method.getName().equals("gemm")) {
                gemms.incrementAndGet();
              }
              try {
                return method.invoke(inner, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static Sequential flattenThenDense() {
    return new Sequential(2, 3)
        .add(new Flatten())
        .add(new Dense(8, Activation.RELU))
        .add(new Dense(3))
        .build(4);
  }

  @Test
  void nothingComputesAGradientThatNobodyReads() {
    Dataset data =
        new Dataset(
            Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1}, 2, 2, 3),
            new int[] {0, 2},
            3);
    AtomicInteger gemms = new AtomicInteger();
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Backend b = counting(cpu, gemms);
      Sequential lean = flattenThenDense(), full = flattenThenDense();
      Plan plan = Plan.forTraining(lean, b, 2, new SparseCategoricalCrossentropy(true));
      plan.loadBatch(data, null, 0);
      gemms.set(0);
      plan.computeGradients();
      // forward 2, weight gradients 2, the second layer's input gradient 1
      assertEquals(5, gemms.get());

      Plan withInput =
          Plan.forTrainingWithInputGradient(full, b, 2, new SparseCategoricalCrossentropy(true));
      withInput.loadBatch(data, null, 0);
      gemms.set(0);
      withInput.computeGradients();
      assertEquals(6, gemms.get());
      for (int i = 0; i < lean.parameters().size(); i++) {
        assertArrayEquals(
            full.parameters().get(i).grad().toArray(),
            lean.parameters().get(i).grad().toArray(),
            lean.parameters().get(i).name());
      }
    }
  }
}
