package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BackendUnavailableException;
import dev.marrow.engine.backend.Backends;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/**
 * {@code --device auto|cpu|cuda[:N]}, {@code --strict-device} and {@code --deterministic}, shared
 * by every command.
 */
final class DeviceOptions {
  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      defaultValue = "auto",
      description =
          "auto (CUDA when its libraries and a GPU are there, else the CPU), cpu, cuda"
              + " or cuda:N. Default: ${DEFAULT-VALUE}; -Dmarrow.device overrides it.")
  String device = "auto";

  @Option(
      names = "--strict-device",
      description = "Fail instead of falling back to the CPU when --device auto finds no CUDA.")
  boolean strict;

  @Option(
      names = "--deterministic",
      description =
          "On CUDA, run only the algorithms cuDNN reports deterministic, so that a run repeats"
              + " bit for bit (some are slower); -Dmarrow.deterministic=true does the same.")
  boolean deterministic;

  /**
   * Opens the backend through the engine's registry. A device that cannot be opened is a user error
   * carrying the locator's diagnostic; {@code auto}'s fall-back to the CPU is one line on {@code
   * err}.
   */
  Backend open(int threads, PrintWriter err) {
    Backends.Selection s;
    try {
      s =
          Backends.open(
              device,
              Backends.Options.defaults()
                  .threads(threads)
                  .strict(strict)
                  .deterministic(deterministic));
    } catch (IllegalArgumentException | BackendUnavailableException e) {
      throw new UserError("--device " + device + ": " + e.getMessage());
    }
    if (s.fellBack()) {
      err.println("marrow: " + s.reason());
      err.flush();
    }
    return s.backend();
  }
}
