import ort from 'onnxruntime-node';

/** The onnxruntime version that runs every forward and compiled graph (results record it). */
export function onnxruntimeVersion(): string {
  const v = ort.env.versions as Record<string, string> | undefined;
  return v?.node ?? v?.common ?? 'unknown';
}
