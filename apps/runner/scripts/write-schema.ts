// Writes schema/sweep.schema.json from the registries (`pnpm --filter blameboard schema`);
// src/sweep/config.test.ts fails until the shipped file matches them.
import { writeFileSync } from 'node:fs';
import { sweepSchema } from '../src/sweep/schema.js';

writeFileSync(new URL('../schema/sweep.schema.json', import.meta.url), JSON.stringify(sweepSchema(), null, 2) + '\n');
