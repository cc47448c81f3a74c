// receiver/src/process/arguments.ts
// Tetragon's `arguments` string: argv[1..] joined, an argument containing a space wrapped in double quotes.

/**
 * Formats argv[1..] exactly as Tetragon does (lossy: no escaping; a first argument with a space gets a
 * leading space; an empty argument contributes only its separating space).
 */
export function formatArguments(argv: readonly string[]): string {
  let out = '';
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.includes(' ')) out += ` "${arg}"`;
    else if (i === 1) out += arg;
    else out += ` ${arg}`;
  }
  return out;
}
