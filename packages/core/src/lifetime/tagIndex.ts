/** What the tag index needs of an entry. */
export interface TaggedEntry {
  readonly tags: readonly string[]
}

/**
 * Which entries carry which tag, so that `broker.disconnect({ tag })` finds its streams without a
 * scan of every stream. Most tags (a session, a user with one tab) belong to one stream: such a tag
 * maps to the entry itself, and only a shared tag gets a `Set` (about 150 bytes saved per tag). An
 * entry leaves the index when deleted; a tag nobody carries any more leaves the map.
 */
export class TagIndex<TEntry extends TaggedEntry> {
  readonly #tags = new Map<string, TEntry | Set<TEntry>>()

  /** Distinct tags carried by at least one entry. */
  get size(): number {
    return this.#tags.size
  }

  add(entry: TEntry): void {
    const tags = this.#tags
    for (const tag of entry.tags) {
      const found = tags.get(tag)
      if (found === undefined) tags.set(tag, entry)
      else if (found instanceof Set) found.add(entry)
      else if (found !== entry) tags.set(tag, new Set([found, entry]))
    }
  }

  delete(entry: TEntry): void {
    const tags = this.#tags
    for (const tag of entry.tags) {
      const found = tags.get(tag)
      if (found === entry) tags.delete(tag)
      else if (found instanceof Set && found.delete(entry)) {
        if (found.size === 1) tags.set(tag, found.values().next().value!)
      }
    }
  }

  /** The entries carrying any of `tags`, each once: a copy, safe to act on while entries leave. */
  matching(tags: readonly string[]): TEntry[] {
    const found = new Set<TEntry>()
    for (const tag of tags) {
      const entries = this.#tags.get(tag)
      if (entries === undefined) continue
      if (entries instanceof Set) for (const entry of entries) found.add(entry)
      else found.add(entries)
    }
    return [...found]
  }
}
