import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { runCli, type CliRun } from '../../test-utils.js';

/**
 * The fuzz suite's one contract (issue 9, point 5): every case ends in exit 0 with a correct
 * result, or exit 2 with a clean one-line error — never an internal error (exit 1), a stack, a
 * hang, a native abort, or a file left behind.
 */

/** A seed that can be moved for a longer local run (`FUZZ_SEED=7 pnpm test`); the suite's default is fixed. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20260101);

/**
 * The seed of case `i` of a family: FUZZ_SEED, the family and the index mixed (a 32-bit
 * finaliser), so that nearby FUZZ_SEEDs give unrelated cases rather than the same ones shifted.
 */
export function caseSeed(family: number, i: number): number {
  let h = Math.imul(FUZZ_SEED ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(family + 1, 0xc2b2ae35) ^ i;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Multiplies every family's case count for a deeper local run (`FUZZ_SCALE=10`); 1 in the suite. */
export const FUZZ_SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);

/** Longest a single in-process case may take before it counts as a hang. */
export const CASE_TIMEOUT_MS = 20_000;

export interface CaseSpec {
  family: string;
  /** What was mutated: printed with a failure so the case can be rebuilt. */
  label: string;
  argv: string[];
  /** The case's folder: nothing in it may be added or removed by a failed run, and no temp file may stay. */
  dir: string;
  /** Files the command writes on success (and must not leave on failure). */
  outputs?: string[];
  /** Checks a successful run's results; returns what is wrong, or null. */
  check?: (run: CliRun) => string | null | Promise<string | null>;
  /** Files created on purpose outside `dir` that a run must not touch (e.g. a FIFO's folder). */
  timeoutMs?: number;
}

/** Counts the cases of one test file and collects the ones that broke the contract. */
export class FuzzLog {
  readonly failures: string[] = [];
  readonly families = new Map<string, number>();
  readonly exits = new Map<number, number>();
  private readonly started = performance.now();

  get cases(): number {
    let n = 0;
    for (const v of this.families.values()) n += v;
    return n;
  }

  count(family: string, code: number): void {
    this.families.set(family, (this.families.get(family) ?? 0) + 1);
    this.exits.set(code, (this.exits.get(code) ?? 0) + 1);
  }

  fail(spec: Pick<CaseSpec, 'family' | 'label' | 'argv'>, problem: string): void {
    if (this.failures.length < 50) this.failures.push(`[${spec.family}] ${spec.label}: ${problem} — argv ${JSON.stringify(spec.argv)}`);
  }

  summary(name: string): string {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const families = [...this.families].map(([f, n]) => `${f} ${n}`).join(', ');
    const exits = [...this.exits].sort().map(([c, n]) => `exit ${c}: ${n}`).join(', ');
    return `fuzz ${name}: ${this.cases} cases in ${seconds} s (${exits}) — ${families}`;
  }
}

/** Every file and folder under `dir`, relative, sorted (FIFOs and devices are listed, never opened). */
export function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

const TEMP_NAME = /(^|\/)\.bb-[^/]*\.tmp$/;

/** The last stderr line of a failed run, checked as the contract wants it. */
export function errorProblem(run: CliRun, command: string): string | null {
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  const last = lines[lines.length - 1] ?? '';
  if (!last.startsWith(`blameboard ${command}: `) && !last.startsWith('blameboard: ')) return `error line does not name the command: ${JSON.stringify(last.slice(0, 200))}`;
  if (/internal error|\n\s+at /.test(run.stderr)) return `stderr holds an internal error or a stack: ${JSON.stringify(run.stderr.slice(0, 300))}`;
  if (/[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(last)) return `error line holds control characters: ${JSON.stringify(last.slice(0, 200))}`;
  return null;
}

/** Runs one case in process through the CLI's main() and checks the contract; returns the run. */
export async function fuzzCase(log: FuzzLog, spec: CaseSpec): Promise<CliRun | null> {
  const command = spec.argv[0] ?? '';
  // FUZZ_TRACE=file names each case before it runs: the last line names a case that killed the worker.
  if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${spec.label} ${JSON.stringify(spec.argv)}\n`);
  const before = listTree(spec.dir);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = spec.timeoutMs ?? CASE_TIMEOUT_MS;
  let run: CliRun | 'timeout';
  try {
    run = await Promise.race([
      runCli(...spec.argv),
      new Promise<'timeout'>((done) => {
        timer = setTimeout(() => done('timeout'), timeout);
      }),
    ]);
  } catch (e) {
    log.count(spec.family, -1);
    log.fail(spec, `main() threw instead of returning an exit code: ${String(e).slice(0, 300)}`);
    return null;
  } finally {
    clearTimeout(timer);
  }
  if (run === 'timeout') {
    log.count(spec.family, -2);
    log.fail(spec, `no answer within ${timeout} ms (a hang)`);
    return null;
  }
  log.count(spec.family, run.code);
  const ms = performance.now() - started;
  const problems: string[] = [];
  if (run.code !== 0 && run.code !== 2) problems.push(`exit ${run.code}: ${run.stderr.slice(0, 300)}`);
  if (run.code === 2) {
    const p = errorProblem(run, command);
    if (p) problems.push(p);
  }
  const after = listTree(spec.dir);
  const temps = after.filter((f) => TEMP_NAME.test(f));
  if (temps.length) problems.push(`temp files left: ${temps.join(', ')}`);
  if (run.code === 0) {
    for (const out of spec.outputs ?? []) if (!existsSync(out)) problems.push(`exit 0 but ${out} was not written`);
    if (problems.length === 0 && spec.check) {
      const p = await spec.check(run);
      if (p) problems.push(`wrong result: ${p}`);
    }
  } else if (after.join('\n') !== before.join('\n')) {
    problems.push(`a failed run changed its folder: before [${before.join(', ')}], after [${after.join(', ')}]`);
  }
  if (ms > timeout) problems.push(`took ${ms.toFixed(0)} ms`);
  for (const p of problems) log.fail(spec, p);
  return run;
}

/** A fresh scratch folder under the OS temp dir (removed by `cleanup`). */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `bb-fuzz-${prefix}-`));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Special files in `dir`: a FIFO, a folder, symlinks (to /dev/zero, out of the folder, dangling,
 * a loop, to a folder). Returns their paths by kind.
 */
export function specialFiles(dir: string, outside: string): Record<string, string> {
  const p = (name: string) => join(dir, name);
  execFileSync('mkfifo', [p('fifo')]);
  mkdirSync(p('dir'));
  writeFileSync(join(outside, 'secret.bin'), new Uint8Array(4096).fill(7));
  symlinkSync('/dev/zero', p('zero-link'));
  symlinkSync(join(outside, 'secret.bin'), p('link-out'));
  symlinkSync(p('nowhere'), p('dangling'));
  symlinkSync(p('loop'), p('loop'));
  symlinkSync(p('dir'), p('dir-link'));
  symlinkSync(p('fifo'), p('fifo-link'));
  return {
    fifo: p('fifo'),
    dir: p('dir'),
    'zero-link': p('zero-link'),
    'link-out': p('link-out'),
    dangling: p('dangling'),
    loop: p('loop'),
    'dir-link': p('dir-link'),
    'fifo-link': p('fifo-link'),
    '/dev/zero': '/dev/zero',
    '/dev/null': '/dev/null',
    '/dev/urandom': '/dev/urandom',
    '/proc/self/mem': '/proc/self/mem',
    '/etc': '/etc',
    empty: '',
  };
}

const CLI = resolve(fileURLToPath(new URL('../../../dist/cli.js', import.meta.url)));

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs the built CLI as a child process (native aborts and segfaults only show there), with
 * telemetry-free HOME and TMPDIR of its own, killed after `timeoutMs`.
 */
export function runChild(argv: string[], home: string, timeoutMs = 30_000): Promise<ChildRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...argv], {
      env: { ...process.env, HOME: home, TMPDIR: home, BLAMEBOARD_CACHE_DIR: 'off', BLAMEBOARD_MEMORY: '2G' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 20_000) stderr += d.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stderr, timedOut });
    });
  });
}

export const CLI_BUILT = existsSync(CLI);
