import ssePlugin, { createBroker, type SSEPluginOptions } from '@sse/fastify'
import { useCleanups } from '@sse/testkit'
import Fastify from 'fastify'
import { describe, expect, test } from 'vitest'
import { failOnFastifyWarnings } from './fastifyWarnings.js'

failOnFastifyWarnings()

const cleanups = useCleanups()

/** Registers the plugin with options the types would refuse, as JavaScript callers can. */
async function register(options: unknown) {
  const app = Fastify()
  cleanups.push(() => app.close())
  await app.register(ssePlugin, options as SSEPluginOptions)
  return app
}

describe('options are validated when the plugin is registered', () => {
  test('a wrong type fails register with a coded error naming the key and what was expected', async () => {
    await expect(register({ keepAlive: 'soon' })).rejects.toMatchObject({
      name: 'SSEError',
      code: 'INVALID_OPTION',
      message: '@sse/fastify: option "keepAlive" must be of type integer, got "soon"',
    })
  })

  test.each([
    [{ retry: -1 }, '@sse/fastify: option "retry" must be >= 0, got -1'],
    [
      { onOverflow: 'block' },
      '@sse/fastify: option "onOverflow" must be one of "disconnect", "drop", got "block"',
    ],
    [
      { defaultEventName: 'name' },
      '@sse/fastify: option "defaultEventName" must be one of "topic", "none", got "name"',
    ],
    [{ authorize: true }, '@sse/fastify: option "authorize" must be a function, got true'],
    [
      { broker: {} },
      '@sse/fastify: option "broker" must be an object with methods publish, stream, group, close, got an object',
    ],
  ])('%o is refused: %s', async (options, message) => {
    await expect(register(options)).rejects.toMatchObject({ code: 'INVALID_OPTION', message })
  })

  test('an unknown key fails register and the message lists the known ones', async () => {
    const error = register({ keepAlve: 1000 })
    await expect(error).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    await expect(error).rejects.toThrow(
      /^@sse\/fastify: unknown option "keepAlve" \(known options: .*keepAlive/,
    )
  })

  test('a broker option given together with a broker is refused', async () => {
    const broker = createBroker()
    cleanups.push(() => broker.close())
    await expect(register({ broker, historySize: 10 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message:
        '@sse/fastify: option "historySize" cannot be combined with "broker"; give it to createBroker() instead',
    })
  })

  test('stream options may come with a broker', async () => {
    const broker = createBroker()
    cleanups.push(() => broker.close())
    const app = await register({ broker, keepAlive: 0, retry: 1000 })
    expect(app.broker).toBe(broker)
  })

  test('no options at all, and Fastify’s own register options, are fine', async () => {
    const app = Fastify()
    cleanups.push(() => app.close())
    await app.register(ssePlugin)
    await app.register(async (child) => {
      await child.register(ssePlugin, { prefix: '/ignored', logLevel: 'warn', keepAlive: 0 })
    })
    await app.ready()
  })
})
