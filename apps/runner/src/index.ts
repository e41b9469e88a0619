/** Programmatic entry: run a `blameboard` command line in-process and get its exit code. */
export { main } from './main.js';
export { processIo, type Io } from './io.js';
