// A process that takes journal locks when told to (test/journal-lock.test.ts). It says "ready",
// then for each line "go <epoch ms> <journal>" spins until that moment (so every child asks at the
// same instant), asks for the lock, and prints the answer as one JSON line; "release" lets go of
// what it holds. It exits when stdin closes.
import { lockJournal } from '../../src/wiring/journal-lock.js';

let held: (() => void) | null = null;
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
  let nl: number;
  while ((nl = input.indexOf('\n')) >= 0) {
    const line = input.slice(0, nl);
    input = input.slice(nl + 1);
    const go = /^go (\d+) (.+)$/.exec(line);
    if (go) {
      const at = Number(go[1]);
      while (Date.now() < at) {
        /* spin: every child asks within the same millisecond or so */
      }
      const r = lockJournal(go[2]!);
      if (r.ok) held = r.release;
      process.stdout.write(`${JSON.stringify(r.ok ? { ok: true, pid: process.pid } : { ok: false, pid: process.pid, holder: r.holder })}\n`);
    } else if (line === 'release') {
      held?.();
      held = null;
      process.stdout.write('released\n');
    }
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write('ready\n');
