// Every command of canary, in the order `canary help` lists them. A new command is a module in
// this directory (`defineCommand({ name, summary, args, options, examples, run })`) added here:
// dispatch, help, --help, completion and the CLI tests all read this list. Command modules hold
// metadata only; each `run` loads its implementation (src/commands/impl/) with a dynamic import.
import audit from './audit.js';
import completion from './completion.js';
import declare from './declare.js';
import drive from './drive.js';
import join from './join.js';
import replay from './replay.js';
import report from './report.js';
import rollback from './rollback.js';
import run from './run.js';
import schema from './schema.js';
import serve from './serve.js';
import start from './start.js';
import status from './status.js';
import tokens from './tokens.js';
import type { CommandSpec } from './types.js';
import validate from './validate.js';
import wall from './wall.js';

export const COMMANDS: readonly CommandSpec<any>[] = [start, run, validate, schema, status, audit, report, replay, rollback, serve, join, declare, tokens, wall, drive, completion];

/** `canary` alone, or `canary --speed 600`: the console. */
export const DEFAULT_COMMAND = 'start';
