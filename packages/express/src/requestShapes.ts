import { IncomingMessage, ServerResponse } from 'node:http'

/** Names declared up front per class, at most; further names are left as they are. */
const MAX_DECLARED = 64
/** Distinct names looked at per class, at most, so that requests with made-up names bound the work. */
const MAX_SEEN = 256

/** A class of requests (or responses) of one server: the names every new instance starts with. */
class Shape {
  /** Names every instance gets in its constructor, in the order they were first seen. */
  readonly declared: PropertyKey[] = []
  readonly #seen = new Set<PropertyKey>()
  readonly #prototype: object

  constructor(prototype: object) {
    this.#prototype = prototype
  }

  /**
   * Gives a new instance each declared name it lacks, with the value it reads now: the class's
   * default (as `res.statusCode`'s 200) or `undefined`. What a read returns never changes, only
   * where the property lives. A name the constructor already gave it leaves the list for good.
   */
  declareOn(target: object): void {
    const names = this.declared
    const fields = target as Record<PropertyKey, unknown>
    for (let i = 0; i < names.length; ) {
      const name = names[i] as PropertyKey
      if (Object.hasOwn(target, name)) {
        names.splice(i, 1)
        continue
      }
      try {
        const value = fields[name]
        fields[name] = value
        i++
      } catch {
        // The class changed since the name was learned (a frozen or exotic prototype): a throw here
        // would escape Node's HTTP parser and end the process, so the name is dropped instead.
        names.splice(i, 1)
      }
    }
  }

  /**
   * Adds the own names of `target` not seen before, except those the class has an accessor or a
   * read-only property for (declaring them would call the accessor, or throw).
   */
  learn(target: object): void {
    for (const name of Reflect.ownKeys(target)) {
      if (this.#seen.has(name)) continue
      if (this.#seen.size >= MAX_SEEN) return
      this.#seen.add(name)
      if (this.declared.length < MAX_DECLARED && isPlainField(this.#prototype, name)) {
        this.declared.push(name)
      }
    }
  }
}

/**
 * Whether an instance can be given `name` by assignment without calling anything: the chain from
 * `prototype` up has no such property, or a writable data property (whose value it copies).
 */
function isPlainField(prototype: object | null, name: PropertyKey): boolean {
  for (let at = prototype; at !== null; at = Object.getPrototypeOf(at) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(at, name)
    if (descriptor !== undefined) return descriptor.writable === true
  }
  return true
}

function shapedRequestClass(Base: typeof IncomingMessage, shape: Shape): object {
  return class ShapedIncomingMessage extends Base {
    constructor(...args: ConstructorParameters<typeof IncomingMessage>) {
      super(...args)
      shape.declareOn(this)
    }
  }
}

function shapedResponseClass(Base: typeof ServerResponse, shape: Shape): object {
  return class ShapedServerResponse extends Base {
    constructor(...args: ConstructorParameters<typeof ServerResponse>) {
      super(...args)
      shape.declareOn(this)
    }
  }
}

/** The server's own slot for the class it builds requests (responses) with: `node:http`'s symbol. */
function classSlot(server: object, description: string, Base: object): symbol | undefined {
  for (const symbol of Object.getOwnPropertySymbols(server)) {
    if (symbol.description !== description) continue
    const value: unknown = (server as Record<symbol, unknown>)[symbol]
    if (typeof value !== 'function') return undefined
    const prototype: unknown = value.prototype
    return prototype === (Base as { prototype: unknown }).prototype ||
      (typeof prototype === 'object' && prototype instanceof (Base as typeof IncomingMessage))
      ? symbol
      : undefined
  }
  return undefined
}

/** Each server's shapes; `null` for a server whose classes cannot be found. */
const shapesOf = new WeakMap<object, { request: Shape; response: Shape } | null>()

function install(server: object): { request: Shape; response: Shape } | null {
  const requestSlot = classSlot(server, 'IncomingMessage', IncomingMessage)
  const responseSlot = classSlot(server, 'ServerResponse', ServerResponse)
  if (requestSlot === undefined || responseSlot === undefined) return null
  const slots = server as Record<symbol, unknown>
  const RequestBase = slots[requestSlot] as typeof IncomingMessage
  const ResponseBase = slots[responseSlot] as typeof ServerResponse
  const shapes = {
    request: new Shape(RequestBase.prototype),
    response: new Shape(ResponseBase.prototype),
  }
  slots[requestSlot] = shapedRequestClass(RequestBase, shapes.request)
  slots[responseSlot] = shapedResponseClass(ResponseBase, shapes.response)
  return shapes
}

/**
 * Lets the server that made `req` build its later requests and responses with the properties this
 * pair has now (those Express, its router and the app's middleware added) already in place.
 *
 * Why: Express swaps the prototype of every `req` and `res`, and V8 shares no hidden class between
 * objects that get properties after such a swap. Every request then builds hidden classes of its
 * own (a copy of its property table per added property), and an open stream keeps the last ones:
 * about 2 KiB per connection, plus the garbage of the others fragmenting the old generation. With
 * the properties already there when Express swaps the prototype, every request shares one hidden
 * class: Express only assigns them.
 *
 * How: on the first call for a server, its request and response classes (`node:http`'s, or the
 * ones given to `createServer`) are replaced by subclasses whose constructors add the names learned
 * so far, each with the value it reads then (`undefined`, or the class default such as
 * `statusCode` 200). Reads return what they did; the names become own properties earlier. Names the
 * class has accessors or read-only properties for are never declared, and at most 64 names are. A request from anything
 * other than a `node:http` server (or one whose classes can't be found) is left alone.
 */
export function shareShapes(req: IncomingMessage, res: ServerResponse): void {
  const server: unknown = (req.socket as { server?: unknown } | null)?.server
  if (typeof server !== 'object' || server === null) return
  let shapes = shapesOf.get(server)
  if (shapes === undefined) {
    shapes = install(server)
    shapesOf.set(server, shapes)
  }
  if (shapes === null) return
  shapes.request.learn(req)
  shapes.response.learn(res)
}
