import type { Delivery } from '@sse/core/kit'
import type { PartitionLayout } from './partitionLayout.js'
import type { TopicRead } from './partitionReader.js'

const EMPTY = Buffer.alloc(0)

/**
 * The delivery of one event read live in `partition`: its entries in the followed topics' streams
 * become frames, `id: <cursor>` (or the publisher's own id) then the stored body. An event of
 * several topics carries only the topics read here ({@link Delivery.carries}): a subscriber of
 * topics in other partitions too gets it once, from the partition of the first of its topics.
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
    const frames = topics.map((topic) => {
      const read = entries.find((candidate) => candidate.topic === topic)
      return read === undefined ? EMPTY : Buffer.concat([prefix, read.entry.body])
    })
    const carries = frames.map(
      (frame, i) => frame.length > 0 && layout.partitionOf(topics[i]!) === partition,
    )
    delivery = { id, topics, frames, carries }
  }
  return key === undefined ? delivery : { ...delivery, key }
}
