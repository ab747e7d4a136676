/** Resolves on the next event of `name` on an EventTarget (an `EventSource`, say). */
export function once<TEvent = Event>(target: EventTarget, name: string): Promise<TEvent> {
  return new Promise((resolve) =>
    target.addEventListener(name, (event) => resolve(event as TEvent), { once: true }),
  )
}
