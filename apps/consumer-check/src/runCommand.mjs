import { spawn } from 'node:child_process'

/**
 * @typedef {object} CommandResult
 * @property {number | null} code exit code (`null` when a signal ended it)
 * @property {string} stdout
 * @property {string} stderr
 */

/**
 * Runs a command to its end and collects its output. Never rejects for a non-zero exit: the caller
 * decides what a failure means.
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd: string, env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<CommandResult>}
 */
export function runCommand(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * The last lines of a command's output, for a failure message.
 * @param {string} text
 * @param {number} [lines]
 * @returns {string}
 */
export function tail(text, lines = 20) {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
