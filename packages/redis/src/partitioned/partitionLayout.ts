import { SLOTS, slotOf } from './slot.js'

/** Most partitions: a cursor naming each one with its position stays within 256 characters. */
export const MAX_PARTITIONS = 16

/** The keys of one partition, all in one hash slot (they share its hash tag). */
export interface PartitionKeys {
  /** Hash: `ms`, `seq` (the last id handed out), `n:<topic>` (per-topic publish counters), `evicted`. */
  readonly head: string
  /** Sorted set of the partition's topics that have history, by the time of their last publish. */
  readonly topics: string
  /** The stream of one topic: its history and what readers follow. */
  topic(topic: string): string
  /** The stream an instance's reader also waits on, so that it can be woken to read more topics. */
  wake(instance: string): string
  /** An instance's last publish sequence number in the partition (expires a day after its last). */
  publisher(instance: string): string
}

/**
 * Where topics live: `count` partitions, each a set of keys sharing one hash tag, with the tags
 * chosen so that partition `k` hashes into the `k`-th of `count` equal slot ranges. A Redis Cluster
 * whose masters split the slots evenly (what `redis-cli --cluster create` does) then serves each
 * partition from a different master, as far as there are masters.
 *
 * A topic's partition is its slot modulo `count`: topics that share a hash tag (`{room:7}:chat`,
 * `{room:7}:presence`) share a partition, so an event published to both is stored once.
 */
export class PartitionLayout {
  readonly count: number
  readonly #keys: readonly PartitionKeys[]
  readonly #partitionOf = new Map<string, number>()

  constructor(prefix: string, count: number) {
    this.count = count
    this.#keys = Array.from({ length: count }, (_, k) =>
      keysOf(`${prefix}:{${tagFor(prefix, k, count)}}`),
    )
  }

  /** The partition `topic` lives in. */
  partitionOf(topic: string): number {
    let partition = this.#partitionOf.get(topic)
    if (partition === undefined) {
      partition = slotOf(topic) % this.count
      // Bounded: a process that sees endless distinct topics does not keep them all.
      if (this.#partitionOf.size >= 10_000) this.#partitionOf.clear()
      this.#partitionOf.set(topic, partition)
    }
    return partition
  }

  keys(partition: number): PartitionKeys {
    return this.#keys[partition]!
  }

  /** `topics` grouped by partition, in the order of their first topic. */
  group(topics: readonly string[]): Map<number, string[]> {
    const groups = new Map<number, string[]>()
    for (const topic of topics) {
      const partition = this.partitionOf(topic)
      const group = groups.get(partition)
      if (group === undefined) groups.set(partition, [topic])
      else group.push(topic)
    }
    return groups
  }
}

function keysOf(base: string): PartitionKeys {
  return {
    head: `${base}:head`,
    topics: `${base}:topics`,
    topic: (topic) => `${base}:t:${topic}`,
    wake: (instance) => `${base}:wake:${instance}`,
    publisher: (instance) => `${base}:pub:${instance}`,
  }
}

/** The first tag `<prefix>.<k>.<j>` whose slot falls in the `k`-th of `count` equal slot ranges. */
function tagFor(prefix: string, partition: number, count: number): string {
  const low = Math.floor((partition * SLOTS) / count)
  const high = Math.floor(((partition + 1) * SLOTS) / count)
  for (let j = 0; ; j++) {
    const tag = `${prefix}.${partition}.${j}`
    const slot = slotOf(tag)
    if (slot >= low && slot < high) return tag
  }
}
