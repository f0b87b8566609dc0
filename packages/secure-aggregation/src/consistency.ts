/**
 * The client's check of the consistency signatures in the active variant (Bonawitz et al.,
 * Figure 4, Round 4: "verify that U4 is a subset of U3, |U4| >= t and that every sigma'_v
 * verifies"), generalised to SecAgg+ neighbourhoods: for every group member v whose share the
 * client is about to reveal, at least t members of v's group must have signed views that agree
 * with the client's on whether v survived, and none may disagree. An honest client signs one view
 * only, so with 2t > k + 1 + (colluders in the group), two honest holders of v's shares can never
 * be told different stories about v. With the full graph this is exactly the paper's check.
 * @module
 */
import { equalBytes, UnseenError } from '@unseen/core';
import { consistencyStatement } from './derive.js';
import { ed25519Verify } from './ed25519.js';
import { insufficient, protocolAbort } from './errors.js';
import type { NeighbourGraph } from './graph.js';
import { bit, type SignedView } from './wire.js';

/** What the check needs to know about the checking client. */
export interface ViewCheck {
  me: number;
  threshold: number;
  session: Uint8Array;
  digest: Uint8Array;
  graph: NeighbourGraph;
  /** The survivors bitmap (over the client's group) it signed. */
  mine: Uint8Array;
  /** The group members whose shares it holds (U2 as it saw it, itself included). */
  held: Iterable<number>;
  verifyKey(index: number): Uint8Array | undefined;
}

/**
 * @throws UnseenError `ERR_INTEGRITY` (a signature does not verify), `ERR_PROTOCOL_ABORTED`
 *   (views that disagree, or contradict what the client was told), `ERR_INSUFFICIENT_SHARES`
 *   (fewer than t signatures cover a member)
 */
export function checkSignedViews(c: ViewCheck, views: readonly SignedView[]): void {
  const group = c.graph.group(c.me);
  const agreeing = new Map<number, number>(); // group member -> signers agreeing on it
  for (const v of c.held) agreeing.set(v, 1); // the client agrees with itself
  for (const view of views) {
    const h = view.signer;
    if (h === c.me) {
      if (!equalBytes(view.alive, c.mine))
        throw protocolAbort("the server altered this client's view");
      continue;
    }
    const vk = c.verifyKey(h);
    const statement = consistencyStatement(c.session, c.digest, h, view.alive);
    if (vk === undefined || !ed25519Verify(vk, statement, view.signature)) {
      throw new UnseenError(
        'ERR_INTEGRITY',
        `Unmasking: the consistency signature of client ${h} does not verify`,
        { details: { client: h } },
      );
    }
    // U4 is a subset of U3: a signer survived in its own view, and in this client's.
    if (!bit(view.alive, c.graph.indexInGroup(h, h))) {
      throw protocolAbort(`client ${h} signed a view in which it dropped`, { client: h });
    }
    const position = c.graph.indexInGroup(c.me, h);
    if (position >= 0 && !bit(c.mine, position)) {
      throw protocolAbort(`client ${h} signed survivors but this client was told it dropped`, {
        client: h,
      });
    }
    const hGroup = c.graph.group(h);
    for (let q = 0; q < hGroup.length; q++) {
      const w = hGroup[q]!;
      const count = agreeing.get(w);
      if (count === undefined) continue;
      if (bit(view.alive, q) !== bit(c.mine, group.indexOf(w))) {
        throw protocolAbort(`clients disagree on whether client ${w} survived`, { client: w });
      }
      agreeing.set(w, count + 1);
    }
  }
  for (const [w, count] of agreeing) {
    if (count < c.threshold) throw insufficient('unmask', count, c.threshold, w);
  }
}
