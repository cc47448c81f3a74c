// receiver/src/filter/re2.ts
// RE2 regular expressions (Go regexp syntax, linear-time matching) for filters, via the pure-JS re2js port.

import { RE2JS } from 're2js';
import { FilterError, getErrorMessage } from '../errors.js';

/** A compiled RE2 pattern; `test` is Go's unanchored MatchString. */
export interface Re2 {
  readonly source: string;
  test(input: string): boolean;
}

/** Constructs RE2 lacks, with the explanation users need (RE2's own messages are terse). */
const UNSUPPORTED: readonly { readonly pattern: RegExp; readonly why: string }[] = [
  { pattern: /\(\?<?[=!]/, why: 'lookahead and lookbehind assertions are not supported by RE2' },
  { pattern: /(^|[^\\])(\\\\)*\\[1-9]/, why: 'backreferences (\\1 … \\9) are not supported by RE2' },
  { pattern: /\\k</, why: 'named backreferences are not supported by RE2' },
  { pattern: /\(\?P=/, why: 'named backreferences are not supported by RE2' },
  { pattern: /\(\?>/, why: 'atomic groups are not supported by RE2' },
  { pattern: /[*+?}][+]/, why: 'possessive quantifiers are not supported by RE2' },
];

/**
 * Compiles `pattern` with RE2 (Go regexp) syntax and semantics. Throws FilterError naming `what` (e.g.
 * "binary_regex") and the pattern, with a hint when the pattern uses a construct RE2 does not have.
 */
export function compileRe2(pattern: string, what: string): Re2 {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error: unknown) {
    const hint = UNSUPPORTED.find((u) => u.pattern.test(pattern));
    const detail = hint !== undefined ? `${hint.why} (${getErrorMessage(error)})` : getErrorMessage(error);
    throw new FilterError(`invalid ${what} ${JSON.stringify(pattern)}: ${detail}`, { cause: error });
  }
  return { source: pattern, test: (input: string) => compiled.test(input) };
}

/** Compiles every pattern of a repeated regex field; the result matches when any of them matches. */
export function compileRe2List(patterns: readonly string[], what: string): (input: string) => boolean {
  const compiled = patterns.map((p) => compileRe2(p, what));
  return (input) => compiled.some((re) => re.test(input));
}

/**
 * The pattern with RE2's capture-group positions exposed, for redaction: each call to `forEachMatch` walks the
 * leftmost-first matches of the input and reports every capture group's [start, end) in UTF-16 indices.
 */
export interface Re2WithGroups extends Re2 {
  forEachMatch(input: string, visit: (groups: readonly (readonly [number, number] | undefined)[], matchStart: number, matchEnd: number) => void): void;
}

export function compileRe2WithGroups(pattern: string, what: string): Re2WithGroups {
  const base = compileRe2(pattern, what);
  const compiled = RE2JS.compile(pattern);
  const groupCount = compiled.groupCount();
  return {
    ...base,
    forEachMatch(input, visit) {
      const m = compiled.matcher(input);
      let previousEnd = -1;
      while (m.find()) {
        // Go ignores an empty match that abuts the preceding match; RE2/J (Java semantics) reports it.
        if (m.start(0) === m.end(0) && m.start(0) === previousEnd) continue;
        previousEnd = m.end(0);
        const groups: (readonly [number, number] | undefined)[] = [];
        for (let g = 1; g <= groupCount; g++) {
          const start = m.start(g);
          groups.push(start < 0 ? undefined : [start, m.end(g)]);
        }
        visit(groups, m.start(0), m.end(0));
      }
    },
  };
}
