import cliProgress from 'cli-progress';
import type { Io } from '../io.js';

export interface CellReport {
  label: string;
  status: string;
  seconds: number;
  cached: boolean;
}

/**
 * Sweep progress: on a terminal a progress bar (cells done, rate, ETA, the current cell); in a
 * log (CI) one plain line per cell with the same figures, so nothing is redrawn.
 */
export interface Progress {
  start(label: string): void;
  done(cell: CellReport): void;
  stop(): void;
}

export function makeProgress(io: Io, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let count = 0;
  const eta = () => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = count / Math.max(elapsed, 1e-9);
    const remaining = rate > 0 ? (total - count) / rate : NaN;
    return { rate: rate * 60, remaining };
  };
  if (io.isTty) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: ' {bar} {value}/{total} cells | {rate} cells/min | ETA {eta_formatted} | {cell}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { cell: '', rate: '0' });
    return {
      start: (label) => bar.update({ cell: label.slice(0, 60) }),
      done: () => {
        count++;
        bar.update(count, { rate: eta().rate.toFixed(1) });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    start: () => undefined,
    done: (cell) => {
      count++;
      const { rate, remaining } = eta();
      const left = Number.isFinite(remaining) ? `, ETA ${formatSeconds(remaining)}` : '';
      io.err(`[${count}/${total}] ${cell.label} · ${cell.status} · ${cell.cached ? 'cached' : `${cell.seconds.toFixed(2)} s`} (${rate.toFixed(1)} cells/min${left})`);
    },
    stop: () => undefined,
  };
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}
