// receiver/src/filter/filter-list.ts
// Parses --export-allowlist / --export-denylist text: JSON Filter objects, one per line (OR across lines).

import { FilterError } from '../errors.js';
import { parseProtoJson } from '../proto/from-json.js';
import type { FilterMsg } from '../proto/messages.js';
import { compileFilter } from './event-filter.js';
import { parseJsonStream } from './json-stream.js';

export interface FilterListOptions {
  /** pid_set is a best-effort testing aid; Tetragon refuses it in export lists unless --enable-pid-set-filter. */
  readonly allowPidSet: boolean;
}

/**
 * Parses and validates a filter list (keys in snake_case or lowerCamelCase; unknown keys rejected).
 * Every filter is compiled once here so that bad regexes or selectors fail at start. Throws FilterError
 * naming the list (`what`, e.g. "--export-allowlist") and the offending filter.
 */
export function parseFilterList(text: string, what: string, options: FilterListOptions): FilterMsg[] {
  if (text.trim() === '') return [];
  return parseJsonStream(text, what).map((value, i) => {
    try {
      const filter = parseProtoJson('Filter', value, { strict: true }) as FilterMsg;
      if ((filter.pid_set ?? []).length > 0 && !options.allowPidSet) {
        throw new FilterError('pid_set filters track pids on a best-effort basis and are meant for testing; pass --enable-pid-set-filter to use them');
      }
      compileFilter(filter);
      return filter;
    } catch (error: unknown) {
      if (error instanceof FilterError) throw new FilterError(`${what}, filter ${i + 1}: ${error.message}`, { cause: error });
      throw error;
    }
  });
}
