/** What the run command needs from a view: it watches the engine from creation until `stop()`. */
export interface View {
  /** Stops redrawing and releases the terminal; the summary is printed after this. */
  stop(): void;
}

/** A sink for whole lines (the newline is added by the sink). */
export type WriteLine = (line: string) => void;

/** A line sink that holds lines until {@link LineGate.open}, then writes them in order and passes the rest through. */
export interface LineGate {
  readonly write: WriteLine;
  /** Writes the held lines (idempotent). */
  open(): void;
}

/** A {@link LineGate} in front of `write`, open at once unless `closed`. */
export function lineGate(write: WriteLine, closed: boolean): LineGate {
  let held: string[] | undefined = closed ? [] : undefined;
  return {
    write: (line) => (held === undefined ? write(line) : held.push(line)),
    open() {
      const lines = held ?? [];
      held = undefined;
      for (const line of lines) write(line);
    },
  };
}
