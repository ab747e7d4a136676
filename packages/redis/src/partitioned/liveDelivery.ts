import type { Delivery } from '@sse/core/kit'
import type { PartitionLayout } from './partitionLayout.js'
import type { TopicRead } from './partitionReader.js'

const EMPTY = Buffer.alloc(0)

/**
 * The delivery of one event read live in `partition`: its entries in the followed topics' streams
 * become frames, `id: <cursor>` (or the publisher's own id) then the stored body; one frame when
 * they share one body, as the publisher serialized it. An event of several topics not all read here
 * carries only those that are ({@link Delivery.carries}): a subscriber of topics in other partitions
 * too gets it once, from the partition of the first of its topics.
 */
export function liveDelivery(
  entries: readonly TopicRead[],
  cursor: string,
  partition: number,
  layout: PartitionLayout,
): Delivery {
  const { entry } = entries[0]!
  const id = entry.wireId ?? cursor
  const prefix = Buffer.from(`id: ${id}\n`, 'utf8')
  const { topics, key } = entry
  let delivery: Delivery
  if (topics.length === 1) {
    delivery = { id, topics, frames: [Buffer.concat([prefix, entry.body])] }
  } else {
    const reads = topics.map((topic) =>
      layout.partitionOf(topic) === partition
        ? entries.find((candidate) => candidate.topic === topic)
        : undefined,
    )
    const frames = shared(entries)
      ? [Buffer.concat([prefix, entry.body])]
      : reads.map((read) => (read === undefined ? EMPTY : Buffer.concat([prefix, read.entry.body])))
    delivery = reads.every((read) => read !== undefined)
      ? { id, topics, frames }
      : { id, topics, frames, carries: reads.map((read) => read !== undefined) }
  }
  return key === undefined ? delivery : { ...delivery, key }
}

/** Whether every entry read has the same body (the event was published with one shared body). */
function shared(entries: readonly TopicRead[]): boolean {
  const { body } = entries[0]!.entry
  for (let i = 1; i < entries.length; i++) if (!entries[i]!.entry.body.equals(body)) return false
  return true
}
