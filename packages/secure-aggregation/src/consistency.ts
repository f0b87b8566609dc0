/**
 * The client's checks of the survivors in the active variant (Bonawitz et al., Figure 4, Round
 * 3 and Round 4: "verify that U4 is a subset of U3, |U4| >= t and that every sigma'_v
 * verifies"), generalised to SecAgg+ neighbourhoods. Every client is shown U3 as one bitmap over
 * all clients and signs it; in Unmasking it checks that, for every group member v whose share it
 * is about to reveal, at least t members of v's group (itself included) signed that same bitmap,
 * and that every signature it is shown verifies on it. An honest client signs one bitmap only,
 * so with 2t > k + 1 + (colluders in v's group) two honest holders of v's shares can never be
 * told different stories about v. With the full graph this is exactly the paper's check.
 *
 * Because the bitmap is global, the client also checks that the survivors' graph is connected
 * ({@link checkSurvivors}): in a disconnected survivors' graph, the shares revealed for the
 * survivors would let the server compute the sum of every component, not only the total.
 * @module
 */
import { ed25519Verify, UnseenError } from '@unseen/core';
import { consistencyStatement } from './derive.js';
import { insufficient, protocolAbort } from './errors.js';
import type { NeighbourGraph } from './graph.js';
import { bit, type ConsistencySignature, popcount } from './wire.js';

/** What the checks need to know about the checking client. */
export interface SurvivorsCheck {
  me: number;
  threshold: number;
  graph: NeighbourGraph;
  /** The group members whose shares it holds (U2 as it saw it, itself included). */
  held: ReadonlySet<number>;
}

/**
 * Checks a survivors bitmap U3 over all clients before signing it or revealing shares for it:
 * the client itself survived, every survivor of its group shared keys with it, at least t of its
 * group survived, and the survivors' graph is connected.
 * @throws UnseenError `ERR_PROTOCOL_ABORTED`, `ERR_INSUFFICIENT_SHARES`
 */
export function checkSurvivors(c: SurvivorsCheck, alive: Uint8Array): void {
  const { me, graph, threshold } = c;
  if (!bit(alive, me)) {
    throw protocolAbort('this client sent its masked input but is reported dropped');
  }
  let inGroup = 0;
  for (const v of graph.group(me)) {
    if (!bit(alive, v)) continue;
    if (!c.held.has(v)) {
      throw protocolAbort(`client ${v} is reported alive but never shared keys`, { client: v });
    }
    inGroup++;
  }
  if (inGroup < threshold) throw insufficient('unmask', inGroup, threshold, me);
  const total = popcount(alive);
  if (total < threshold) throw insufficient('unmask', total, threshold);
  const parts = graph.components((u) => bit(alive, u));
  if (parts.length > 1) {
    throw protocolAbort(
      `the survivors' graph falls into ${parts.length} components (of ${parts.map((p) => p.length).join(', ')} clients): unmasking would reveal the sum of each`,
      { components: parts.map((p) => p.length) },
    );
  }
}

/** What the signature check needs beyond {@link SurvivorsCheck}. */
export interface SignaturesCheck extends SurvivorsCheck {
  session: Uint8Array;
  digest: Uint8Array;
  verifyKey(index: number): Uint8Array | undefined;
}

/**
 * Checks the consistency signatures shown with an unmasking request: each verifies on `alive`
 * (the bitmap this client signed), each signer survived, and every group member whose share this
 * client reveals is vouched for by at least t signers of its own group (this client included).
 * @throws UnseenError `ERR_INTEGRITY` (a signature does not verify), `ERR_PROTOCOL_ABORTED`
 *   (a signer reported dropped), `ERR_INSUFFICIENT_SHARES` (fewer than t signers for a member)
 */
export function checkSignatures(
  c: SignaturesCheck,
  alive: Uint8Array,
  signatures: readonly ConsistencySignature[],
): void {
  const agreeing = new Map<number, number>(); // held member -> signers in its group
  for (const v of c.held) agreeing.set(v, 1); // this client is in v's group and signed `alive`
  for (const { signer, signature } of signatures) {
    if (signer === c.me) continue;
    const vk = c.verifyKey(signer);
    const statement = consistencyStatement(c.session, c.digest, signer, alive);
    if (vk === undefined || !ed25519Verify(vk, statement, signature)) {
      throw new UnseenError(
        'ERR_INTEGRITY',
        `Unmasking: the consistency signature of client ${signer} does not verify on the survivors this client signed`,
        { details: { client: signer } },
      );
    }
    // U4 is a subset of U3.
    if (!bit(alive, signer)) {
      throw protocolAbort(`client ${signer} signed survivors in which it dropped`, {
        client: signer,
      });
    }
    for (const w of c.graph.group(signer)) {
      const count = agreeing.get(w);
      if (count !== undefined) agreeing.set(w, count + 1);
    }
  }
  for (const [w, count] of agreeing) {
    if (count < c.threshold) throw insufficient('unmask', count, c.threshold, w);
  }
}
