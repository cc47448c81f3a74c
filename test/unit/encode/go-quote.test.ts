// test/unit/encode/go-quote.test.ts
// Go strconv.Quote / IsPrint equivalence on the characters that matter for terminal safety.

import test from 'ava';
import fc from 'fast-check';
import { goQuote, isGoPrintable, quoteIfUnprintable } from '../../../receiver/src/encode/go-quote.js';

test('printable text, spaces included, is left alone', (t) => {
  for (const s of ['', 'plain', 'with space', 'é 日本 😀', '-c "x y"', 'a\\b']) {
    t.true(isGoPrintable(s), s);
    t.is(quoteIfUnprintable(s), s);
  }
});

test('escapes as strconv.Quote does', (t) => {
  t.is(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  t.is(goQuote('\x07\b\f\n\r\t\v'), '"\\a\\b\\f\\n\\r\\t\\v"');
  t.is(goQuote('\x00\x1b\x7f'), '"\\x00\\x1b\\x7f"');
  t.is(goQuote('\x85\u00a0\u200b\u2028\ufeff'), '"\\u0085\\u00a0\\u200b\\u2028\\ufeff"');
  t.is(goQuote('\u{e0001}\u{10ffff}'), '"\\U000e0001\\U0010ffff"');
  t.is(goQuote('x\ud800y'), '"x\\ufffdy"');
  t.is(goQuote('é😀 '), '"é😀 "');
});

test('quoteIfUnprintable quotes only strings with an unprintable character', (t) => {
  t.is(quoteIfUnprintable('a b'), 'a b');
  t.is(quoteIfUnprintable('a\tb'), '"a\\tb"');
  t.is(quoteIfUnprintable('zero\u200bwidth'), '"zero\\u200bwidth"');
});

test('property: quoted output is always printable and JSON-parsable for ASCII escapes', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const q = quoteIfUnprintable(s);
      return isGoPrintable(q);
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
