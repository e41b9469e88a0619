import { printable } from '@blameboard/core';

/** Where the CLI writes: injected so tests can capture it. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when progress bars may redraw a line (a TTY). */
  isTty: boolean;
}

export const processIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  // Messages quote model names, paths and file contents: their control characters are escaped so
  // nothing a model file says can recolour, retitle or rewrite the user's terminal.
  err: (line) => process.stderr.write(line.split('\n').map(printable).join('\n') + '\n'),
  isTty: Boolean(process.stderr.isTTY),
};
