/**
 * Messages handed over as Node Buffers (as an HTTP body or a file read gives them), not through
 * a core Channel: Buffer#slice returns a view, so a decoder that kept or moved such a view to a
 * worker would share, or detach, the caller's memory. The protocol must answer as with plain
 * arrays and leave the caller's Buffers, and whatever shares their memory, intact.
 */
import { describe, expect, it } from 'vitest';
import { PsiClient, PsiServer } from '../src/index.js';
import { overlapping, plainIntersection, testPool } from './helpers.js';

const pool = testPool(2);

/** `bytes` as a Buffer in the middle of a larger ArrayBuffer that a sibling Buffer shares. */
function sharedBuffer(bytes: Uint8Array): { message: Buffer; sibling: Buffer } {
  const memory = new ArrayBuffer(bytes.length + 64);
  const sibling = Buffer.from(memory, 0, 32).fill(0xab);
  const message = Buffer.from(memory, 32, bytes.length);
  message.set(bytes);
  return { message, sibling };
}

describe('messages as Node Buffers sharing memory with others', () => {
  it('x25519 on two workers: same result, Buffers neither detached nor aliased', async () => {
    // 600 elements per side: above the inline threshold, so chunks are transferred to workers.
    const { server: serverItems, client: clientItems } = overlapping(600, 600, 250);
    const server = await PsiServer.create({ items: serverItems, pool, maxClientItems: 600 });
    const client = await PsiClient.create({ items: clientItems, pool });

    const setup = sharedBuffer(await server.setup());
    const request = sharedBuffer(await client.request());
    const requestCopy = Uint8Array.from(request.message);
    const response = sharedBuffer(await server.respond(request.message));
    // The server kept nothing of the request: wiping the caller's memory changes nothing later.
    request.message.fill(0);
    const setupCopy = Uint8Array.from(setup.message);
    const result = await client.finish(setup.message, response.message);

    expect(result.intersection).toEqual(plainIntersection(serverItems, clientItems));
    for (const { message, sibling } of [setup, request, response]) {
      expect(message.buffer.byteLength).toBeGreaterThan(0); // not transferred away
      expect(sibling.every((b) => b === 0xab)).toBe(true);
    }
    expect(Uint8Array.from(setup.message)).toEqual(setupCopy); // read, never written
    expect(requestCopy.length).toBeGreaterThan(600 * 32);
  });
});
