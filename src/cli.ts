#!/usr/bin/env node
// canary: a terminal command center for progressive rollouts. The commands are in
// src/commands/ (one module each, listed in src/commands/registry.ts); this file only parses the
// command line and turns every error into one line and an exit code:
//   a usage error (unknown command or option, a bad option value)   exit 2, with where help is
//   a user error (a plan problem, a missing file, a refusing server) exit 1 (or its own code)
//   anything else is a bug in canary: a short message and where to report it; the stack only
//   with CANARY_DEBUG=1.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { UsageError, UserError } from './commands/errors.js';
import { buildProgram } from './commands/program.js';
import { COMMANDS, DEFAULT_COMMAND } from './commands/registry.js';
import { readEnv } from './env.js';
import { leanHeapSoon } from './heap.js';
import { printable } from './plan/printable.js';

export { packageRoot, DEFAULT_PLAN } from './paths.js';

const REPORT = 'this is a bug in canary: please report it (the command you ran, and the output of the same command with CANARY_DEBUG=1) to the canary maintainers, in the issue tracker of the canary repository';

/** Prints an error as canary prints every error, and returns its exit code. */
export function reportError(err: unknown, stream: NodeJS.WritableStream = process.stderr, debug = isDebug()): number {
  // A message may quote a plan, a server's answer or a file name: shown, never obeyed.
  const err$ = { write: (text: string) => stream.write(printable(text, 'layout')) };
  if (err instanceof UsageError) {
    err$.write(`canary: ${err.message}\n`);
    err$.write(`canary: see \`${err.command ?? 'canary'} --help\`\n`);
    return err.exitCode;
  }
  if (err instanceof UserError) {
    if (err.message) err$.write(`canary: ${err.message}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  err$.write(`canary: internal error: ${message}\n`);
  if (debug && err instanceof Error && err.stack) err$.write(`${err.stack}\n`);
  err$.write(`canary: ${REPORT}\n`);
  return 1;
}

function isDebug(): boolean {
  return readEnv().debug;
}

/** Runs canary with these arguments (without `node canary`); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const built = buildProgram(COMMANDS, { out: process.stdout, err: process.stderr }, DEFAULT_COMMAND);
  try {
    // `canary <word>` where the word is no command: say so (the default command would otherwise
    // take it as an argument it does not have).
    const first = argv[0] === 'help' ? argv[1] : argv[0];
    if (first !== undefined && !first.startsWith('-') && first !== 'help' && !COMMANDS.some((c) => c.name === first)) {
      const near = COMMANDS.map((c) => c.name).filter((n) => n.startsWith(first.slice(0, 2)));
      throw new UsageError(`unknown command "${first}"${near.length ? `; did you mean ${near.join(' or ')}?` : ''}`);
    }
    // `canary help audit verify` is `canary audit verify --help` (commander's help command reads
    // one level only).
    const args = argv[0] === 'help' && argv.length > 1 ? [...argv.slice(1), '--help'] : argv;
    await built.program.parseAsync(args, { from: 'user' });
  } catch (err) {
    // --help, --version: printed already.
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')) return 0;
    return reportError(err);
  }
  return built.result() ?? 0;
}

/** Exits once stdout has drained (a pipe may still hold lines). */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

const invokedDirectly = (() => {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]!) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  // Errors thrown later, outside a command's promise (an event handler, a stream), are still
  // one line and an exit code, never a stack trace.
  const late = (err: unknown) => exitAfterFlush(reportError(err));
  process.on('uncaughtException', late);
  process.on('unhandledRejection', late);
  // A console runs for days: a lean heap once its first frame is out (src/heap.ts).
  leanHeapSoon();
  main(process.argv.slice(2)).then(exitAfterFlush, late);
}
