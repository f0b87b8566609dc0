#!/usr/bin/env node
/**
 * postinstall: makes sure the native addon of better-sqlite3 (the exchange's ledger store on
 * Node 20; newer Node has node:sqlite built in) is built for the Node that runs the install.
 *
 * better-sqlite3 first tries a prebuilt binary from GitHub, then compiles with node-gyp, which
 * downloads Node's headers from nodejs.org. On a machine without those hosts both fail, although
 * the headers ship with Node itself (`<prefix>/include/node`). The dependency is optional, so the
 * install goes on; this script then rebuilds it against the local headers. If that fails too, it
 * says what to do and fails the install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const exchange = join(root, 'packages', 'exchange');

function loads() {
  // In a child process: a missing or mismatched binary must not take this script down.
  const probe = spawnSync(
    process.execPath,
    ['-e', "const D = require('better-sqlite3'); new D(':memory:').close();"],
    { cwd: exchange, stdio: 'pipe' },
  );
  return probe.status === 0;
}

// Node 22.13+ and 24 have SQLite built in (node:sqlite), which the exchange uses there instead.
function builtinSqlite() {
  try {
    return process.getBuiltinModule?.('node:sqlite') !== undefined;
  } catch {
    return false;
  }
}

if (!existsSync(exchange) || builtinSqlite() || loads()) process.exit(0);

const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) env.npm_config_nodedir = prefix;
}
process.stderr.write(
  `better-sqlite3: no prebuilt binary; compiling against ${env.npm_config_nodedir ?? 'downloaded headers'} (about a minute)\n`,
);
const pnpm = process.env.npm_execpath;
const [cmd, args] =
  pnpm?.endsWith('.js') || pnpm?.endsWith('.cjs')
    ? [process.execPath, [pnpm, 'rebuild', 'better-sqlite3']]
    : [pnpm || 'pnpm', ['rebuild', 'better-sqlite3']];
const run = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
if (run.status === 0 && loads()) process.exit(0);
process.stderr.write(
  'better-sqlite3 could not be built. Install a C++ toolchain (python3, make, g++) and run\n' +
    '  npm_config_nodedir=<folder holding include/node> pnpm rebuild better-sqlite3\n',
);
process.exit(1);
