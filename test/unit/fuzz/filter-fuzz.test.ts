// test/unit/fuzz/filter-fuzz.test.ts
// Fuzzing the filter parsers (lists, field filters, redaction, label selectors, JSON streams) and the matchers they build.

import test from 'ava';
import fc from 'fast-check';
import { FilterError } from '../../../receiver/src/errors.js';
import { compileFilterLists } from '../../../receiver/src/filter/event-filter.js';
import { FieldFilterChain, parseFieldFilterList } from '../../../receiver/src/filter/field-filter.js';
import { parseFilterList } from '../../../receiver/src/filter/filter-list.js';
import { parseJsonStream } from '../../../receiver/src/filter/json-stream.js';
import { parseLabelSelector } from '../../../receiver/src/filter/label-selector.js';
import { REDACTION_STRING, Redactor } from '../../../receiver/src/filter/redaction.js';
import { decodeResponseJson, encodeEventJson, encodeResponseJson } from '../../../receiver/src/encode/json-encoder.js';
import { event as arbitraryEvent, hostileString } from '../encode/arbitrary-events.js';
import { filterListText, hostileJsonValue } from './mutated-json.js';

/** Runs `parse`; true when it returned, false when it threw a FilterError; anything else is rethrown (a failure). */
function parsesOrFilterError(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch (error: unknown) {
    if (error instanceof FilterError) return false;
    throw error;
  }
}

test('filter lists: arbitrary text parses or throws FilterError; what parses compiles and matches any event', (t) => {
  let parsed = 0;
  fc.assert(
    fc.property(filterListText, filterListText, fc.boolean(), fc.array(arbitraryEvent, { minLength: 1, maxLength: 4 }), (allowText, denyText, allowPidSet, events) => {
      let allow;
      let deny;
      try {
        allow = parseFilterList(allowText, '--export-allowlist', { allowPidSet });
        deny = parseFilterList(denyText, '--export-denylist', { allowPidSet });
      } catch (error: unknown) {
        if (error instanceof FilterError) return error.message.startsWith('--export-');
        throw error;
      }
      parsed++;
      // parseFilterList compiled every filter: compiling the lists again must not fail, and matching never throws.
      const predicate = compileFilterLists(allow, deny);
      return events.every((e) => typeof predicate(e) === 'boolean');
    }),
    // ~15 % of generated pairs parse; 1600 runs keep "over 100 reach the matcher" far from chance (800 failed once).
    { numRuns: 1600 },
  );
  // The generator must reach the matcher, not only the error paths.
  t.true(parsed > 100, `only ${parsed} lists parsed`);
});

test('field filter lists: parse or FilterError; applying them to any event keeps it encodable', (t) => {
  const fieldFilter = fc.record(
    {
      fields: fc.oneof(
        { arbitrary: fc.array(fc.constantFrom('process.binary', 'process.pod.name', 'parent', 'process.arguments', 'processExec', 'ancestors.binary', 'process.nope', ''), { maxLength: 3 }).map((p) => p.join(',')), weight: 6 },
        { arbitrary: hostileJsonValue, weight: 1 },
      ),
      action: fc.oneof({ arbitrary: fc.constantFrom('INCLUDE', 'EXCLUDE', 0, 1, 2), weight: 6 }, { arbitrary: hostileJsonValue, weight: 1 }),
      event_set: fc.oneof({ arbitrary: fc.array(fc.constantFrom('PROCESS_EXEC', 'PROCESS_EXIT', 'PROCESS_KPROBE'), { maxLength: 2 }), weight: 6 }, { arbitrary: hostileJsonValue, weight: 1 }),
      invert_event_set: fc.oneof({ arbitrary: fc.boolean(), weight: 6 }, { arbitrary: hostileJsonValue, weight: 1 }),
    },
    { requiredKeys: [] },
  );
  const text = fc.oneof(fc.array(fieldFilter, { maxLength: 3 }).map((fs) => fs.map((f) => JSON.stringify(f)).join('\n')), fc.string({ unit: 'binary', maxLength: 30 }));
  let applied = 0;
  fc.assert(
    fc.property(text, arbitraryEvent, (source, e) => {
      let chain: FieldFilterChain;
      try {
        chain = FieldFilterChain.compile(parseFieldFilterList(source, '--field-filters'));
      } catch (error: unknown) {
        if (error instanceof FilterError) return true;
        throw error;
      }
      applied++;
      const response = decodeResponseJson(encodeEventJson(e));
      if ('error' in response) return false;
      const line = encodeResponseJson(chain.apply(response));
      JSON.parse(line);
      return !line.includes('\n');
    }),
    { numRuns: 600 },
  );
  t.true(applied > 100, `only ${applied} chains applied`);
});

test('redaction filters: parse or FilterError; redacting hostile strings never throws and leaves unmatched text alone', (t) => {
  const redactionFilter = fc.record(
    {
      binary_regex: fc.oneof(fc.array(fc.constantFrom('', 'mysql$', '(', '^/'), { maxLength: 2 }), hostileJsonValue),
      redact: fc.oneof(fc.array(fc.oneof(fc.constantFrom('-p(\\S+)', '(a)(b)?', '((x))', '()', 'a*', '(?i)(secret)=(\\S*)', '(\\pL+)', '['), hostileString(6)), { maxLength: 3 }), hostileJsonValue),
    },
    { requiredKeys: [] },
  );
  const text = fc.oneof(fc.array(redactionFilter, { maxLength: 2 }).map((fs) => fs.map((f) => JSON.stringify(f)).join('\n')), fc.string({ unit: 'binary', maxLength: 30 }));
  let redacted = 0;
  fc.assert(
    fc.property(text, hostileString(10), hostileString(30), fc.array(fc.record({ key: hostileString(6), value: hostileString(10) }), { maxLength: 2 }), (source, binary, args, env) => {
      let redactor: Redactor;
      try {
        redactor = Redactor.parse(source);
      } catch (error: unknown) {
        // Compile errors say "redaction filter N: …" without the flag name (reported to the agent CLI owner).
        if (error instanceof FilterError) return true;
        throw error;
      }
      redacted++;
      const out = redactor.redact(binary, args, env);
      // Whatever was not replaced is the original text, in order.
      const kept = out.arguments.split(REDACTION_STRING);
      let from = 0;
      for (const piece of kept) {
        const at = args.indexOf(piece, from);
        if (at < 0) return false;
        from = at + piece.length;
      }
      return out.environmentVariables?.length === env.length;
    }),
    { numRuns: 600 },
  );
  t.true(redacted > 100, `only ${redacted} redactors built`);
});

test('label selectors: arbitrary text parses or throws FilterError; matching any labels never throws', (t) => {
  const token = fc.constantFrom('app', 'tier', 'example.com/team', '=', '==', '!=', ' in ', ' notin ', '(', ')', ',', '!', '>', '<', ' ', '1', 'web', '-', '_', '.');
  const selector = fc.oneof(fc.array(token, { maxLength: 8 }).map((parts) => parts.join('')), fc.string({ unit: 'binary', maxLength: 20 }));
  const labels = fc.dictionary(fc.oneof(fc.constantFrom('app', 'tier', 'example.com/team', '__proto__', 'constructor'), hostileString(6)), fc.oneof(fc.constantFrom('web', '1', '3', ''), hostileString(6)), { maxKeys: 4 });
  let compiled = 0;
  fc.assert(
    fc.property(selector, fc.array(labels, { minLength: 1, maxLength: 3 }), (s, labelSets) => {
      let matches: (labels: Readonly<Record<string, string>>) => boolean;
      try {
        const parsed = parseLabelSelector(s);
        matches = (l) => parsed.matches(l);
      } catch (error: unknown) {
        if (error instanceof FilterError) return true;
        throw error;
      }
      compiled++;
      return labelSets.every((l) => typeof matches(l) === 'boolean');
    }),
    { numRuns: 1500 },
  );
  t.true(compiled > 100, `only ${compiled} selectors parsed`);
});

test('JSON streams: objects and arrays joined by any whitespace come back in order; junk throws FilterError only', (t) => {
  const container = fc.oneof(fc.object({ maxDepth: 2 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }));
  fc.assert(
    fc.property(fc.array(container, { maxLength: 4 }), fc.constantFrom('\n', ' ', '\t', '\r\n', '', '\n\n  '), (values, sep) => {
      const text = values.map((v) => JSON.stringify(v)).join(sep);
      t.deepEqual(parseJsonStream(text, 'x'), JSON.parse(JSON.stringify(values)));
      return true;
    }),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      parsesOrFilterError(() => parseJsonStream(s, 'x'));
      return true;
    }),
    { numRuns: 1000 },
  );
});
