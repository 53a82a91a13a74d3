// `npm start`: builds dist/ only when a source changed since the last build (never tsc: the type
// check is `npm test`'s), then runs dist/canary.mjs in this same process, so `npm start` costs
// npm's own start-up and one Node process, not two more (a shell and a Node for a pre-script).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, upToDate } from './stale.mjs';

if (!upToDate(false)) {
  const b = spawnSync(process.execPath, [join(root, 'build', 'bundle.mjs'), '--cli'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const cli = join(root, 'dist', 'canary.mjs');
// As if started as `node dist/canary.mjs ...`: the CLI runs main() when argv[1] is its own file.
process.argv.splice(1, 1, cli);
await import(pathToFileURL(cli).href);
