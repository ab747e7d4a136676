/**
 * The accept queue of every scale server, plain and ours: Node's default (511) overflows while
 * thousands of clients connect at once to a busy process, and each dropped SYN costs its client a
 * retransmission a second later. The kernel caps it at `net.core.somaxconn` (4096 by default).
 */
export const ACCEPT_BACKLOG = 4096

/** A running server of the scale scenario, whichever mode. */
export interface ScaleServerHandle {
  readonly port: number
  /** Streams the server currently holds. */
  subscribers(): number
}
