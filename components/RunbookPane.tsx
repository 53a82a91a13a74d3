// The runbook pane: the command running (or the last one run) — its command line as run, its live
// status and exit, its output as it streams — and, after 100%, the post-rollout validation with
// each command's status. It takes the roster's place while a command runs or while opened with o.
import { Box } from 'ink';
import type { Plan } from '../src/plan/schema.js';
import type { RolloutState } from '../src/engine/types.js';
import { Lines } from './line.js';
import { Pane, paneInnerHeight, paneInnerWidth } from './Pane.js';
import { runPaneLines } from './runbook.js';
import type { Theme } from './theme.js';

export function RunbookPane({ plan, state, width, height, focused, theme }: { plan: Plan; state: RolloutState; width: number; height: number; focused: boolean; theme: Theme }) {
  const w = paneInnerWidth(width);
  const h = paneInnerHeight(height);
  const v = runPaneLines(plan, state, w, h);
  return (
    <Pane title={v.title} right={v.right} focused={focused} width={width} height={height} theme={theme}>
      <Box flexDirection="column">
        <Lines lines={v.lines.slice(0, h)} width={w} theme={theme} />
      </Box>
    </Pane>
  );
}
