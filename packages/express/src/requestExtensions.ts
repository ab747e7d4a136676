import { IncomingMessage, ServerResponse } from 'node:http'
import type { Broker, SSEMethod } from '@sse/core'
import type { Request, Response } from 'express'

/** What the middleware that handled a request gives it: `req.broker` and `res.sse`. */
export interface RequestExtensions {
  readonly broker: Broker
  readonly sse: SSEMethod
}

/** Each request's extensions, for the accessors on Express's shared prototypes. */
const extensionsOf = new WeakMap<object, RequestExtensions>()
/** Express's shared `request` and `response` prototypes this module has put its accessors on. */
const extended = new WeakSet<object>()

function brokerOf(this: object): Broker | undefined {
  return extensionsOf.get(this)?.broker
}

function sseOf(this: { req?: object }): SSEMethod | undefined {
  const req = this.req
  return req === undefined ? undefined : extensionsOf.get(req)?.sse
}

/** A value the app assigns itself becomes the object's own, as it was before the accessor. */
function setter(name: 'broker' | 'sse') {
  return function set(this: object, value: unknown): void {
    Object.defineProperty(this, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  }
}

/**
 * The prototype every request (or response) of every app of one Express copy shares:
 * `express.request` (`express.response`), parent of each app's own `app.request` (`app.response`),
 * whose prototype Express gives `req` (`res`). Sub-apps share it too. `undefined` for an object that
 * Express did not make its own.
 */
function sharedPrototype(target: object, nodeClass: object): object | undefined {
  const own: unknown = Object.getPrototypeOf(target)
  if (typeof own !== 'object' || own === null || !Object.hasOwn(own, 'app')) return undefined
  const shared: unknown = Object.getPrototypeOf(own)
  if (typeof shared !== 'object' || shared === null || shared === nodeClass) return undefined
  return shared
}

/** Puts the accessor `name` on `proto` once; `false` if something else already defined `name` there. */
function extend(proto: object, name: 'broker' | 'sse', get: () => unknown): boolean {
  if (extended.has(proto)) return true
  if (Object.hasOwn(proto, name)) return false
  Object.defineProperty(proto, name, { get, set: setter(name), configurable: true })
  extended.add(proto)
  return true
}

/**
 * Gives `req.broker` and `res.sse` to one request. Express gives every `req` and `res` a hidden
 * class of its own (it swaps their prototypes), so each property added to one afterwards makes V8
 * build a new hidden class for that object alone: about 1 KiB of garbage per property per request,
 * scattered through the old generation, which then stays fragmented while connections are open
 * (about 0.75 KiB of RSS per property per idle stream). So on Express's own prototypes they are
 * accessors, defined once, that read this request's extensions from a `WeakMap`: nothing is added
 * to `req` or `res`. Anything else (a router without an Express app, a prototype where another
 * library defined the same name) gets own properties, as before.
 */
export function extendRequest(req: Request, res: Response, extensions: RequestExtensions): void {
  const requestProto = sharedPrototype(req, IncomingMessage.prototype)
  const responseProto = sharedPrototype(res, ServerResponse.prototype)
  if (
    requestProto !== undefined &&
    responseProto !== undefined &&
    extend(requestProto, 'broker', brokerOf) &&
    extend(responseProto, 'sse', sseOf)
  ) {
    extensionsOf.set(req, extensions)
    return
  }
  req.broker = extensions.broker
  res.sse = extensions.sse
}
