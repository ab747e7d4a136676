/**
 * The publisher process of the scale scenario: `node scalePublisher.js '<FanOutSetup>'`. Ours
 * publishes with `broker.publish(topic, event)` on its own broker over the servers' @sse/redis
 * transport; the plain loop's publisher sends a Redis PUBLISH on their channel.
 */
import { createBroker } from '@sse/core'
import { redisTransport } from '@sse/redis'
import { Redis } from 'ioredis'
import { nowMicros } from '../clock.js'
import { childSetup, serveRequests } from './childEndpoint.js'
import { transportOptions } from './ourServer.js'
import { plainChannel } from './plainLoopServer.js'
import { type FanOutSetup, type PublisherRequest, SCALE_TOPIC } from './scaleProtocol.js'

const setup = childSetup<FanOutSetup>()

/** Sends `data`; resolves once the publish call has returned its promise's value. */
type Send = (data: string) => Promise<unknown>

async function sender(): Promise<Send> {
  if (setup.mode === 'ours') {
    const broker = createBroker({ transport: redisTransport(transportOptions(setup)) })
    await broker.ready
    return (data) => broker.publish(SCALE_TOPIC, data)
  }
  const client = new Redis(setup.redisUrl)
  const channel = plainChannel(setup.keyPrefix)
  await client.ping()
  return (data) => client.publish(channel, data)
}

const send = await sender()

serveRequests<PublisherRequest>(async (request) => {
  // `<seq> <send time µs>`, as SSEClientConnection parses it, padded to `size`.
  const sentAt = Math.round(nowMicros())
  const head = `${request.seq} ${sentAt} `
  await send(head.padEnd(request.size, 'x'))
  return sentAt
})
