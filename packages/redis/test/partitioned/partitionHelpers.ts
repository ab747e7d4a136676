import { PartitionLayout } from '../../src/partitioned/partitionLayout.js'

/** `count` topic names (`<stem>-<i>`) that live in `partition` of a layout of `partitions`. */
export function topicsIn(
  partitions: number,
  partition: number,
  count: number,
  stem = 'room',
): string[] {
  const layout = new PartitionLayout('any', partitions)
  const topics: string[] = []
  for (let i = 0; topics.length < count; i++) {
    const topic = `${stem}-${i}`
    if (layout.partitionOf(topic) === partition) topics.push(topic)
  }
  return topics
}
