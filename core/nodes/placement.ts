/**
 * Which cameras a node should hold after its heartbeat. Pure, so the rule is tested on its own
 * (placement.test.ts); the feature applies it to the leases table.
 *
 * The rule spreads cameras evenly: a node holds at most its fair share (cameras / live nodes,
 * rounded up) and never more than its capacity. Above its share (a node joined), it gives up
 * the excess, which the others claim at their next heartbeat; below it, it claims free
 * cameras (never held, released, or whose holder stopped renewing).
 */
export interface PlacementInput {
  nodeId: string;
  capacity: number;
  /** Every camera to place, in a stable order. */
  cameras: readonly string[];
  /** Live camera leases: camera id -> holder node id. */
  held: ReadonlyMap<string, string>;
  /** Nodes with a live heartbeat, this one included. */
  liveNodes: number;
}

export interface PlacementDecision {
  keep: string[];
  claim: string[];
  release: string[];
}

export function place(p: PlacementInput): PlacementDecision {
  const share = Math.ceil(p.cameras.length / Math.max(1, p.liveNodes));
  const limit = Math.min(p.capacity, share);
  const mine = p.cameras.filter((c) => p.held.get(c) === p.nodeId);
  const keep = mine.slice(0, limit);
  const release = mine.slice(limit);
  const claim: string[] = [];
  for (const c of p.cameras) {
    if (keep.length + claim.length >= limit) break;
    if (!p.held.has(c)) claim.push(c);
  }
  return { keep, claim, release };
}
