import { UsageError } from '@blameboard/core';
import { parseFlags } from '../args.js';
import type { Io } from '../io.js';

const KINDS = ['methods', 'metrics', 'datasets', 'models'] as const;

export async function listCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('list', argv, { json: { type: 'boolean' } });
  const kind = positionals[0];
  if (!KINDS.includes(kind as (typeof KINDS)[number])) {
    throw new UsageError(`say what to list: ${KINDS.join(', ')}${kind ? ` (got '${kind}')` : ''}`);
  }
  const rows = await listing(kind as (typeof KINDS)[number]);
  if (values.json) {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  for (const row of rows) io.out(summaryLine(kind, row));
  return 0;
}

/** Each registry is imported only when listed: `list methods` loads neither metrics nor the zoo. */
async function listing(kind: (typeof KINDS)[number]): Promise<Record<string, unknown>[]> {
  switch (kind) {
    case 'methods': {
      const { methods } = await import('@blameboard/methods');
      return methods.map((m) => ({ id: m.id, kind: m.kind, description: m.description, params: m.params }));
    }
    case 'metrics': {
      const { metrics } = await import('@blameboard/metrics');
      return metrics.map((m) => ({ id: m.id, needs: m.needs, description: m.description, params: m.params }));
    }
    case 'datasets': {
      const { datasets } = await import('@blameboard/datasets');
      return datasets.map((d) => ({ ...d }));
    }
    case 'models': {
      const { zoo } = await import('@blameboard/models');
      return zoo.map((z) => ({ ...z.card, id: z.id, dataset: z.dataset, file: z.file }));
    }
  }
}

function summaryLine(kind: string, row: Record<string, unknown>): string {
  const id = String(row.id).padEnd(28);
  if (kind === 'models') {
    const acc = typeof row.testAccuracy === 'number' ? `acc ${(row.testAccuracy * 100).toFixed(2)}%` : typeof row.r2 === 'number' ? `R² ${row.r2.toFixed(4)}` : '';
    return `${id} ${String(row.dataset ?? '').padEnd(18)} ${String(row.parameterCount ?? '').padStart(8)} params  ${acc}`;
  }
  if (kind === 'methods' || kind === 'metrics') {
    const params = (row.params as { name: string; default?: unknown }[])
      .map((p) => (p.default === undefined ? p.name : `${p.name}=${JSON.stringify(p.default)}`))
      .join(' ');
    return `${id} ${row.description}${params ? `  [${params}]` : ''}`;
  }
  return `${id} ${row.description ?? ''}`;
}
