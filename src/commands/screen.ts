// The terminal around a full-screen console: the alternate screen (entered once, left once, also
// on exit), the check that there is a terminal at all, and how every Ink console renders.
import { UserError } from './errors.js';

const ENTER = '\x1b[?1049h\x1b[H';
const LEAVE = '\x1b[?1049l';

/** Enters the alternate screen when stdout is a terminal; the returned function leaves it (once;
 * it also runs on exit, so a kill does not leave the terminal on the alternate screen). */
export function altScreen(out: NodeJS.WriteStream = process.stdout): () => void {
  if (!out.isTTY) return () => undefined;
  out.write(ENTER);
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    out.write(LEAVE);
  };
  process.once('exit', leave);
  return leave;
}

/** A console reads keys: without a terminal on stdin Ink cannot (its raw mode throws). One line
 * that says what to do instead, exit 1. */
export function requireTerminal(command: string, stdin: NodeJS.ReadStream = process.stdin): void {
  if (!stdin.isTTY)
    throw new UserError(
      `\`canary ${command}\` is an interactive console and stdin is not a terminal; run it in a terminal, or use \`canary run --headless\` for a pipeline (lines or --json, and an exit code)`,
    );
}

/** How every console renders (Ink 6.8's incremental rendering broke our frames: it is off). */
export const INK_OPTIONS = { exitOnCtrlC: true, patchConsole: true, maxFps: 15, incrementalRendering: false } as const;
