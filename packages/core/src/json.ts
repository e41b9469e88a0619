import { UsageError } from './errors.js';

/** Deepest nesting of JSON a user may give (a sweep config needs 6; layerRules 3). */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON.parse for text from outside (flags, configs), refusing nesting deeper than `maxDepth`
 * before parsing: V8's parser recurses, so 10,000 nested brackets overflow the stack instead of
 * giving an error. Every failure is one UsageError line naming `what`.
 */
export function parseJsonText(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw new UsageError(`${what} nests deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON (${(e as Error).message})`);
  }
}
