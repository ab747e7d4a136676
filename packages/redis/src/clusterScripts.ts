import type { Cluster } from 'ioredis'

function ignore(): void {}

/**
 * Loads a script on every node a Redis Cluster client is connected to, now and on each node it
 * connects to later (a master promoted in a failover among them), first thing on that connection.
 * A node has its own script cache: without this, the first publishes to each master would answer
 * `NOSCRIPT`, and with several instances starting together some of them would be refused to keep
 * their order (see `OrderedPublisher`). Failures are left to the publishes' own `NOSCRIPT` handling.
 */
export function loadOnEveryNode(cluster: Cluster, source: string): void {
  for (const node of cluster.nodes('all')) node.script('LOAD', source).catch(ignore)
  cluster.on('+node', (node: { script(command: 'LOAD', script: string): Promise<unknown> }) => {
    node.script('LOAD', source).catch(ignore)
  })
}
