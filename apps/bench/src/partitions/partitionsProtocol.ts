/** What the partitions bench tells each publisher process (as its one argument, JSON). */
export interface PublisherConfig {
  readonly nodes: readonly { host: string; port: number }[]
  readonly keyPrefix: string
  /** 0: the single-stream layout; 1 to 16: the partitioned layout with that many partitions. */
  readonly partitions: number
  readonly topics: number
  readonly seconds: number
  /** Publishes in flight at once. */
  readonly window: number
}

/** What a publisher process sends back over IPC. */
export type PublisherMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly published: number; readonly failed: number }
