// Errors a user can cause. The top-level handler (src/cli.ts) prints their message alone, with no
// stack trace, and exits with their code; anything else is an internal error (a bug in canary).

/** Something the user can fix (a missing file, a plan problem, a server that refuses): exit 1. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** The command line itself is wrong (unknown option or command, a bad option value): exit 2, as
 * POSIX utilities and kubectl do, with a hint where the command's help is. */
export class UsageError extends UserError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** The message of anything thrown, for a one-line error. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
