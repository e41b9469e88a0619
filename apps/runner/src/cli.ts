#!/usr/bin/env node
import { disposeSessions } from '@blameboard/core';
import { main } from './main.js';

const code = await main(process.argv.slice(2));
await disposeSessions().catch(() => undefined);
process.exitCode = code;
