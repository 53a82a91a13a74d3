// The console with one more line at the bottom for the war room: on `canary serve`, the URL and
// who joined; on `canary join`, who you are, the connection and the server's answer to your last
// action. The App above it is the very same console, fed by whichever store it is given.
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { Box, Text, useStdout } from 'ink';
import { App, type AppProps } from './App.js';
import { makeTheme } from './theme.js';
import { printable } from '../src/plan/printable.js';

/** Something that can say one line about the war room and tell when it changed. */
export interface WarRoomLine {
  subscribe(listener: () => void): () => void;
  line(): { text: string; tone: 'ok' | 'warn' | 'bad' };
}

export function WarRoomConsole(props: Omit<AppProps, 'rows'> & { room: WarRoomLine; rows?: number }) {
  const { stdout } = useStdout();
  const read = useCallback(() => stdout.rows || 24, [stdout]);
  const [termRows, setRows] = useState(read);
  useEffect(() => {
    const on = () => setRows(read());
    stdout.on('resize', on);
    return () => {
      stdout.off('resize', on);
    };
  }, [stdout, read]);
  const { room } = props;
  const subscribe = useCallback((l: () => void) => room.subscribe(l), [room]);
  const getLine = useCallback(() => JSON.stringify(room.line()), [room]);
  const line = JSON.parse(useSyncExternalStore(subscribe, getLine, getLine)) as ReturnType<WarRoomLine['line']>;
  const theme = useMemo(() => makeTheme(), []);
  // App keeps the terminal's last line free (see App); the war-room line takes the one above it.
  const rows = Math.max(4, (props.rows ?? termRows - 1) - 1);
  const color = theme.c(line.tone);
  const width = Math.max(20, Math.floor(props.columns ?? (stdout.columns || 80)));
  return (
    <Box flexDirection="column" width={width}>
      <App {...props} rows={rows} />
      <Text {...(color ? { color } : {})} wrap="truncate-end">
        {printable(line.text).slice(0, width)}
      </Text>
    </Box>
  );
}
