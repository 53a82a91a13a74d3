// The floors the console is measured against, as small Ink 6 apps spawned the way the console is
// (bundled by build/bundle.mjs like dist/canary.mjs, run in a pseudo-terminal):
//   node dist/bench/ink-app.js first-frame   one Box/Text with the four pane titles; exits after
//                                            its first frame (the floor of first_frame_ms)
//   node dist/bench/ink-app.js clock         one line with a clock, redrawn once a second (the
//                                            floor of idle_cpu_percent)
import React, { useEffect, useState } from 'react';
import { Box, Text, render, useApp } from 'ink';

function FirstFrame(): React.JSX.Element {
  const { exit } = useApp();
  useEffect(() => {
    const t = setTimeout(() => exit(), 50);
    return () => clearTimeout(t);
  }, [exit]);
  return (
    <Box borderStyle="single">
      <Text>Phases SLIs Pods Roster</Text>
    </Box>
  );
}

function Clock(): React.JSX.Element {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  return (
    <Box borderStyle="single">
      <Text>{now.toISOString().slice(11, 19)}</Text>
    </Box>
  );
}

const mode = process.argv[2];
if (mode === 'first-frame') render(<FirstFrame />);
else if (mode === 'clock') render(<Clock />);
else {
  process.stderr.write('usage: ink-app.js first-frame|clock\n');
  process.exit(2);
}
