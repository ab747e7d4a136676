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

/**
 * The demo's games, in memory: a fixed set made up front, one per pair of teams, with ids `'1'`,
 * `'2'`, .... Nothing creates a game on demand, so a request for a made-up id finds none and
 * cannot make this store, or the broker's history of game topics, grow.
 */
export class GameStore {
  readonly #games: ReadonlyMap<string, Game>

  constructor(teams: ReadonlyArray<readonly [string, string]> = TEAMS) {
    this.#games = new Map(
      teams.map(([home, away], index): [string, Game] => {
        const id = String(index + 1)
        return [
          id,
          { id, home: { name: home, score: 0 }, away: { name: away, score: 0 }, last: null },
        ]
      }),
    )
  }

  /** The ids of every game, in order. */
  ids(): string[] {
    return [...this.#games.keys()]
  }

  has(id: string): boolean {
    return this.#games.has(id)
  }

  /** The game, or `undefined` if there is no game `id`. */
  get(id: string): Game | undefined {
    return this.#games.get(id)
  }

  /** Adds a goal to one side. Returns the game, or `undefined` if there is no game `id`. */
  score(id: string, side: 'home' | 'away'): Game | undefined {
    const game = this.#games.get(id)
    if (game === undefined) return undefined
    game[side].score++
    game.last = side
    return game
  }

  /** Sets both scores back to 0. Returns the game, or `undefined` if there is no game `id`. */
  reset(id: string): Game | undefined {
    const game = this.#games.get(id)
    if (game === undefined) return undefined
    game.home.score = 0
    game.away.score = 0
    game.last = null
    return game
  }
}
