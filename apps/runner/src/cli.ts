#!/usr/bin/env node
import { disableOnnxruntimeTelemetry, disposeSessions } from '@blameboard/core';
import { main } from './main.js';

// A reader that stops early (`blameboard list methods | head`) closes the pipe: that ends the
// output, it is not an error to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

disableOnnxruntimeTelemetry();
const code = await main(process.argv.slice(2));
await disposeSessions().catch(() => undefined);
process.exitCode = code;
