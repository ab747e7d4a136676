/**
 * One publisher process of the partitions bench: a broker on `@sse/redis` over an ioredis Cluster
 * client, publishing 100-byte events round-robin over `topics` topics, `window` publishes in flight,
 * from the parent's `go` until `seconds` have passed. Sends `ready`, then its counts.
 */
import { createBroker } from '@sse/core'
import { redisTransport } from '@sse/redis'
import { Cluster } from 'ioredis'
import type { PublisherConfig, PublisherMessage } from './partitionsProtocol.js'

const config = JSON.parse(process.argv[2]!) as PublisherConfig
const client = new Cluster([...config.nodes], {
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
})
const transport = redisTransport(
  config.partitions === 0
    ? { client, closeClient: true, keyPrefix: config.keyPrefix }
    : {
        client,
        closeClient: true,
        keyPrefix: config.keyPrefix,
        partitions: config.partitions,
        topicHistory: 100,
        maxTopics: 10_000,
      },
)
let reported = 0
const broker = createBroker({
  transport,
  keepAlive: 0,
  onError: (error) => {
    if (reported++ < 3) console.error(`publisher: ${error.code}: ${error.message}`)
  },
})
await broker.ready
const topics = Array.from({ length: config.topics }, (_, i) => `topic-${i}`)
const data = 'x'.repeat(100)
const send = (message: PublisherMessage) => process.send!(message)

process.on('message', () => {
  const deadline = performance.now() + config.seconds * 1000
  let next = 0
  let done = 0
  let failed = 0
  let inFlight = 0
  const settled = (ok: boolean) => {
    inFlight--
    if (ok) done++
    else failed++
    pump()
  }
  const resolved = () => settled(true)
  const rejected = () => settled(false)
  const pump = () => {
    while (inFlight < config.window && performance.now() < deadline) {
      inFlight++
      broker.publish(topics[next++ % topics.length]!, data).then(resolved, rejected)
    }
    if (inFlight === 0) {
      send({ type: 'done', published: done, failed })
      void broker.close().then(() => process.exit(0))
    }
  }
  pump()
})
send({ type: 'ready' })
