package dev.marrow.engine.nn;

/**
 * What a layer's backward pass reads besides its output gradient (and buffers of its own): its
 * inputs, its output, both or neither. A plan keeps those activations until the backward pass has
 * run and lends the memory of the others to later buffers as soon as their readers' forward passes
 * are done. Saying too much costs memory; saying too little gives wrong gradients.
 */
public enum BackwardReads {
  NOTHING(false, false),
  INPUTS(true, false),
  OUTPUT(false, true),
  INPUTS_AND_OUTPUT(true, true);

  private final boolean inputs;
  private final boolean output;

  BackwardReads(boolean inputs, boolean output) {
    this.inputs = inputs;
    this.output = output;
  }

  public static BackwardReads of(boolean inputs, boolean output) {
    return inputs ? (output ? INPUTS_AND_OUTPUT : INPUTS) : (output ? OUTPUT : NOTHING);
  }

  /** Whether backward reads the layer's input activations. */
  public boolean inputs() {
    return inputs;
  }

  /** Whether backward reads the layer's output activation. */
  public boolean output() {
    return output;
  }
}
