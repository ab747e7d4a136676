import type { Server } from 'node:http'
import type { SSEMiddleware } from '@sse/express'
import compression from 'compression'
import cookieParser from 'cookie-parser'
import cors from 'cors'
import { __express as renderEjs } from 'ejs'
import type express5 from 'express'
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express'
import expressLayouts from 'express-ejs-layouts'
import mung from 'express-mung'
import { rateLimit } from 'express-rate-limit'
import session from 'express-session'
import helmet from 'helmet'
import { createProxyMiddleware } from 'http-proxy-middleware'
import morgan from 'morgan'
import multer from 'multer'
import passport from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import { WebSocketServer } from 'ws'

/** What {@link compatApp} builds the app with. */
export interface CompatAppOptions {
  /** The SSE middleware, or none for the app to compare against. */
  sse?: SSEMiddleware | undefined
  /** Origin of the server `/proxy` forwards to. */
  upstream: string
  /** Where morgan writes its access log, one line per entry. */
  log: string[]
}

/** A middleware written the way many are: it wraps Express's own `res.send` and `res.json`. */
const wrapSendAndJson: RequestHandler = (_req, res, next) => {
  const send = res.send
  res.send = function (this: Response, body?: unknown) {
    this.setHeader('x-wrapped-send', 'yes')
    return send.call(this, body)
  }
  const json = res.json
  res.json = function (this: Response, body?: unknown) {
    this.setHeader('x-wrapped-json', 'yes')
    return json.call(this, body)
  }
  next()
}

/** An Express 5 style validator: `req.query` is a getter there, so it redefines the property. */
function validateSearch(req: Request, _res: Response, next: NextFunction): void {
  const { q, page } = req.query
  const value = { q: String(q ?? '').trim(), page: Number(page ?? 1) }
  Object.defineProperty(req, 'query', {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  })
  next()
}

/** A session id from the request's `x-seq` header, so that two apps given the same requests agree. */
const sessionId = (req: Request): string => `sid-${req.get('x-seq') ?? 'none'}`

function authentication(): passport.PassportStatic {
  const auth = new passport.Passport() as passport.PassportStatic
  auth.use(
    new LocalStrategy((username, password, done) =>
      done(null, username === 'ada' && password === 'lovelace' ? { name: username } : false),
    ),
  )
  auth.serializeUser((user, done) => done(null, (user as { name: string }).name))
  auth.deserializeUser((name: string, done) => done(null, { name }))
  return auth
}

/**
 * An ordinary Express app with the middleware people put in front of their routes, built the same
 * way with and without `@sse/express`: with it, `/events` streams; without, it answers 404.
 * The same requests must then get the same bytes from both.
 */
export function compatApp(express: typeof express5, options: CompatAppOptions): Express {
  const app = express()
  const auth = authentication()
  const upload = multer({ storage: multer.memoryStorage() })
  app.set('env', 'production')
  app.set('views', new URL('./views', import.meta.url).pathname)
  app.engine('ejs', renderEjs)
  app.set('view engine', 'ejs')

  const logLine = (line: string) => options.log.push(line.trimEnd())
  app.use(morgan(':method :url :status :res[content-length]', { stream: { write: logLine } }))
  app.use(helmet())
  app.use(cors({ origin: 'https://app.example', credentials: true }))
  app.use(
    rateLimit({
      windowMs: 15 * 60_000,
      limit: 1000,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      skip: (req) => req.path === '/events',
    }),
  )
  app.use(compression())
  app.use(cookieParser('cookie secret'))
  app.use(
    session({
      secret: 'session secret',
      resave: false,
      saveUninitialized: false,
      genid: sessionId,
    }),
  )
  app.use(express.urlencoded({ extended: false }))
  app.use(express.json())
  if (options.sse !== undefined) app.use(options.sse)
  app.use(auth.initialize())
  app.use(auth.session())
  app.use(wrapSendAndJson)
  app.use(mung.json((body) => ({ ...body, munged: true })))
  app.use(expressLayouts)
  // Mounted on the stream's path only, as in the report: they must not touch other routes either.
  app.use(
    '/events',
    wrapSendAndJson,
    mung.json((body) => ({ ...body, onEvents: true })),
  )
  app.use('/proxy', createProxyMiddleware({ target: options.upstream, changeOrigin: true }))

  app.get('/events', (_req, res) => {
    if (options.sse === undefined) res.status(404).send('no streams here')
    else res.sse({ topics: ['news'] })
  })
  app.get('/health', (_req, res) => {
    res.end('ok')
  })
  app.get('/hello', (_req, res) => {
    res.send('hello')
  })
  app.get('/json', (req, res) => {
    res.json({ greeting: 'hi', path: req.path })
  })
  app.get('/page', (_req, res) => res.render('page', { title: 'Notes', items: ['a', '<b>'] }))
  app.get('/big', (_req, res) => {
    res.type('text').send('compressible line\n'.repeat(2000))
  })
  app.get('/search', validateSearch, (req, res) => {
    res.json({ query: req.query })
  })
  app.get('/cookie', (req, res) => {
    res.cookie('pref', 'dark', { signed: true })
    res.json({ signed: req.signedCookies as unknown, plain: req.cookies as unknown })
  })
  app.get('/count', (req, res) => {
    const data = req.session as unknown as { count?: number }
    data.count = (data.count ?? 0) + 1
    res.json({ count: data.count })
  })
  app.post(
    '/login',
    auth.authenticate('local', { successRedirect: '/me', failureRedirect: '/login-failed' }),
  )
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null, authenticated: req.isAuthenticated() })
  })
  app.get('/limited', rateLimit({ windowMs: 15 * 60_000, limit: 2, standardHeaders: 'draft-8' }))
  app.get('/limited', (_req, res) => {
    res.send('within the limit')
  })
  app.post('/upload', upload.single('file'), (req, res) => {
    const file = req.file
    res.json({ name: req.body.name as unknown, file: file && [file.originalname, file.size] })
  })
  app.get('/boom', () => {
    throw new Error('boom')
  })
  return app
}

/** Echoes every WebSocket message on `/ws` of `server`, as an app that upgrades next to Express. */
export function attachEcho(server: Server): WebSocketServer {
  const wss = new WebSocketServer({ server, path: '/ws' })
  wss.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(`echo:${String(data)}`))
  })
  return wss
}
