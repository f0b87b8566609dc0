/**
 * comlink 4.4.2 has no `exports` map: Node loads its `main` (a UMD bundle) for `comlink`, so
 * unseen imports the ES module files by path, which TypeScript cannot type on its own. These
 * declarations point those paths at comlink's own published types.
 */
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}

declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  /** The subset of a Node `MessagePort` / `Worker` that the adapter uses. */
  export interface NodeEndpoint {
    // biome-ignore lint/suspicious/noExplicitAny: comlink's own signature
    postMessage(message: any, transfer?: any[]): void;
    on(type: string, listener: (value: unknown) => void): void;
    off(type: string, listener: (value: unknown) => void): void;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
