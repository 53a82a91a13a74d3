// The environment canary reads, read once (in src/cli.ts) into one typed object that is passed
// down: no other module of the CLI looks at process.env for these.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CanaryEnv {
  /** CANARY_JOURNAL_KEY: makes a journal's hash chain an HMAC. */
  journalKey: string | undefined;
  /** $XDG_STATE_HOME, else ~/.local/state: journals, tokens, load-test results go under canary/. */
  stateHome: string;
  /** $XDG_CONFIG_HOME, else ~/.config. */
  configHome: string;
  /** NO_COLOR set and non-empty (https://no-color.org), or --no-color. */
  noColor: boolean;
  /** CI set and not "false"/"0". */
  ci: boolean;
  /** CANARY_DEBUG=1: an internal error prints its stack. */
  debug: boolean;
  /** $USER, for "manual rollback by ...". */
  user: string | undefined;
  /** POD_NAME (the downward API in deploy/): who an in-cluster driver is in the Lease and the status. */
  podName: string | undefined;
  /** Prometheus credentials: environment only, never the command line (ps shows it to everyone). */
  prometheus: { token: string | undefined; user: string | undefined; password: string | undefined };
}

const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

export function readEnv(env: NodeJS.ProcessEnv = process.env, flags: { noColor?: boolean | undefined } = {}): CanaryEnv {
  const home = homedir();
  return {
    journalKey: set(env.CANARY_JOURNAL_KEY),
    stateHome: set(env.XDG_STATE_HOME) ?? join(home, '.local', 'state'),
    configHome: set(env.XDG_CONFIG_HOME) ?? join(home, '.config'),
    noColor: flags.noColor === true || set(env.NO_COLOR) !== undefined,
    ci: set(env.CI) !== undefined && env.CI !== 'false' && env.CI !== '0',
    debug: set(env.CANARY_DEBUG) !== undefined && env.CANARY_DEBUG !== '0',
    user: set(env.USER),
    podName: set(env.POD_NAME),
    prometheus: { token: set(env.CANARY_PROMETHEUS_TOKEN), user: set(env.CANARY_PROMETHEUS_USER), password: env.CANARY_PROMETHEUS_PASSWORD },
  };
}
