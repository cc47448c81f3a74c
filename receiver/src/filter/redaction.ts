// receiver/src/filter/redaction.ts
// Tetragon's --redaction-filters: RE2 capture groups in arguments (and env values) replaced by "*****".

import { FilterError } from '../errors.js';
import type { EnvVar } from '../model/process.js';
import { parseProtoJson } from '../proto/from-json.js';
import type { RedactionFilterMsg } from '../proto/messages.js';
import { parseJsonStream } from './json-stream.js';
import { compileRe2List, compileRe2WithGroups, type Re2WithGroups } from './re2.js';

/** What a redacted capture group becomes. */
export const REDACTION_STRING = '*****';

interface CompiledRedaction {
  /** Binary filter; undefined means every binary. */
  readonly binary: ((binary: string) => boolean) | undefined;
  readonly redact: readonly Re2WithGroups[];
}

/** Replaces every participating capture group of every match with REDACTION_STRING (nested groups once). */
function redactString(re: Re2WithGroups, s: string): string {
  let out = '';
  let last = 0;
  re.forEachMatch(s, (groups) => {
    for (const span of groups) {
      if (span === undefined || span[0] < last) continue;
      out += s.slice(last, span[0]) + REDACTION_STRING;
      last = span[1];
    }
  });
  return out + s.slice(last);
}

/** Result of redacting one process's command line and environment. */
export interface Redacted {
  readonly arguments: string;
  readonly environmentVariables?: readonly EnvVar[];
}

/**
 * A list of redaction filters. Pure: it holds compiled patterns only. A filter applies to a process when its
 * binary_regex list is empty or one of them matches the binary; then each `redact` pattern is applied in turn.
 */
export class Redactor {
  private constructor(private readonly _filters: readonly CompiledRedaction[]) {}

  /** Compiles RedactionFilter messages; throws FilterError naming the filter and pattern. */
  static fromMessages(filters: readonly RedactionFilterMsg[]): Redactor {
    return new Redactor(
      filters.map((f, i) => {
        try {
          const binaries = f.binary_regex ?? [];
          return {
            binary: binaries.length > 0 ? compileRe2List(binaries, 'binary_regex') : undefined,
            redact: (f.redact ?? []).map((p) => compileRe2WithGroups(p, 'redact regex')),
          };
        } catch (error: unknown) {
          if (error instanceof FilterError) throw new FilterError(`redaction filter ${i + 1}: ${error.message}`, { cause: error });
          throw error;
        }
      }),
    );
  }

  /**
   * Parses --redaction-filters text (JSON RedactionFilter objects, one per line), e.g.
   * `{"binary_regex":["(?:^|/)mysql$"],"redact":["-p(?:\\s+|=)(\\S*)"]}`. Throws FilterError.
   */
  static parse(text: string, what = '--redaction-filters'): Redactor {
    if (text.trim() === '') return new Redactor([]);
    const messages = parseJsonStream(text, what).map((value, i) => {
      try {
        return parseProtoJson('RedactionFilter', value, { strict: true }) as RedactionFilterMsg;
      } catch (error: unknown) {
        if (error instanceof FilterError) throw new FilterError(`${what}, filter ${i + 1}: ${error.message}`, { cause: error });
        throw error;
      }
    });
    return Redactor.fromMessages(messages);
  }

  /** True when there are no filters (callers can skip the call). */
  get empty(): boolean {
    return this._filters.length === 0;
  }

  /** The arguments string with every applicable capture group replaced by "*****". */
  redactArguments(binary: string, args: string): string {
    let out = args;
    for (const f of this._filters) {
      if (f.binary !== undefined && !f.binary(binary)) continue;
      for (const re of f.redact) out = redactString(re, out);
    }
    return out;
  }

  /**
   * Redacts the arguments and each environment variable (matched as "KEY=VALUE", then split again at the first
   * "=", so patterns can anchor on the variable name, e.g. `^AWS_SECRET_ACCESS_KEY=(.*)$`).
   */
  redact(binary: string, args: string, environmentVariables?: readonly EnvVar[]): Redacted {
    const redactedArgs = this.redactArguments(binary, args);
    if (environmentVariables === undefined) return { arguments: redactedArgs };
    const env = environmentVariables.map((e): EnvVar => {
      const text = this.redactArguments(binary, `${e.key}=${e.value}`);
      const eq = text.indexOf('=');
      // Tetragon names an entry without "=" "invalid".
      return eq < 0 ? { key: 'invalid', value: text } : { key: text.slice(0, eq), value: text.slice(eq + 1) };
    });
    return { arguments: redactedArgs, environmentVariables: env };
  }
}
