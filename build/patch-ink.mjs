// Patches Ink 6.8's output step (node_modules/ink/build/output.js) at install (`postinstall`).
//
// Why: ~80% of a console frame with 3,000 pods was Ink's Output.get(): every frame it builds a
// fresh grid of width x height cell objects and re-tokenises every line (ANSI tokenize, styled
// chars, string widths), because the caches that avoid this live on the Output object, and the
// renderer makes a new Output every frame. GC was 22% of the profile.
// What: the caches live across frames (bounded: styled lines in two generations of 200, widths
// cleared past 20,000 entries), and a row whose
// writes are the very same as the last frame's (same x, same cached styled characters, same
// width) reuses last frame's text instead of being rebuilt. The output is byte for byte what
// Ink's own get() gives: Ink's get() stays in the file as getUnpatched(), and
// test/ink-patch.test.tsx compares the two over hundreds of console frames, with clipping and
// resizes.
//
// Idempotent: a patched file (it carries the marker) is left alone. If Ink's file is not the
// one this patch was written for (another Ink version), it is left unpatched and this says so:
// the console still works, only slower, and test/ink-patch.test.tsx fails until the patch is
// brought up to date.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NARROW_END, NARROW_RANGES } from './narrow-chars.mjs';

export const MARKER = '/* patched by canary: build/patch-ink.mjs v3 */';

const ORIGINAL_CACHES = `class OutputCaches {
    widths = new Map();
    blockWidths = new Map();
    styledChars = new Map();
    getStyledChars(line) {
        let cached = this.styledChars.get(line);
        if (cached === undefined) {
            cached = styledCharsFromTokens(tokenize(line));
            this.styledChars.set(line, cached);
        }
        return cached;
    }
    getStringWidth(text) {
        let cached = this.widths.get(text);
        if (cached === undefined) {
            cached = stringWidth(text);
            this.widths.set(text, cached);
        }
        return cached;
    }
    getWidestLine(text) {
        let cached = this.blockWidths.get(text);
        if (cached === undefined) {`;

const PATCHED_CACHES = `const CANARY_CACHE_LIMIT = 20000;
class OutputCaches {
    widths = new Map();
    blockWidths = new Map();
    styledChars = new Map();
    slices = new Map();
    // Styled characters (an object per character: ~8 KB for a 100-column line) are the big entries:
    // two generations of at most 200 lines; a line used again moves to the current one, so a frame's lines stay and
    // lines no longer shown go (memory stays flat however long the console runs).
    previousStyledChars = new Map();
    getStyledChars(line) {
        let cached = this.styledChars.get(line);
        if (cached === undefined) {
            cached = this.previousStyledChars.get(line);
            if (cached === undefined) {
                cached = canaryFastStyledChars(line) ?? styledCharsFromTokens(tokenize(line));
            }
            if (this.styledChars.size >= 200) {
                this.previousStyledChars = this.styledChars;
                this.styledChars = new Map();
            }
            this.styledChars.set(line, cached);
        }
        return cached;
    }
    getSlice(line, from, to) {
        const key = from + ',' + to + ',' + line;
        let cached = this.slices.get(key);
        if (cached === undefined) {
            cached = sliceAnsi(line, from, to);
            if (this.slices.size >= 2000) this.slices.clear();
            this.slices.set(key, cached);
        }
        return cached;
    }
    getStringWidth(text) {
        let cached = this.widths.get(text);
        if (cached === undefined) {
            cached = stringWidth(text);
            if (this.widths.size >= CANARY_CACHE_LIMIT) this.widths.clear();
            this.widths.set(text, cached);
        }
        return cached;
    }
    getWidestLine(text) {
        let cached = this.blockWidths.get(text);
        if (cached === undefined) {
            if (this.blockWidths.size >= CANARY_CACHE_LIMIT) this.blockWidths.clear();`;

const ORIGINAL_FIELD = `    operations = [];
    caches = new OutputCaches();`;

const PATCHED_FIELD = `    operations = [];
    caches = canarySharedCaches;`;

const ORIGINAL_GET_HEAD = `    get() {
        // Initialize output array with a specific set of rows, so that margin/padding at the bottom is preserved`;

const PATCHED_GET = `    get() {
        // canary: the same operations as getUnpatched(), but each row's writes are collected
        // first; a row written exactly as last frame (same x, same cached characters, same
        // width) reuses last frame's text; others are built as Ink builds them.
        const caches = this.caches;
        const rows = [];
        for (let y = 0; y < this.height; y++) {
            rows.push([]);
        }
        const clips = [];
        for (const operation of this.operations) {
            if (operation.type === 'clip') {
                clips.push(operation.clip);
            }
            if (operation.type === 'unclip') {
                clips.pop();
            }
            if (operation.type === 'write') {
                const { text, transformers } = operation;
                let { x, y } = operation;
                let lines = text.split('\\n');
                const clip = clips.at(-1);
                if (clip) {
                    const clipHorizontally = typeof clip?.x1 === 'number' && typeof clip?.x2 === 'number';
                    const clipVertically = typeof clip?.y1 === 'number' && typeof clip?.y2 === 'number';
                    if (clipHorizontally) {
                        const width = caches.getWidestLine(text);
                        if (x + width < clip.x1 || x > clip.x2) {
                            continue;
                        }
                    }
                    if (clipVertically) {
                        const height = lines.length;
                        if (y + height < clip.y1 || y > clip.y2) {
                            continue;
                        }
                    }
                    if (clipHorizontally) {
                        lines = lines.map(line => {
                            const from = x < clip.x1 ? clip.x1 - x : 0;
                            const width = caches.getStringWidth(line);
                            const to = x + width > clip.x2 ? clip.x2 - x : width;
                            return caches.getSlice(line, from, to);
                        });
                        if (x < clip.x1) {
                            x = clip.x1;
                        }
                    }
                    if (clipVertically) {
                        const from = y < clip.y1 ? clip.y1 - y : 0;
                        const height = lines.length;
                        const to = y + height > clip.y2 ? clip.y2 - y : height;
                        lines = lines.slice(from, to);
                        if (y < clip.y1) {
                            y = clip.y1;
                        }
                    }
                }
                let offsetY = 0;
                for (let [index, line] of lines.entries()) {
                    const writes = rows[y + offsetY];
                    if (!writes) {
                        continue;
                    }
                    for (const transformer of transformers) {
                        line = transformer(line, index);
                    }
                    writes.push(x, caches.getStyledChars(line));
                    offsetY++;
                }
            }
        }
        const width = this.width;
        const last = canaryLastRows;
        const texts = [];
        for (let y = 0; y < rows.length; y++) {
            const writes = rows[y];
            const prev = last[y];
            if (prev !== undefined && prev.width === width && sameWrites(prev.writes, writes)) {
                texts.push(prev.text);
                continue;
            }
            const text = buildRow(writes, width, caches);
            last[y] = { width, writes, text };
            texts.push(text);
        }
        return {
            output: texts.join('\\n'),
            height: rows.length,
        };
    }
    getUnpatched() {
        // Initialize output array with a specific set of rows, so that margin/padding at the bottom is preserved`;

const HELPERS = `
const CANARY_NO_STYLES = [];
/** 1 for the characters of build/narrow-chars.mjs: one column, a grapheme of their own. */
const CANARY_NARROW = new Uint8Array(${NARROW_END});
for (const [from, to] of ${JSON.stringify(NARROW_RANGES)}) {
    CANARY_NARROW.fill(1, from, to + 1);
}
const CANARY_BLANK = { type: 'char', value: ' ', fullWidth: false, styles: CANARY_NO_STYLES };
/** The styled characters of a line made only of the characters of build/narrow-chars.mjs
 * (printable ASCII, box drawing, blocks, arrows, the console's symbols) and SGR escapes (ESC [ digits/semicolons m):
 * what styledCharsFromTokens(tokenize(line)) gives (each such character is a grapheme of its own,
 * one column wide, never full width), without segmenting the line into graphemes character by
 * character. Characters between two escapes share one styles array (nothing changes them). null
 * for any other line: Ink's own way then. */
function canaryFastStyledChars(line) {
    const chars = [];
    let codes = CANARY_NO_STYLES;
    let styles = CANARY_NO_STYLES;
    const n = line.length;
    let i = 0;
    while (i < n) {
        const c = line.charCodeAt(i);
        if (c === 0x1b) {
            if (line.charCodeAt(i + 1) !== 0x5b) {
                return null;
            }
            let j = i + 2;
            for (let d = line.charCodeAt(j); d === 0x3b || (d >= 0x30 && d <= 0x39); d = line.charCodeAt(++j)) {
            }
            if (line.charCodeAt(j) !== 0x6d) {
                return null;
            }
            codes = reduceAnsiCodesIncremental(codes, tokenize(line.slice(i, j + 1)));
            styles = codes.length === 0 ? CANARY_NO_STYLES : null;
            i = j + 1;
            continue;
        }
        if (!(c < ${NARROW_END} && CANARY_NARROW[c] === 1)) {
            return null;
        }
        if (styles === null) {
            styles = [...codes];
        }
        chars.push({ type: 'char', value: line[i], fullWidth: false, styles });
        i++;
    }
    return chars;
}
/** styledCharsToString, with the same result: between two characters with the same styles (the
 * same array, or both none) there is no code to write, so it is not computed. */
function canaryStyledCharsToString(chars) {
    let ret = '';
    let previous = CANARY_NO_STYLES;
    for (let i = 0; i < chars.length; i++) {
        const styles = chars[i].styles;
        if (styles !== previous && (styles.length !== 0 || previous.length !== 0)) {
            ret += ansiCodesToString(i === 0 ? styles : diffAnsiCodes(previous, styles));
        }
        ret += chars[i].value;
        previous = styles;
    }
    if (previous.length !== 0) {
        ret += ansiCodesToString(diffAnsiCodes(previous, []));
    }
    return ret;
}
// For test/ink-patch.test.tsx: these against Ink's own functions, line by line.
export { canaryFastStyledChars, canaryStyledCharsToString };
const canarySharedCaches = new OutputCaches();
/** Last frame's rows: { width, writes: [x, chars, x, chars...], text }. */
const canaryLastRows = [];
function sameWrites(a, b) {
    if (a.length !== b.length) {
        return false;
    }
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) {
            return false;
        }
    }
    return true;
}
/** One row as Ink's get() builds it: blanks, the writes in order, wide characters' trailing cells. */
function buildRow(writes, width, caches) {
    const currentLine = [];
    for (let x = 0; x < width; x++) {
        currentLine.push(CANARY_BLANK);
    }
    for (let w = 0; w < writes.length; w += 2) {
        let offsetX = writes[w];
        for (const character of writes[w + 1]) {
            currentLine[offsetX] = character;
            const characterWidth = Math.max(1, caches.getStringWidth(character.value));
            if (characterWidth > 1) {
                for (let index = 1; index < characterWidth; index++) {
                    currentLine[offsetX + index] = {
                        type: 'char',
                        value: '',
                        fullWidth: false,
                        styles: character.styles,
                    };
                }
            }
            offsetX += characterWidth;
        }
    }
    const lineWithoutEmptyItems = currentLine.filter(item => item !== undefined);
    return canaryStyledCharsToString(lineWithoutEmptyItems).trimEnd();
}
export default class Output {`;

/** Each file: its replacements, each [Ink's text, ours]; Ink's text must occur exactly once. */
export const PATCHES = {
  'output.js': [
    [
      "import { styledCharsFromTokens, styledCharsToString, tokenize, } from '@alcalzone/ansi-tokenize';",
      "import { ansiCodesToString, diffAnsiCodes, reduceAnsiCodesIncremental, styledCharsFromTokens, styledCharsToString, tokenize, } from '@alcalzone/ansi-tokenize';",
    ],
    [ORIGINAL_CACHES, PATCHED_CACHES],
    ['export default class Output {', HELPERS],
    [ORIGINAL_FIELD, PATCHED_FIELD],
    [ORIGINAL_GET_HEAD, PATCHED_GET],
  ],
  // Every text node's text is checked for control characters on every render, code point by
  // code point (about 5% of the first frame): one regular expression gives the same answer
  // (a C1 control is U+0080-U+009F, never part of a surrogate pair).
  'ansi-tokenizer.js': [
    [
      `    for (const character of text) {
        if (isC1ControlCharacter(character)) {
            return true;
        }
    }
    return false;
};`,
      `    return /[\\u0080-\\u009f]/.test(text);
};`,
    ],
  ],
  // The width of every text node was measured again every frame (string-width over each
  // character: the largest single cost left after the output step). Ink's measureText caches it.
  'render-node-to-output.js': [
    ["import widestLine from 'widest-line';", "import canaryMeasureText from './measure-text.js';"],
    ['const currentWidth = widestLine(text);', 'const currentWidth = canaryMeasureText(text).width;'],
  ],
  // ... and that cache was unbounded (every text ever shown, for the life of the process).
  'measure-text.js': [['    cache.set(text, dimensions);', '    if (cache.size >= 20000) {\n        cache.clear();\n    }\n    cache.set(text, dimensions);']],
};

/** The patched text of one of Ink's files, or null when `source` is not the file this patch knows. */
export function patchedSource(name, source) {
  if (source.startsWith(MARKER)) return source;
  const pieces = PATCHES[name];
  if (!pieces.every(([from]) => source.split(from).length === 2)) return null;
  let out = source;
  for (const [from, to] of pieces) out = out.replace(from, () => to);
  return `${MARKER}\n${out}`;
}

/** Where Ink's own version of a patched file is kept (output.js -> output.canary-stock.js). */
export function stockPath(file) {
  return file.replace(/\.js$/, '.canary-stock.js');
}

/** node_modules/ink/build/ as resolved from this package. */
export function inkBuildDir() {
  const require = createRequire(join(fileURLToPath(new URL('..', import.meta.url)), 'package.json'));
  // ink's exports map has no ./package.json; its main is build/index.js, beside output.js.
  return dirname(require.resolve('ink'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let dir;
  try {
    dir = inkBuildDir();
  } catch {
    process.stderr.write('patch-ink: ink is not installed; nothing to patch\n');
    process.exit(0);
  }
  // A file an older version of this script patched is patched again from Ink's own copy, kept
  // beside it (since v2); without that copy Ink has to be reinstalled.
  const read = (file) => {
    const text = readFileSync(file, 'utf8');
    if (!text.startsWith('/* patched by canary:') || text.startsWith(MARKER) || !existsSync(stockPath(file))) return text;
    return readFileSync(stockPath(file), 'utf8');
  };
  const sources = Object.keys(PATCHES).map((name) => [name, join(dir, name)]).map(([name, file]) => [name, file, read(file)]);
  const patched = sources.map(([name, , source]) => patchedSource(name, source));
  const bad = sources.filter((_, i) => patched[i] === null).map(([, file]) => file);
  if (bad.length) {
    // Never fail an install over a speed-up: the console works unpatched, only slower. All or
    // nothing: the files' patches go together.
    const older = sources.some(([, , source]) => source.startsWith('/* patched by canary:'));
    process.stderr.write(
      older
        ? `patch-ink: ${bad.join(', ')}: patched by an older build/patch-ink.mjs; reinstall Ink to patch it again (rm -rf node_modules/ink && npm install)\n`
        : `patch-ink: ${bad.join(', ')}: not the Ink 6.8 files this patch was written for; Ink left as it is (frames will be slower). Update build/patch-ink.mjs.\n`,
    );
  } else {
    sources.forEach(([, file, source], i) => {
      if (patched[i] === source) return;
      // Ink's own file, kept beside it: the benchmark's floors are stock Ink (build/bundle.mjs).
      writeFileSync(stockPath(file), source);
      writeFileSync(file, patched[i]);
    });
  }
}
