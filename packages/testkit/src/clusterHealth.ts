import { assignedSlots, parseClusterNodes, roles, slotOwners } from './clusterNodes.js'
import { redisCommands } from './redisCommands.js'

/** Reads `field:value` from an `INFO`-style reply. */
export function infoField(reply: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(reply)?.[1]
}

/** What a node says of the cluster: its `CLUSTER INFO` state, its view of the nodes, its replication. */
async function nodeReport(port: number) {
  const [info, nodes, replication] = await redisCommands(port, [
    ['CLUSTER', 'INFO'],
    ['CLUSTER', 'NODES'],
    ['INFO', 'replication'],
  ])
  return {
    info: String(info),
    views: parseClusterNodes(String(nodes)),
    replication: String(replication),
  }
}

/**
 * Why the cluster of `live` and `dead` nodes (client ports) does not yet serve every slot, or
 * `undefined` once it does. It does when every live node:
 * - reports `cluster_state:ok` and knows every node, dead ones included;
 * - sees all 16384 slots owned by live masters, and the same owners and roles (who replicates
 *   whom) as every other live node sees;
 * - sees each dead node flagged `fail` (so no client is sent there any more);
 * - is, if a replica of a live master, in sync with it (`master_link_status:up`): a replica that
 *   never synced refuses to take over when its master dies.
 * That is when a client such as ioredis's `Cluster` reads a slot map it can keep.
 */
export async function clusterProblem(
  live: readonly number[],
  dead: readonly number[],
): Promise<string | undefined> {
  let reports: Array<Awaited<ReturnType<typeof nodeReport>>>
  try {
    reports = await Promise.all(live.map(nodeReport))
  } catch (error) {
    return `a node did not answer: ${(error as Error).message}`
  }
  let agreed: string | undefined
  let agreedRoles: string | undefined
  for (const [index, { info, views, replication }] of reports.entries()) {
    const port = live[index]
    const state = infoField(info, 'cluster_state')
    if (state !== 'ok') return `node ${port} reports cluster_state:${state}`
    const known = Number(infoField(info, 'cluster_known_nodes'))
    if (known !== live.length + dead.length) return `node ${port} knows ${known} nodes`
    const owners = views.filter((view) => view.slots.length > 0)
    const assigned = assignedSlots(owners)
    if (assigned !== 16384) return `node ${port} sees ${assigned} of 16384 slots assigned`
    const stale = owners.find((view) => view.failing !== false || dead.includes(view.port))
    if (stale) return `node ${port} sees slots still owned by node ${stale.port}, which is down`
    const unflagged = views.find((view) => dead.includes(view.port) && view.failing !== 'fail')
    if (unflagged) return `node ${port} has not flagged dead node ${unflagged.port} as failed`
    const text = slotOwners(owners)
    agreed ??= text
    if (text !== agreed) return `nodes ${live[0]} and ${port} disagree on slot owners`
    agreedRoles ??= roles(views)
    if (roles(views) !== agreedRoles) return `nodes ${live[0]} and ${port} disagree on roles`
    const masterPort = Number(infoField(replication, 'master_port'))
    const link = infoField(replication, 'master_link_status')
    const syncing = infoField(replication, 'role') === 'slave' && !dead.includes(masterPort)
    if (syncing && link !== 'up') return `replica ${port} is not in sync with its master yet`
  }
  return undefined
}
