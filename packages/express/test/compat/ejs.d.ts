// ejs ships no types; the suite needs only the view engine Express calls.
declare module 'ejs' {
  export function __express(
    path: string,
    options: object,
    callback: (error: Error | null, html?: string) => void,
  ): void
}
