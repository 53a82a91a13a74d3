// `canary completion bash|zsh|fish`: a completion script generated from the command registry.
import { defineCommand } from './types.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

export default defineCommand({
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  args: [{ name: 'shell', required: true, help: 'bash, zsh or fish', choices: SHELLS }],
  options: {},
  examples: [
    { cmd: 'source <(canary completion bash)', what: 'bash, this shell (add it to ~/.bashrc to keep it)' },
    { cmd: 'canary completion zsh > "${fpath[1]}/_canary"', what: 'zsh (then start a new shell)' },
    { cmd: 'canary completion fish > ~/.config/fish/completions/canary.fish', what: 'fish' },
  ],
  run: async (_values, [shell], ctx) => {
    const [{ completionScript }, { COMMANDS }] = await Promise.all([import('./impl/completion.js'), import('./registry.js')]);
    ctx.out.write(completionScript(shell as (typeof SHELLS)[number], COMMANDS));
  },
});
