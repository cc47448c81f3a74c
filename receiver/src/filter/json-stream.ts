// receiver/src/filter/json-stream.ts
// Splits text holding several JSON values (one per line, or just whitespace-separated) as Go's json.Decoder reads it.

import { FilterError, getErrorMessage } from '../errors.js';

/** The JSON values in `text`, in order. Throws FilterError naming the line of the first bad value. */
export function parseJsonStream(text: string, what: string): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  const lineAt = (pos: number): number => text.slice(0, pos).split('\n').length;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
    if (i >= text.length) break;
    const start = i;
    const open = text[i];
    if (open === '{' || open === '[') {
      let depth = 0;
      let inString = false;
      for (; i < text.length; i++) {
        const c = text[i];
        if (inString) {
          if (c === '\\') i++;
          else if (c === '"') inString = false;
        } else if (c === '"') {
          inString = true;
        } else if (c === '{' || c === '[') {
          depth++;
        } else if (c === '}' || c === ']') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
    } else {
      while (i < text.length && !/\s/.test(text[i] ?? '')) i++;
    }
    const chunk = text.slice(start, i);
    try {
      values.push(JSON.parse(chunk));
    } catch (error: unknown) {
      throw new FilterError(`${what}, line ${lineAt(start)}: not valid JSON (${getErrorMessage(error)}): ${chunk.length > 80 ? `${chunk.slice(0, 80)}…` : chunk}`, { cause: error });
    }
  }
  return values;
}
