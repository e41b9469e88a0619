/** Where the CLI writes: injected so tests can capture it. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when progress bars may redraw a line (a TTY). */
  isTty: boolean;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  isTty: Boolean(process.stderr.isTTY),
};
