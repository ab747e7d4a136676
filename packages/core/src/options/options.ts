import { Ajv, type ErrorObject } from 'ajv'
import { isConflationKey, MAX_CONFLATION_KEY_LENGTH } from '../conflation/conflationKey.js'
import { SSEError } from '../sseError.js'
import type { SSEStreamOptions } from '../types.js'
import { isHeaderName, isHeaderValue } from '../wire/httpHeaders.js'
import { isStreamTags, MAX_TAGS_PER_STREAM, TAG_RULE } from '../wire/tags.js'
import type {
  BrokerOptions,
  BrokerStreamOptions,
  PublishOptions,
  StreamLifetimeOptions,
} from './brokerOptions.js'

/** A JSON Schema fragment, as accepted by {@link createOptionsValidator}. */
export type OptionsSchema = Record<string, unknown>

/** Checks an options object and throws an {@link SSEError} `INVALID_OPTION` naming the bad key. */
export interface OptionsValidator<TOptions> {
  assert(options: unknown): asserts options is TOptions
}

const ajv = new Ajv({ allErrors: false, strict: true })
ajv.addKeyword({
  keyword: 'methods',
  schemaType: 'array',
  validate: (names: string[], value: unknown) =>
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  errors: false,
})
ajv.addKeyword({
  keyword: 'sseEventName',
  schemaType: 'boolean',
  validate: (_: boolean, value: unknown) =>
    typeof value === 'string' &&
    value.length > 0 &&
    value.indexOf('\n') === -1 &&
    value.indexOf('\r') === -1,
  errors: false,
})
ajv.addKeyword({
  keyword: 'httpHeaders',
  schemaType: 'boolean',
  validate: (_: boolean, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
    for (const [name, header] of Object.entries(value)) {
      if (!isHeaderName(name)) return false
      const values = Array.isArray(header) ? header : [header]
      for (const one of values) {
        if (typeof one !== 'string' && typeof one !== 'number') return false
        if (!isHeaderValue(String(one))) return false
      }
    }
    return true
  },
  errors: false,
})
ajv.addKeyword({
  keyword: 'conflationKey',
  schemaType: 'boolean',
  validate: (_: boolean, value: unknown) => isConflationKey(value),
  errors: false,
})
ajv.addKeyword({
  keyword: 'sseTags',
  schemaType: 'boolean',
  validate: (_: boolean, value: unknown) => isStreamTags(value),
  errors: false,
})
ajv.addKeyword({
  keyword: 'isFunction',
  schemaType: 'boolean',
  validate: (_: boolean, value: unknown) => typeof value === 'function',
  errors: false,
})

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  if (typeof value !== 'string') return String(value)
  // A hostile value (a 10 KB key, say) must not make a 10 KB message.
  return value.length > 80
    ? `${JSON.stringify(value.slice(0, 80))}… (${value.length} characters)`
    : JSON.stringify(value)
}

function expected(error: ErrorObject, schema: OptionsSchema | undefined): string {
  switch (error.keyword) {
    case 'type':
      return `of type ${String(error.params.type)}`
    case 'minimum':
      return `>= ${String(error.params.limit)}`
    case 'maximum':
      return `<= ${String(error.params.limit)}`
    case 'enum':
      return `one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'isFunction':
      return 'a function'
    case 'methods':
      return `an object with methods ${((schema?.methods ?? []) as string[]).join(', ')}`
    case 'minLength':
      return 'a non-empty string'
    case 'sseEventName':
      return 'a non-empty event name without CR or LF'
    case 'conflationKey':
      return `a non-empty string of at most ${MAX_CONFLATION_KEY_LENGTH} characters without control characters`
    case 'sseTags':
      return `an array of at most ${MAX_TAGS_PER_STREAM} tags, each ${TAG_RULE}`
    case 'httpHeaders':
      return 'an object of valid HTTP header names and string, number or string[] values'
    default:
      return error.message ?? 'valid'
  }
}

/**
 * Compiles a JSON Schema for an options object into a validator whose errors name the bad key and
 * what was expected, prefixed with the package name. Adapters use it for their own options.
 *
 * @example
 * createOptionsValidator('@sse/fastify', schema).assert({ keepAlive: 'soon' })
 * // SSEError INVALID_OPTION: @sse/fastify: option "keepAlive" must be of type integer, got "soon"
 */
export function createOptionsValidator<TOptions>(
  packageName: string,
  schema: OptionsSchema,
): OptionsValidator<TOptions> {
  const validate = ajv.compile(schema)
  const properties = (schema.properties ?? {}) as Record<string, OptionsSchema>
  return {
    assert(options: unknown): asserts options is TOptions {
      if (validate(options)) return
      const error = validate.errors?.[0]
      if (error === undefined) {
        throw new SSEError('INVALID_OPTION', `${packageName}: invalid options`)
      }
      if (error.keyword === 'additionalProperties') {
        const key = String(error.params.additionalProperty)
        const known = Object.keys(properties).join(', ')
        throw new SSEError(
          'INVALID_OPTION',
          `${packageName}: unknown option "${key}" (known options: ${known})`,
        )
      }
      if (error.instancePath === '') {
        throw new SSEError(
          'INVALID_OPTION',
          `${packageName}: options must be an object, got ${describe(options)}`,
        )
      }
      const key = error.instancePath.slice(1).replaceAll('/', '.')
      const value = error.instancePath
        .slice(1)
        .split('/')
        .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], options)
      const top = properties[key.split('.')[0]!]
      throw new SSEError(
        'INVALID_OPTION',
        `${packageName}: option "${key}" must be ${expected(error, top)}, got ${describe(value)}`,
      )
    },
  }
}

/** The longest delay Node's timers take (2³¹−1 ms); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647

/** JSON Schema properties of {@link SSEStreamOptions}. */
export const streamOptionsProperties = {
  retry: { type: 'integer', minimum: 0, maximum: MAX_TIMER_MS },
  keepAlive: { type: 'integer', minimum: 0, maximum: MAX_TIMER_MS },
  maxBufferedBytes: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  onOverflow: { enum: ['disconnect', 'drop'] },
  coalesceWindow: { type: 'integer', minimum: 0, maximum: 1000 },
  writePath: { enum: ['socket', 'response'] },
  headers: { httpHeaders: true },
} as const

/** JSON Schema properties of {@link StreamLifetimeOptions} (rotation), for the streams of a broker. */
export const lifetimeOptionsProperties = {
  maxDuration: { type: 'integer', minimum: 0, maximum: MAX_TIMER_MS },
  maxDurationJitter: { type: 'integer', minimum: 0, maximum: MAX_TIMER_MS },
} as const

/** JSON Schema properties of {@link BrokerOptions}. */
export const brokerOptionsProperties = {
  ...streamOptionsProperties,
  ...lifetimeOptionsProperties,
  historySize: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  historyMaxAge: { type: 'integer', minimum: 0, maximum: MAX_TIMER_MS },
  historyMaxBytes: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  maxConnections: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  maxTopicsPerStream: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
  maxReplayEvents: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  maxReplayBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  defaultEventName: { enum: ['topic', 'none'] },
  resetEvent: { sseEventName: true },
  snapshotTimeout: { type: 'integer', minimum: 1, maximum: MAX_TIMER_MS },
  authorize: { isFunction: true },
  transport: { methods: ['start', 'publish', 'replay', 'close'] },
  onError: { isFunction: true },
} as const

export const streamOptionsValidator: OptionsValidator<SSEStreamOptions> = createOptionsValidator(
  '@sse/core',
  { type: 'object', additionalProperties: false, properties: streamOptionsProperties },
)

export const brokerOptionsValidator: OptionsValidator<BrokerOptions> = createOptionsValidator(
  '@sse/core',
  { type: 'object', additionalProperties: false, properties: brokerOptionsProperties },
)

/** Stream options as defaults of a broker's streams (`broker.group()`): with rotation. */
export const streamDefaultsValidator: OptionsValidator<SSEStreamOptions & StreamLifetimeOptions> =
  createOptionsValidator('@sse/core', {
    type: 'object',
    additionalProperties: false,
    properties: { ...streamOptionsProperties, ...lifetimeOptionsProperties },
  })

/** The options of one stream opened through a broker, but `topics` and `snapshot`. */
export const brokerStreamOptionsValidator: OptionsValidator<
  Omit<BrokerStreamOptions, 'topics' | 'snapshot'>
> = createOptionsValidator('@sse/core', {
  type: 'object',
  additionalProperties: false,
  properties: { ...streamOptionsProperties, ...lifetimeOptionsProperties, tags: { sseTags: true } },
})

/** JSON Schema properties of {@link PublishOptions}. */
export const publishOptionsProperties = {
  defaultEventName: { enum: ['topic', 'none'] },
  key: { conflationKey: true },
} as const

/** Checks the options of one `broker.publish()`. */
export const publishOptionsValidator: OptionsValidator<PublishOptions> = createOptionsValidator(
  '@sse/core',
  { type: 'object', additionalProperties: false, properties: publishOptionsProperties },
)
