/** Whether this runs on CI (`CI` set to anything but empty, `0` or `false`): there, nothing a suite needs may be skipped. */
export function onCI(): boolean {
  return !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase())
}
