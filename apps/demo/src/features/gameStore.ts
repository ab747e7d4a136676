/** One side of a game. */
export interface Team {
  name: string
  score: number
}

/** A game's state: what the `state` event carries and the scoreboard partial renders. */
export interface Game {
  id: string
  home: Team
  away: Team
  /** Which side scored last, for a highlight. */
  last: 'home' | 'away' | null
}

const TEAMS: ReadonlyArray<readonly [string, string]> = [
  ['Lions', 'Tigers'],
  ['Owls', 'Foxes'],
  ['Herons', 'Otters'],
  ['Wolves', 'Bears'],
  ['Falcons', 'Badgers'],
]

function teamsFor(id: string): readonly [string, string] {
  let hash = 0
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  // Game 1 and game 2 get the first two pairs, other ids a pair picked by hash.
  const index = /^\d+$/.test(id) ? (Number(id) - 1) % TEAMS.length : hash % TEAMS.length
  return TEAMS[index] ?? TEAMS[0]!
}

/** Games created on first visit, in memory; the oldest is forgotten past `capacity`. */
export class GameStore {
  readonly #capacity: number
  readonly #games = new Map<string, Game>()

  constructor(capacity = 100) {
    this.#capacity = capacity
  }

  get(id: string): Game {
    let game = this.#games.get(id)
    if (game === undefined) {
      const [home, away] = teamsFor(id)
      game = { id, home: { name: home, score: 0 }, away: { name: away, score: 0 }, last: null }
      this.#games.set(id, game)
      if (this.#games.size > this.#capacity) {
        const oldest = this.#games.keys().next().value
        if (oldest !== undefined) this.#games.delete(oldest)
      }
    }
    return game
  }

  score(id: string, side: 'home' | 'away'): Game {
    const game = this.get(id)
    game[side].score++
    game.last = side
    return game
  }

  reset(id: string): Game {
    const game = this.get(id)
    game.home.score = 0
    game.away.score = 0
    game.last = null
    return game
  }
}
