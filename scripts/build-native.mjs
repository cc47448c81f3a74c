// scripts/build-native.mjs
// Builds the addon with node-gyp against the headers of the Node.js that runs this script
// (no header download: only the npm registry and Debian are reachable on our machines).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const prefix = dirname(dirname(process.execPath));
// configure + build rather than rebuild: rebuild wipes build/ wholesale.
const args = ['configure', 'build', '--release'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
} else {
  console.warn(`build-native: no headers under ${prefix}/include/node; node-gyp will try to fetch them`);
}
const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
execFileSync(process.execPath, [nodeGyp, ...args], { stdio: 'inherit' });
