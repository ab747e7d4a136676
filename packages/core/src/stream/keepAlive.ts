/** Something the shared keep-alive timer visits. */
export interface KeepAliveTarget {
  keepAliveTick(): void
}

const groups = new Map<number, { timer: NodeJS.Timeout; members: Set<KeepAliveTarget> }>()

function sweep(members: Set<KeepAliveTarget>): void {
  for (const member of members) member.keepAliveTick()
}

/**
 * One timer per distinct interval, shared by every stream using it, instead of a timer per
 * connection: at 10k connections per-connection timers cost memory and wake-ups.
 */
export const keepAlive = {
  add(interval: number, target: KeepAliveTarget): void {
    let group = groups.get(interval)
    if (group === undefined) {
      const members = new Set<KeepAliveTarget>()
      const timer = setInterval(sweep, interval, members)
      timer.unref()
      group = { timer, members }
      groups.set(interval, group)
    }
    group.members.add(target)
  },
  delete(interval: number, target: KeepAliveTarget): void {
    const group = groups.get(interval)
    if (group === undefined) return
    group.members.delete(target)
    if (group.members.size === 0) {
      clearInterval(group.timer)
      groups.delete(interval)
    }
  },
  /** Number of live shared timers (for leak tests). */
  timers(): number {
    return groups.size
  },
}
