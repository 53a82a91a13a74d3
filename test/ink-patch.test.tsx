// build/patch-ink.mjs (run at install) keeps Ink's output caches across frames and reuses rows
// written exactly as in the last frame. These tests: the installed Ink is patched (they fail when
// Ink changes underneath and the patch no longer applies), and the patched output step gives,
// byte for byte, what Ink's own gives, over hundreds of console frames with resizes, scrolling,
// clipping and wide characters.
import { describe, it, expect, afterEach, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import React from 'react';
import { Box, Text } from 'ink';
import { render, cleanup } from 'ink-testing-library';
import { App } from '../components/App.js';
import { sized } from './helpers/sized.js';
import { CHLOE, loadPlan, makeStore, manyPods, MIN, samples, T0 } from './helpers/state.js';
// @ts-expect-error: a plain .mjs build script, no types
import { inkBuildDir, MARKER, PATCHES, patchedSource } from '../build/patch-ink.mjs';
// @ts-expect-error: a plain .mjs build script, no types
import { NARROW_CLASS, NARROW_RANGES } from '../build/narrow-chars.mjs';

type OutputResult = { output: string; height: number };
interface OutputProto {
  caches: unknown;
  get(this: OutputProto): OutputResult;
  getUnpatched(this: OutputProto): OutputResult;
}
interface StyledChar {
  type: 'char';
  value: string;
  fullWidth: boolean;
  styles: { code: string; endCode: string }[];
}
interface Tokenizer {
  tokenize(line: string): unknown[];
  styledCharsFromTokens(tokens: unknown[]): StyledChar[];
  styledCharsToString(chars: StyledChar[]): string;
}

const dir = inkBuildDir() as string;
let proto: OutputProto;
let patchedGet: OutputProto['get'];
let fast: { canaryFastStyledChars(line: string): StyledChar[] | null; canaryStyledCharsToString(chars: StyledChar[]): string };
let ansi: Tokenizer;
let chalk: { level: number };
let chalkLevel = 0;
const seen = { frames: 0, mismatches: [] as { patched: string; ink: string }[] };

beforeAll(async () => {
  // The very modules Ink's renderer uses (node_modules is loaded by Node, not transformed).
  // (Ink's dependencies sit beside it in node_modules; imported, not transformed: the same modules.)
  const load = async <T,>(specifier: string): Promise<T> => {
    expect(existsSync(join(dir, '..', 'node_modules', specifier)), `Ink has its own copy of ${specifier}: load that one`).toBe(false);
    return (await import(specifier)) as T;
  };
  const mod = (await import(pathToFileURL(join(dir, 'output.js')).href)) as { default: { prototype: OutputProto } } & typeof fast;
  fast = mod;
  ansi = await load<Tokenizer>('@alcalzone/ansi-tokenize');
  const stringWidth = (await load<{ default: (s: string) => number }>('string-width')).default;
  const widestLine = (await load<{ default: (s: string) => number }>('widest-line')).default;
  chalk = (await load<{ default: { level: number } }>('chalk')).default;
  // Frames in colour, as in a terminal (a test's stdout is not one): the styled paths are the ones to compare.
  chalkLevel = chalk.level;
  chalk.level = 3;
  // Ink's own output step, with Ink's own caches (fresh each frame, nothing of the patch's).
  const pristine = () => ({
    getStyledChars: (line: string) => ansi.styledCharsFromTokens(ansi.tokenize(line)),
    getStringWidth: (text: string) => stringWidth(text),
    getWidestLine: (text: string) => widestLine(text),
  });
  proto = mod.default.prototype;
  patchedGet = proto.get;
  // Every frame drawn in these tests: the patched result, checked against Ink's own.
  proto.get = function get(this: OutputProto) {
    const mine = patchedGet.call(this);
    const shared = this.caches;
    this.caches = pristine();
    const ink = this.getUnpatched();
    this.caches = shared;
    seen.frames += 1;
    if (mine.output !== ink.output || mine.height !== ink.height) seen.mismatches.push({ patched: mine.output, ink: ink.output });
    return mine;
  };
});

afterAll(() => {
  if (proto) proto.get = patchedGet;
  if (chalk) chalk.level = chalkLevel;
});

afterEach(() => cleanup());

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('Ink, as installed', () => {
  it('carries the patch (npm install runs build/patch-ink.mjs; it stops applying if Ink changes)', () => {
    for (const name of Object.keys(PATCHES)) {
      const text = readFileSync(join(dir, name), 'utf8');
      expect(text.startsWith(MARKER), `${name} is not patched: Ink changed underneath? update build/patch-ink.mjs`).toBe(true);
      expect(patchedSource(name, text)).toBe(text); // idempotent
    }
    expect(typeof proto.getUnpatched).toBe('function');
  });

  it('is left alone when its files are not the ones the patch was written for', () => {
    const text = readFileSync(join(dir, 'output.js'), 'utf8').slice(MARKER.length + 1);
    const otherInk = text.replace('export default class Output {', 'export default class Output2 {');
    expect(patchedSource('output.js', otherInk)).toBeNull();
  });
});

describe('the patched output step', () => {
  it('draws what Ink draws, byte for byte, over 200 console frames with 3,000 pods, scrolling and resizes', async () => {
    const plan = loadPlan();
    const store = makeStore(plan, T0);
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1']) store.dispatch({ type: 'pods.sync', at: T0, region, pods: manyPods(1000, region) });
    const ui = sized(render(<App plan={plan} store={store} actor={CHLOE} now={() => store.clock.t} />), 120, 40);
    await settle();
    const before = seen.frames;
    const sizes: [number, number][] = [
      [120, 40],
      [80, 24],
      [200, 50],
      [61, 30],
      [120, 40],
    ];
    for (let i = 0; i < 200; i++) {
      store.clock.t += MIN;
      store.dispatch({ type: 'sli.samples', at: store.clock.t, samples: samples(i) });
      if (i % 7 === 3) {
        const p = manyPods(20, 'us-west-2').map((x) => ({ ...x, ready: i % 2 === 0, reason: i % 2 === 0 ? 'Running' : 'CrashLoopBackOff', restarts: i }));
        store.dispatch({ type: 'pods.delta', at: store.clock.t, upserts: p, deletes: [] });
      }
      if (i % 11 === 5) ui.stdin.write('j');
      if (i % 40 === 39) {
        const [c, r] = sizes[(i + 1) / 40 - 1]!;
        sized(ui, c, r);
      }
      await settle();
    }
    expect(seen.frames - before).toBeGreaterThan(160);
    expect(seen.mismatches.slice(0, 1)).toEqual([]);
    // ... in colour: the frames carried styles (they are what the fast paths must keep).
    expect(ui.lastFrame()).toContain('\u001b[');
  }, 120_000); // each frame is drawn twice (patched and Ink's own), with 3,000 pods

  it('clips wide characters and styled text as Ink does, wherever the box sits', async () => {
    function Clipped({ shift, text }: { shift: number; text: string }) {
      return (
        <Box flexDirection="column">
          <Box width={17} height={3} overflow="hidden" borderStyle="single">
            <Box marginLeft={shift - 6} flexShrink={0} width={60}>
              <Text color="green">{text}</Text>
            </Box>
          </Box>
          <Box width={9} overflowX="hidden">
            <Text bold>{text}</Text>
          </Box>
        </Box>
      );
    }
    const texts = ['plain ascii text, long enough to clip', '漢字とかなの混じった行です、はみ出します', 'emoji 🚀🚀 then ✗ crash and ⌛ stale', '\u001b[31mred\u001b[0m and ｆｕｌｌ width'];
    const ui = render(<Clipped shift={0} text={texts[0]!} />);
    const before = seen.frames;
    for (let i = 0; i < 120; i++) {
      ui.rerender(<Clipped shift={i % 13} text={texts[i % texts.length]!} />);
      await settle();
    }
    expect(seen.frames - before).toBeGreaterThan(100);
    expect(seen.mismatches.slice(0, 1)).toEqual([]);
  });
});

describe('the one-column characters (build/narrow-chars.mjs)', () => {
  it('are each one column and a grapheme of their own beside any other, for string-width, ansi-tokenize and Intl.Segmenter as installed', async () => {
    const stringWidth = (await import('string-width' as string)) as { default: (s: string) => number };
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    const all: string[] = [];
    for (const [from, to] of NARROW_RANGES) for (let cp = from; cp <= to; cp++) all.push(String.fromCharCode(cp));
    expect(all.length).toBeGreaterThan(2000);
    const bad: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const ch = all[i]!;
      // Beside itself, ASCII, a box-drawing character and another of the set.
      const other = all[(i * 7919) % all.length]!;
      const text = `a${ch}${ch}│${ch}${other}`;
      const tokens = ansi.styledCharsFromTokens(ansi.tokenize(text));
      if (stringWidth.default(ch) !== 1 || stringWidth.default(text) !== text.length || [...segmenter.segment(text)].length !== text.length || tokens.length !== text.length || tokens.some((t) => t.fullWidth || t.value.length !== 1))
        bad.push(`U+${ch.codePointAt(0)!.toString(16).toUpperCase()}`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
  });

  it("are what the CLI's string-width answers with their length (the build's shortcut is in dist/)", () => {
    const modules = JSON.parse(readFileSync(join(dir, '..', '..', '..', 'dist', '.modules.json'), 'utf8')) as Record<string, string[]>;
    const file = Object.entries(modules).find(([, inputs]) => inputs.some((i) => /node_modules\/string-width\/index\.js$/.test(i)))?.[0];
    expect(file, 'the file of dist/ that carries string-width').toBeDefined();
    expect(readFileSync(join(dir, '..', '..', '..', file!), 'utf8')).toContain(`/^[${NARROW_CLASS}]*$/`);
  });
});

describe('the fast styled characters', () => {
  const tricky = [
    '',
    'plain ascii │ box ─┌┐└┘ and blocks ▁▂▃▄▅▆▇█',
    '\u001b[31mred\u001b[39m plain \u001b[1mbold\u001b[22m',
    '\u001b[1;2;31mcompound\u001b[0m after reset',
    '\u001b[38;5;123m8-bit\u001b[39m \u001b[48;2;1;2;3m24-bit\u001b[49m',
    '\u001b[mempty params',
    '\u001b[1m\u001b[2mbold and dim\u001b[22m',
    '\u001b[31mnever closed',
    'trailing escape \u001b',
    'not sgr \u001b[2K after',
    'unterminated \u001b[31',
    '\u001b]8;;http://127.0.0.1/\u0007link\u001b]8;;\u0007',
    'latin é and combining e\u0301',
    'wide 漢字 and 🚀 and ✓',
    'symbols ✓ ✗ ● ◌ × · … → ◆ ▲ ■ ★ ⏸ in \u001b[33mcolour\u001b[39m',
    'c1 \u009b control',
    '\u001b[32m│\u001b[39m  orchestrator-7d9f8-00001  canary  use1 yes Running 0 3h \u001b[32m│\u001b[39m',
  ];

  it('are what Ink makes of a line, character for character, or null (Ink then makes them)', () => {
    let fastLines = 0;
    for (const line of tricky) {
      const ink = ansi.styledCharsFromTokens(ansi.tokenize(line));
      const mine = fast.canaryFastStyledChars(line);
      if (mine === null) continue;
      fastLines += 1;
      expect(mine, JSON.stringify(line)).toEqual(ink);
      expect(fast.canaryStyledCharsToString(mine), JSON.stringify(line)).toBe(ansi.styledCharsToString(ink));
      expect(fast.canaryStyledCharsToString(ink), JSON.stringify(line)).toBe(ansi.styledCharsToString(ink));
    }
    // The lines a console is made of take the fast way; anything unusual does not.
    expect(fastLines).toBe(10);
    for (const odd of ['not sgr \u001b[2K after', 'unterminated \u001b[31', 'trailing escape \u001b', 'latin é and combining e\u0301', 'wide 漢字 and 🚀 and ✓', 'c1 \u009b control'])
      expect(fast.canaryFastStyledChars(odd), JSON.stringify(odd)).toBeNull();
  });

  it('write rows as Ink writes them whatever the styles of the characters side by side', () => {
    // Rows made of pieces of different lines (as the grid puts writes side by side).
    const pieces = tricky.map((l) => ansi.styledCharsFromTokens(ansi.tokenize(l)));
    const fastPieces = tricky.map((l) => fast.canaryFastStyledChars(l)).filter((x): x is StyledChar[] => x !== null);
    for (let i = 0; i < 200; i++) {
      const row = [...pieces[i % pieces.length]!.slice(i % 5), ...fastPieces[(i * 7) % fastPieces.length]!.slice(0, 20 + (i % 9)), ...pieces[(i * 3) % pieces.length]!];
      expect(fast.canaryStyledCharsToString(row)).toBe(ansi.styledCharsToString(row));
    }
  });
});
