package dev.marrow.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code marrow} command: train, summary, info. */
@Command(
    name = "marrow",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Marrow: deep learning on the JVM.",
    subcommands = {
      TrainCommand.class,
      EvaluateCommand.class,
      PredictCommand.class,
      PlotCommand.class,
      SummaryCommand.class,
      InfoCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {
  /** Exit code for mistakes the user can fix: bad flags, unknown model, unreadable data. */
  public static final int USER_ERROR = 2;

  /** Marrow's version, recorded in run folders and model files. */
  public static final String VERSION = "0.1.0-SNAPSHOT";

  /** Exit code for internal failures. */
  public static final int INTERNAL_ERROR = 1;

  // The engine logs its choices (the backend and why) at INFO through System.Logger, for library
  // users; the CLI prints its own lines, so it keeps only the engine's warnings. A field: the
  // logging framework holds loggers weakly, and a collected one would forget its level.
  private static final java.util.logging.Logger ENGINE_LOG = quietEngineLog();

  private static java.util.logging.Logger quietEngineLog() {
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.marrow");
    log.setLevel(java.util.logging.Level.WARNING);
    return log;
  }

  @Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of internal errors.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given streams and returns the exit code (used by tests). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return execute(new CommandLine(new Main()), args, out, err);
  }

  /**
   * Runs {@code cli} (a {@code Main}, possibly with extra subcommands in tests) with Marrow's exit
   * codes: 2 and one line for what the user can fix — bad flags and values, missing or corrupt
   * files, a run folder that cannot be written (disk full, permissions); 1 and a short line for
   * anything else, with the stack trace only under {@code --verbose}.
   */
  static int execute(CommandLine cli, String[] args, PrintWriter out, PrintWriter err) {
    cli.setOut(out);
    cli.setErr(err);
    cli.setExitCodeExceptionMapper(e -> e instanceof UserError ? USER_ERROR : INTERNAL_ERROR);
    cli.setParameterExceptionHandler(
        (ex, a) -> {
          err.println("marrow: " + ex.getMessage());
          err.println("Run 'marrow " + subcommandName(ex.getCommandLine()) + "--help' for usage.");
          return USER_ERROR;
        });
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parsed) -> {
          if (ex instanceof UserError
              || ex instanceof IllegalArgumentException
              || ex instanceof dev.marrow.engine.train.TrainingDivergedException) {
            err.println("marrow: " + ex.getMessage());
            return USER_ERROR;
          }
          if (ex instanceof java.io.IOException || ex instanceof java.io.UncheckedIOException) {
            err.println(
                "marrow: "
                    + ex.getMessage()
                    + " (is the disk full, or the folder not"
                    + " writable? Files written before are intact: every write is atomic)");
            return USER_ERROR;
          }
          Main main = cli.getCommand();
          err.println("marrow: internal error: " + ex);
          if (main.verbose) {
            ex.printStackTrace(err);
          } else {
            err.println("(run with --verbose for the stack trace)");
          }
          return INTERNAL_ERROR;
        });
    return cli.execute(args);
  }

  private static String subcommandName(CommandLine cl) {
    return cl.getParent() == null ? "" : cl.getCommandName() + " ";
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {
        "marrow " + (v == null ? VERSION : v),
        "java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
      };
    }
  }
}
