/**
 * onnxruntime-node 1.30 runs Microsoft telemetry by default: every session writes an event
 * database and a device id under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and a
 * mat-debug-<pid>.log and .ses in $TMPDIR, and would upload them given a CA bundle. It reads
 * ORT_DISABLE_TELEMETRY when its environment is created (the first session), so setting it here,
 * before every session, turns it off for the library as well as the CLI. A user who wants it can
 * set ORT_DISABLE_TELEMETRY=0 explicitly.
 */
export function disableOnnxruntimeTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
}
