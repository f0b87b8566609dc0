/**
 * Task modules: how a package contributes the functions that run inside pool workers.
 *
 * A task module is an ordinary ES module that calls {@link defineTasks} at its top level with a
 * unique name, its own `import.meta.url` and an object of functions. Evaluating the module (in
 * the main thread or in a worker) registers the functions under that name in a registry kept on
 * `globalThis`, so that two copies of this package in one realm (sources and `dist/`, or two
 * bundles) still share it. A worker asked for a module it has not registered imports the URL.
 * @module
 */
import { UnseenError } from '@unseen/core';

/** A function that may run in a worker: structured-cloneable arguments and result. */
// biome-ignore lint/suspicious/noExplicitAny: task signatures are checked at each call site.
export type TaskFunction = (...args: any[]) => unknown;

/** The functions of one task module, by name. */
export type TaskFunctions = Record<string, TaskFunction>;

/** What {@link defineTasks} returns: a handle that names the module and where to load it. */
export interface TaskModule<Fns extends TaskFunctions = TaskFunctions> {
  /** Unique module name, conventionally the package name (`'@unseen/psi'`). */
  readonly name: string;
  /** URL a worker imports to register the module (the module's own `import.meta.url`). */
  readonly url: string;
  /** The functions themselves (used by the inline pool and for type inference). */
  readonly fns: Readonly<Fns>;
}

/** Names of the functions of a task module. */
export type TaskName<Fns extends TaskFunctions> = Extract<keyof Fns, string>;

/** Arguments of task `K`. */
export type TaskArgs<Fns extends TaskFunctions, K extends keyof Fns> = Parameters<Fns[K]>;

/** Result of task `K` once awaited. */
export type TaskResult<Fns extends TaskFunctions, K extends keyof Fns> = Awaited<
  ReturnType<Fns[K]>
>;

const REGISTRY_KEY = Symbol.for('@unseen/workers/registry');
const NAME_RE = /^[@A-Za-z0-9][@A-Za-z0-9._/-]{0,127}$/;

type Registry = Map<string, TaskModule>;

/** The realm-wide registry of task modules (shared by every copy of this package). */
export function taskRegistry(): Registry {
  const g = globalThis as { [REGISTRY_KEY]?: Registry };
  let registry = g[REGISTRY_KEY];
  if (registry === undefined) {
    registry = new Map();
    g[REGISTRY_KEY] = registry;
  }
  return registry;
}

/**
 * Defines and registers a task module. Call it once, at the top level of the module that holds
 * the functions, passing that module's own `import.meta.url`, and export the result.
 *
 * Functions take and return structured-cloneable values (typed arrays, plain objects, strings,
 * numbers, bigints, ...), may be async, and should throw `UnseenError` for expected failures (the
 * code survives the trip back). A returned typed array whose view spans its whole buffer is
 * transferred back to the caller, not copied: never return a view of memory the worker keeps.
 *
 * @param name unique module name, conventionally the package name (`'@unseen/psi'`)
 * @param url the defining module's `import.meta.url`
 * @param fns the task functions
 * @returns a {@link TaskModule} to pass to `pool.run` / `pool.map`
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for a bad name, URL or function;
 *   `ERR_CONFLICT` when another module URL already registered `name`
 * @example
 * ```ts
 * // packages/psi/src/tasks.ts
 * import { defineTasks } from '@unseen/workers';
 * export const psiTasks = defineTasks('@unseen/psi', import.meta.url, {
 *   double(x: Float64Array): Float64Array { return x.map((v) => 2 * v); },
 * });
 * ```
 */
export function defineTasks<const Fns extends TaskFunctions>(
  name: string,
  url: string,
  fns: Fns,
): TaskModule<Fns> {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `defineTasks: expected a module name like '@unseen/psi', got ${JSON.stringify(name)}`,
    );
  }
  if (typeof url !== 'string' || !URL.canParse(url)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `defineTasks(${name}): expected the module's import.meta.url, got ${String(url)}`,
    );
  }
  if (typeof fns !== 'object' || fns === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `defineTasks(${name}): expected an object`);
  }
  for (const [key, fn] of Object.entries(fns)) {
    if (typeof fn !== 'function') {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `defineTasks(${name}): task ${key} must be a function, got ${typeof fn}`,
      );
    }
  }
  const registry = taskRegistry();
  const existing = registry.get(name);
  // The same module evaluated twice (e.g. once through sources and once through dist/, or after
  // a hot reload) replaces its entry; two different modules claiming one name is a bug.
  if (existing !== undefined && !sameModule(existing.url, url)) {
    throw new UnseenError(
      'ERR_CONFLICT',
      `defineTasks: task module ${name} is already defined by ${existing.url}, not ${url}`,
    );
  }
  const module: TaskModule<Fns> = Object.freeze({ name, url, fns: Object.freeze({ ...fns }) });
  registry.set(name, module);
  return module;
}

/** Same file up to the extension, so that `src/tasks.ts` and `dist/tasks.js` may both load. */
function sameModule(a: string, b: string): boolean {
  const strip = (u: string) => u.replace(/[?#].*$/, '').replace(/\.[cm]?[jt]sx?$/, '');
  const base = (u: string) =>
    strip(u)
      .replace(/\/(src|dist)\//, '/')
      .replace(/\/+$/, '');
  return a === b || base(a) === base(b);
}

/**
 * Checks that `task` is a task module and `fn` one of its functions, and returns the function.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_NOT_FOUND`
 */
export function taskFunction(task: TaskModule, fn: string): TaskFunction {
  if (
    typeof task !== 'object' ||
    task === null ||
    typeof task.name !== 'string' ||
    typeof task.url !== 'string' ||
    typeof task.fns !== 'object' ||
    task.fns === null
  ) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'expected a task module returned by defineTasks(name, import.meta.url, fns)',
    );
  }
  const f = Object.hasOwn(task.fns, fn) ? task.fns[fn] : undefined;
  if (typeof f !== 'function') {
    throw new UnseenError('ERR_NOT_FOUND', `task module ${task.name} has no task ${String(fn)}`);
  }
  return f;
}
