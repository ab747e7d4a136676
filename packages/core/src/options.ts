import { Ajv, type ErrorObject } from 'ajv'
import type { BrokerOptions } from './broker.js'
import { SSEError } from './sseError.js'
import type { SSEStreamOptions } from './types.js'

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
  keyword: 'isFunction',
  schemaType: 'boolean',
  validate: (_: boolean, value: unknown) => typeof value === 'function',
  errors: false,
})

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
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

/** JSON Schema properties of {@link SSEStreamOptions}. */
export const streamOptionsProperties = {
  retry: { type: 'integer', minimum: 0 },
  keepAlive: { type: 'integer', minimum: 0 },
  maxBufferedBytes: { type: 'integer', minimum: 1 },
  onOverflow: { enum: ['disconnect', 'drop'] },
  headers: { type: 'object' },
} as const

/** JSON Schema properties of {@link BrokerOptions}. */
export const brokerOptionsProperties = {
  ...streamOptionsProperties,
  historySize: { type: 'integer', minimum: 0 },
  historyMaxAge: { type: 'integer', minimum: 0 },
  maxConnections: { type: 'integer', minimum: 1 },
  defaultEventName: { enum: ['topic', 'none'] },
  resetEvent: { type: 'string', minLength: 1 },
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
