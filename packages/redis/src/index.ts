export {
  RedisTransport,
  type RedisTransportOptions,
  type RedisTransportStats,
  redisTransport,
} from './redisTransport.js'
