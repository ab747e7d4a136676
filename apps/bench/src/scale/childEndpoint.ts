import type { ChildReply, ReadyMessage } from './scaleProtocol.js'

/** The setup the orchestrator passed as JSON in `argv[2]`. */
export function childSetup<TSetup>(): TSetup {
  const json = process.argv[2]
  if (json === undefined) throw new Error('expected the setup as JSON in argv[2]')
  return JSON.parse(json) as TSetup
}

/**
 * Serves the orchestrator's requests with `handle`, says it is ready, and exits when the
 * orchestrator disconnects (or dies): a child never outlives its run.
 */
export function serveRequests<TRequest>(
  handle: (request: TRequest) => unknown,
  ready: Omit<ReadyMessage, 'ready'> = {},
): void {
  process.on('message', (message: { id: number; request: TRequest }) => {
    Promise.resolve()
      .then(() => handle(message.request))
      .then(
        (value) => reply({ id: message.id, ok: true, value }),
        (error: unknown) => reply({ id: message.id, ok: false, error: String(error) }),
      )
  })
  process.on('disconnect', () => process.exit(0))
  process.send?.({ ready: true, ...ready } satisfies ReadyMessage)
}

function reply(message: ChildReply): void {
  if (process.connected) process.send?.(message)
}
