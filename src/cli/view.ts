/** What the run command needs from a view: it watches the engine from creation until `stop()`. */
export interface View {
  /** Stops redrawing and releases the terminal; the summary is printed after this. */
  stop(): void;
}

/** A sink for whole lines (the newline is added by the sink). */
export type WriteLine = (line: string) => void;
