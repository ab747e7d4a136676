/** An inclusive range of hash slots, `[first, last]`. */
export type SlotRange = readonly [first: number, last: number]

/** One line of `CLUSTER NODES`: a node as the node that answered sees it. */
export interface ClusterNodeView {
  readonly id: string
  readonly port: number
  readonly role: 'master' | 'replica'
  /** The id of the master it replicates; `undefined` for a master. */
  readonly masterId: string | undefined
  /** Whether this line is the answering node itself. */
  readonly myself: boolean
  /** Whether the cluster agreed that it failed (`fail`), or only this node suspects it (`fail?`). */
  readonly failing: 'fail' | 'suspected' | false
  readonly slots: readonly SlotRange[]
}

/** Parses a `CLUSTER NODES` reply (slots being migrated, `[…->-…]`, are left out). */
export function parseClusterNodes(reply: string): ClusterNodeView[] {
  return reply
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', address = '', flagList = '', master = '-', ...rest] = line.trim().split(' ')
      const flags = flagList.split(',')
      const port = Number(address.slice(address.lastIndexOf(':') + 1).split('@')[0])
      const slots = rest
        .slice(4)
        .filter((slot) => !slot.startsWith('['))
        .map((slot): SlotRange => {
          const [first, last = first] = slot.split('-').map(Number) as [number, number?]
          return [first, last]
        })
      return {
        id,
        port,
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: master === '-' ? undefined : master,
        myself: flags.includes('myself'),
        failing: flags.includes('fail') ? 'fail' : flags.includes('fail?') ? 'suspected' : false,
        slots,
      }
    })
}

/** Every slot's owner in `views`, as `first-last:port` ranges joined by spaces: comparable text. */
export function slotOwners(views: readonly ClusterNodeView[]): string {
  return views
    .flatMap((view) => view.slots.map(([first, last]) => ({ first, last, port: view.port })))
    .sort((a, b) => a.first - b.first)
    .map(({ first, last, port }) => `${first}-${last}:${port}`)
    .join(' ')
}

/** How many of the 16384 slots `views` assign to a node. */
export function assignedSlots(views: readonly ClusterNodeView[]): number {
  return views
    .flatMap((view) => view.slots)
    .reduce((sum, [first, last]) => sum + last - first + 1, 0)
}

/** Each node's role in `views`, as `port:master` or `port:replica-of-<id>`, sorted: comparable text. */
export function roles(views: readonly ClusterNodeView[]): string {
  return views
    .map(
      (view) => `${view.port}:${view.role === 'master' ? 'master' : `replica-of-${view.masterId}`}`,
    )
    .sort()
    .join(' ')
}
