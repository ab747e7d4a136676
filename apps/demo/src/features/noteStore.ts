import { randomUUID } from 'node:crypto'

/** A posted note. `text` is the user's raw text: escape it when rendering (the `html` tag does). */
export interface Note {
  id: string
  text: string
  at: number
}

/** Creates a note (not stored). */
export function createNote(text: string): Note {
  return { id: randomUUID().slice(0, 8), text, at: Date.now() }
}

/**
 * The last notes posted to this instance, so a page opened later starts with them. Live updates
 * travel through the broker; this is only the initial render, and the snapshot of a page that
 * comes back with an id the broker cannot resume from.
 */
export class NoteStore {
  readonly #capacity: number
  readonly #notes: Note[] = []

  constructor(capacity = 50) {
    this.#capacity = capacity
  }

  add(note: Note): Note {
    this.#notes.push(note)
    if (this.#notes.length > this.#capacity) this.#notes.shift()
    return note
  }

  /** The newest `count` notes, oldest first. */
  latest(count = this.#capacity): Note[] {
    return this.#notes.slice(-count)
  }
}
