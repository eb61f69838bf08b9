package dev.marrow.engine.backend;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Time per backend operation, like PyTorch's {@code torch.profiler} table: wrap a backend, build
 * plans and optimizers on {@link #backend()} instead, run, then read {@link #table()}.
 *
 * <pre>{@code
 * BackendProfiler profiler = BackendProfiler.of(cpu);
 * Plan plan = Plan.forTraining(net, profiler.backend(), 128, loss);
 * ... train some steps ...
 * System.out.print(profiler.table());
 * }</pre>
 *
 * Every call of the {@link Backend} interface is timed on the calling thread from entry to return,
 * grouped by operation name, or by name and shapes ({@link #byShape}) to see layer by layer. The
 * CPU backends compute inside the call, so its time is the operation's; an asynchronous backend
 * (CUDA) returns before the device finishes, and the waiting shows in whichever call synchronises.
 * The wrapper is a dynamic proxy: each call allocates its argument array, so a profiled training
 * step is no longer allocation-free, and each call costs about a microsecond more.
 */
public final class BackendProfiler {
  private final Backend target;
  private final Backend proxy;
  private final boolean byShape;
  private final Map<String, Totals> totals = new ConcurrentHashMap<>();

  private BackendProfiler(Backend target, boolean byShape) {
    this.target = target;
    this.byShape = byShape;
    this.proxy =
        (Backend)
            Proxy.newProxyInstance(
                Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, new Timer());
  }

  /** A profiler of {@code backend}, grouping calls by operation name. */
  public static BackendProfiler of(Backend backend) {
    return new BackendProfiler(backend, false);
  }

  /**
   * A profiler of {@code backend} grouping calls by operation name and shapes (a convolution's
   * geometry, a GEMM's m × n × k), like PyTorch's {@code group_by_input_shape}.
   */
  public static BackendProfiler byShape(Backend backend) {
    return new BackendProfiler(backend, true);
  }

  /** The timed backend: use it wherever the plain one would be used. */
  public Backend backend() {
    return proxy;
  }

  /** Forgets what was measured so far (e.g. the JIT's warm-up steps). */
  public void reset() {
    totals.clear();
  }

  /** One operation's totals. */
  public record Entry(String operation, long calls, double totalMillis) {
    public double averageMicros() {
      return calls == 0 ? 0 : totalMillis * 1000 / calls;
    }
  }

  /** The operations measured since the last reset, the most time first. */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    totals.forEach((op, t) -> out.add(new Entry(op, t.calls.sum(), t.nanos.sum() / 1e6)));
    out.sort(Comparator.comparingDouble(Entry::totalMillis).reversed());
    return out;
  }

  /** {@link #entries()} as a Markdown table: calls, total ms, share of the total, µs per call. */
  public String table() {
    List<Entry> entries = entries();
    double all = entries.stream().mapToDouble(Entry::totalMillis).sum();
    StringBuilder s = new StringBuilder("| operation | calls | total ms | % | µs per call |\n");
    s.append("| --- | ---: | ---: | ---: | ---: |\n");
    for (Entry e : entries) {
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %.1f | %.1f | %.1f |%n",
              e.operation(),
              e.calls(),
              e.totalMillis(),
              all == 0 ? 0 : 100 * e.totalMillis() / all,
              e.averageMicros()));
    }
    return s.append(String.format(Locale.ROOT, "| all | | %.1f | 100 | |%n", all)).toString();
  }

  private static final class Totals {
    final LongAdder calls = new LongAdder();
    final LongAdder nanos = new LongAdder();
  }

  private final class Timer implements InvocationHandler {
    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "equals" -> self == args[0];
          case "hashCode" -> System.identityHashCode(self);
          default -> "profiled " + target;
        };
      }
      long start = System.nanoTime();
      try {
        return method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      } finally {
        long nanos = System.nanoTime() - start;
        Totals t = totals.computeIfAbsent(key(method, args), k -> new Totals());
        t.calls.increment();
        t.nanos.add(nanos);
      }
    }

    private String key(Method method, Object[] args) {
      String name = method.getName();
      if (!byShape || args == null) {
        return name;
      }
      for (Object a : args) {
        if (a instanceof ConvGeometry g) {
          return String.format(
              Locale.ROOT,
              "%s %d→%d %dx%d k%dx%d s%d",
              name,
              g.c(),
              g.f(),
              g.h(),
              g.w(),
              g.kh(),
              g.kw(),
              g.strideH());
        }
      }
      if (name.equals("gemm") && args.length > 4) { // (transA, transB, m, n, k, …)
        return name + " " + args[2] + "x" + args[3] + "x" + args[4];
      }
      return name;
    }
  }
}
