// receiver/src/encode/go-quote.ts
// Go's strconv.Quote and unicode.IsPrint, so untrusted strings never reach a terminal raw.

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const ALL_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;
const PRINTABLE_RUNE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** True when every character is printable in Go's sense (a plain space counts as printable). */
export function isGoPrintable(s: string): boolean {
  return ALL_PRINTABLE.test(s);
}

/** Go's strconv.Quote: double-quoted, with \", \\, \n, \x1b, \u200b, \U000e0001 … escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') {
      out += `\\${ch}`;
    } else if (PRINTABLE_RUNE.test(ch)) {
      out += ch;
    } else if (SHORT_ESCAPES[cp] !== undefined) {
      out += SHORT_ESCAPES[cp];
    } else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${hex(cp, 2)}`;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate is not a valid rune; Go quotes invalid runes as U+FFFD.
      out += '\\ufffd';
    } else if (cp < 0x10000) {
      out += `\\u${hex(cp, 4)}`;
    } else {
      out += `\\U${hex(cp, 8)}`;
    }
  }
  return `${out}"`;
}

/** The string itself when printable, else its Go-quoted form (unlike Tetragon main, spaces alone do not quote). */
export function quoteIfUnprintable(s: string): string {
  return isGoPrintable(s) ? s : goQuote(s);
}
