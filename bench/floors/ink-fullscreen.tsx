// Floor of render_frame_median_ms: stock Ink 6 drawing a full 120x40 screen of plain text, every
// line different from the frame before, measured exactly as the console's frame is (an external
// store changes, useSyncExternalStore, one unthrottled output per commit, median after warm-up).
// A program of its own, bundled with Ink's own files (build/bundle.mjs: not the output step
// build/patch-ink.mjs patches for the console): `node dist/bench/ink-fullscreen.js` prints the
// median frame in ms.
import React, { useSyncExternalStore } from 'react';
import { PassThrough } from 'node:stream';
import { Box, Text, render } from 'ink';

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua';

function line(frame: number, row: number, cols: number): string {
  let s = `${String(frame).padStart(5, '0')}:${String(row).padStart(2, '0')} `;
  let i = frame + row;
  while (s.length < cols) s += `${WORDS.split(' ')[i++ % 19]} `;
  return s.slice(0, cols);
}

export async function inkFullscreenFrameMs(cols = 120, rows = 40, frames = 200): Promise<number> {
  let frame = 0;
  const listeners = new Set<() => void>();
  const subscribe = (l: () => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  };
  const get = () => frame;
  function Screen(): React.JSX.Element {
    const f = useSyncExternalStore(subscribe, get, get);
    return (
      <Box flexDirection="column" width={cols} height={rows}>
        {Array.from({ length: rows }, (_, r) => (
          <Text key={r}>{line(f, r, cols)}</Text>
        ))}
      </Box>
    );
  }
  const stdout = Object.assign(new PassThrough(), { columns: cols, rows, isTTY: true });
  stdout.resume();
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref: () => undefined, unref: () => undefined });
  let onFrame: (() => void) | null = null;
  const ink = render(<Screen />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    patchConsole: false,
    exitOnCtrlC: false,
    onRender: () => onFrame?.(),
  });
  const times: number[] = [];
  for (let i = 0; i < frames; i++) {
    const framed = new Promise<void>((r) => (onFrame = r));
    const t0 = performance.now();
    frame += 1;
    for (const l of listeners) l();
    await framed;
    times.push(performance.now() - t0);
  }
  ink.unmount();
  const s = times.slice(20).sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (process.argv[1]?.endsWith('ink-fullscreen.js')) {
  void inkFullscreenFrameMs().then((ms) => process.stdout.write(`${ms}\n`));
}
