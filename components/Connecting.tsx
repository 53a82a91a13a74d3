// What `canary join` shows before the first state arrives: where it connects, which attempt, the
// last error and when it gives up, at once and updated as it goes; `q`, `esc` or ctrl-c leave.
// (A wrong port used to give a blank screen for a minute on which no key did anything.)
import { useEffect, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { formatDuration } from '../src/plan/duration.js';
import { printable } from '../src/plan/printable.js';
import { makeTheme } from './theme.js';

/** A connection being made (RemoteStore): what it is doing now, and when that changes. */
export interface ConnectingSource {
  onStatus(listener: () => void): () => void;
  connecting(now?: number): { url: string; attempt: number; lastError: string | null; giveUpInMs: number | null };
}

/** The line, as words (a test and a terminal read the same). */
export function connectingText(v: ReturnType<ConnectingSource['connecting']>): string {
  const attempt = `attempt ${Math.max(1, v.attempt)}${v.lastError ? `, last error: ${v.lastError}` : ''}`;
  const left = v.giveUpInMs === null ? '' : ` · gives up in ${formatDuration(Math.ceil(v.giveUpInMs / 1000) * 1000)}`;
  return printable(`connecting to ${v.url} (${attempt})${left} · q or ctrl-c leaves`);
}

export function Connecting({ source, onLeave }: { source: ConnectingSource; onLeave: (how: 'q' | 'ctrl-c') => void }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const off = source.onStatus(() => setTick((n) => n + 1));
    // the countdown moves on its own
    const t = setInterval(() => setTick((n) => n + 1), 1_000);
    return () => {
      off();
      clearInterval(t);
    };
  }, [source]);
  useInput((input, key) => {
    if (key.ctrl && input === 'c') onLeave('ctrl-c');
    else if (input === 'q' || key.escape) onLeave('q');
  });
  const v = source.connecting();
  const color = makeTheme().c(v.lastError ? 'warn' : 'info');
  return (
    <Box>
      <Text {...(color ? { color } : {})}>{connectingText(v)}</Text>
    </Box>
  );
}
