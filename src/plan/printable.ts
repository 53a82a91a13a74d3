// Text from people, plans, journals and servers, made safe to print on a terminal: every control
// character becomes something visible instead of something a terminal obeys. A war-room person's
// incident summary `\e]0;TITLE\a\e[2J\e[41m` would otherwise set the window title, clear the screen
// and paint the background; a plan's owner field could do the same to `canary validate`. The ESC
// of a sequence is shown as ␛, so the rest of it is inert text and an operator sees that something
// was there. A leaf (no imports): the console, the text commands and the reports all use it.

// C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F), the bidirectional overrides and isolates (they
// reorder what is shown: "trojan source"), and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The visible stand-in of one control character: C0 and DEL as their Control Pictures (one cell
 * each: ESC is ␛, BEL ␇, a newline ␊), anything else as its escape (`\u009b`). */
export function controlPicture(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20) return String.fromCharCode(0x2400 + cp);
  if (cp === 0x7f) return '\u2421';
  return `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** Does `text` hold anything `printable` would change? */
export function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

/**
 * `text` with every control character replaced by a visible stand-in (see `controlPicture`).
 * `keep: 'newline'` keeps `\n` (a multi-line report, a list of problems); `keep: 'layout'` keeps
 * `\n` and `\t` (Markdown, command output). A carriage return is never kept: it would let a line
 * overwrite what was printed before it.
 */
export function printable(text: string, keep: 'none' | 'newline' | 'layout' = 'none'): string {
  if (!CONTROL.test(text)) return text;
  const re = keep === 'none' ? CONTROLS : keep === 'newline' ? CONTROLS_BUT_NEWLINE : CONTROLS_BUT_LAYOUT;
  re.lastIndex = 0;
  return text.replace(re, controlPicture);
}

// What JSON.stringify leaves as it is: C1 controls (U+009B is a CSI on terminals that take 8-bit
// controls), the bidirectional overrides and isolates, and the line and paragraph separators.
const JSON_RAW_CONTROLS = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `value` as one line of JSON that is safe on a terminal: JSON.stringify escapes C0 controls, and
 * this escapes the rest (`\u009b`), so a parser reads the very same text back. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_RAW_CONTROLS, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
