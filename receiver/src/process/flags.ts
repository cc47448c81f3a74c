// receiver/src/process/flags.ts
// Tetragon's process flag words, always printed in its fixed order.

/** Flag words in emission order (Tetragon pkg/api/flags.go order). */
export const FLAG_ORDER = [
  'execve',
  'procFS',
  'errorEnvs',
  'truncArgs',
  'miss',
  'errorFilename',
  'errorArgs',
  'nocwd',
  'rootcwd',
  'errorCWD',
  'clone',
  'errorCgroupName',
  'errorCgroupID',
  'errorCgroupSubsysCgrp',
  'errorCgroupSubsys',
  'errorCgroups',
  'errorPathResolutionCwd',
  'dataFilename',
  'dataArgs',
  'inInitTree',
] as const;

export type FlagWord = (typeof FLAG_ORDER)[number];

const RANK: ReadonlyMap<string, number> = new Map(FLAG_ORDER.map((w, i) => [w, i]));

/** Joins a set of flag words in Tetragon's order, each once. */
export function formatFlags(words: Iterable<FlagWord>): string {
  const unique = [...new Set(words)];
  unique.sort((a, b) => (RANK.get(a) ?? 0) - (RANK.get(b) ?? 0));
  return unique.join(' ');
}
