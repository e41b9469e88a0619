// Preloaded into a child process by perf.ts (`node --import …/peak-rss-hook.mjs cli.js …`):
// at exit, writes the process's own peak RSS in bytes (VmHWM of /proc/self/status) to the
// file named by BB_PEAK_RSS_FILE. VmHWM, not getrusage's maxRSS, which starts at the forking
// parent's RSS.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.BB_PEAK_RSS_FILE;
if (out) {
  process.on('exit', () => {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    writeFileSync(out, String(kib ? Number(kib[1]) * 1024 : process.resourceUsage().maxRSS * 1024));
  });
}
