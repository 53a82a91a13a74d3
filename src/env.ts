// The environment canary reads, read once (per command, in src/commands/program.ts) into one typed
// object that is passed down (`Ctx.env`): no other module of src/ or components/ reads process.env,
// so tests inject any of it. A child process's environment is built from `vars` (the environment as
// read); the few process-wide settings libraries read themselves (chalk's FORCE_COLOR, blessed's
// NCURSES_NO_UTF8_ACS, the theme's NO_COLOR) are set and read here too.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export interface CanaryEnv {
  /** CANARY_JOURNAL_KEY: makes a journal's hash chain an HMAC. */
  journalKey: string | undefined;
  /** $XDG_STATE_HOME, else ~/.local/state: journals, tokens, load-test results go under canary/. */
  stateHome: string;
  /** $XDG_CONFIG_HOME, else ~/.config. */
  configHome: string;
  /** $XDG_CACHE_HOME, else ~/.cache: validated plans are cached under canary/plans. */
  cacheHome: string;
  /** CANARY_PLAN_CACHE=off: no plan cache. */
  planCache: boolean;
  /** CANARY_CODE_CACHE=off: the bin compiles the CLI at every start (src/code-cache.ts). */
  codeCache: boolean;
  /** CANARY_TOKEN (trimmed): a war-room token for join, wall and declare. */
  token: string | undefined;
  /** NO_COLOR set and non-empty (https://no-color.org), or --no-color. */
  noColor: boolean;
  /** CI set and not "false"/"0". */
  ci: boolean;
  /** CI (or CONTINUOUS_INTEGRATION) is set, by is-in-ci's rule (present and not "false"/"0"), and
   * stdout is a terminal: a build agent's interactive shell, a devcontainer. Ink 6.8 reads them
   * once, when it loads (is-in-ci), and then draws no frame before exit; chalk then draws no
   * colour. A terminal on stdout means a person is watching, so applyToProcess hides both
   * variables from this process before a console loads Ink; children still get them (`vars`). */
  ciOnTerminal: boolean;
  /** CANARY_DEBUG=1: an internal error prints its stack. */
  debug: boolean;
  /** $USER, for "manual rollback by ...". */
  user: string | undefined;
  /** POD_NAME (the downward API in deploy/): who an in-cluster driver is in the Lease and the status. */
  podName: string | undefined;
  /** Prometheus credentials: environment only, never the command line (ps shows it to everyone). */
  prometheus: { token: string | undefined; user: string | undefined; password: string | undefined };
  /** Every variable as read (a copy): what the plan names (notification URLs and tokens), PATH
   * (artillery), kubeconfig discovery, and the base of a child process's environment. With
   * --no-color it carries NO_COLOR=1 and FORCE_COLOR=0, so children draw no colour either. */
  vars: Readonly<Record<string, string | undefined>>;
}

const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
/** An XDG base directory: absolute, else unset ("if it contains a relative path, it should be
 * considered invalid and ignored": the XDG Base Directory spec). */
const xdg = (v: string | undefined): string | undefined => (set(v) !== undefined && isAbsolute(v!) ? v : undefined);
/** A switch that is on unless set to off (off, 0, false, no). */
const unlessOff = (v: string | undefined): boolean => !['off', '0', 'false', 'no'].includes((v ?? '').trim().toLowerCase());

/** The variables Ink's is-in-ci reads, by its rule: present (even empty) and not "false"/"0". */
const CI_VARS = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
const inCi = (env: NodeJS.ProcessEnv): boolean => CI_VARS.some((k) => k in env && env[k] !== '0' && env[k] !== 'false');

/** `flags.terminal`: the command's stdout is a terminal (see `ciOnTerminal`). */
export function readEnv(env: NodeJS.ProcessEnv = process.env, flags: { noColor?: boolean | undefined; terminal?: boolean | undefined } = {}): CanaryEnv {
  const home = homedir();
  const noColor = flags.noColor === true || set(env.NO_COLOR) !== undefined;
  return {
    journalKey: set(env.CANARY_JOURNAL_KEY),
    stateHome: xdg(env.XDG_STATE_HOME) ?? join(home, '.local', 'state'),
    configHome: xdg(env.XDG_CONFIG_HOME) ?? join(home, '.config'),
    cacheHome: xdg(env.XDG_CACHE_HOME) ?? join(home, '.cache'),
    planCache: unlessOff(env.CANARY_PLAN_CACHE),
    codeCache: unlessOff(env.CANARY_CODE_CACHE),
    token: set(env.CANARY_TOKEN?.trim()),
    noColor,
    ci: set(env.CI) !== undefined && env.CI !== 'false' && env.CI !== '0',
    ciOnTerminal: flags.terminal === true && inCi(env),
    debug: set(env.CANARY_DEBUG) !== undefined && env.CANARY_DEBUG !== '0',
    user: set(env.USER),
    podName: set(env.POD_NAME),
    prometheus: { token: set(env.CANARY_PROMETHEUS_TOKEN), user: set(env.CANARY_PROMETHEUS_USER), password: env.CANARY_PROMETHEUS_PASSWORD },
    vars: Object.freeze({ ...env, ...(noColor ? { NO_COLOR: '1', FORCE_COLOR: '0' } : {}) }),
  };
}

/** The process's environment as it is now, for a caller that was given none (library use and
 * tests; the commands pass `CanaryEnv.vars`). */
export function processVars(): Readonly<Record<string, string | undefined>> {
  return { ...process.env };
}

/** Where validated plans are cached, or null when the cache is off (CANARY_PLAN_CACHE=off). */
export function planCacheDir(env: Pick<CanaryEnv, 'cacheHome' | 'planCache'>): string | null {
  return env.planCache ? join(env.cacheHome, 'canary', 'plans') : null;
}

/** Settings for the libraries in this process that read the environment themselves, once, when
 * they load (so this runs before a command loads them: every command's implementation is a
 * dynamic import, src/commands/types.ts):
 * - --no-color or NO_COLOR: chalk under Ink and the theme draw no colour either;
 * - CI set with a terminal on stdout (`ciOnTerminal`): Ink and chalk do not see CI, so the console
 *   draws (and in colour) as in any terminal. Piped, CI stays: Ink prints the last frame at exit. */
export function applyToProcess(env: CanaryEnv): void {
  if (env.ciOnTerminal) for (const k of CI_VARS) delete process.env[k];
  if (!env.noColor) return;
  process.env.NO_COLOR = '1';
  process.env.FORCE_COLOR = '0';
}

/** NO_COLOR as this process has it now (the theme's default: --no-color sets it, applyToProcess). */
export function processNoColor(): boolean {
  return set(process.env.NO_COLOR) !== undefined;
}

/** blessed draws line characters with the terminal's ACS unless told the terminal is UTF-8. */
export function preferUtf8LineDrawing(): void {
  process.env.NCURSES_NO_UTF8_ACS ??= '1';
}
