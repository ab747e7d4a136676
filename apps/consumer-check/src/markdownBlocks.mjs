import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'

/** The line that makes the ```ts block right under it a quick start, which the check runs. */
export const quickstartMarker = '<!-- quickstart -->'

/**
 * @typedef {object} CodeBlock
 * @property {string} file the Markdown file, relative to the repository (or fixtures) root
 * @property {number} line 1-based line of the opening fence in that file
 * @property {string} code the block's content
 * @property {boolean} quickstart whether the line right before the fence is the quick start marker
 */

/**
 * @typedef {object} MarkdownScan
 * @property {CodeBlock[]} blocks every ```ts block
 * @property {string[]} strayMarkers `file:line` of quick start markers not directly followed by a
 *   ```ts fence (such a quick start would silently not run)
 */

/**
 * Extracts every ```ts block (fences of three or more backticks, indented up to three spaces).
 * @param {string} root paths in the result are relative to this
 * @param {string[]} files absolute paths of Markdown files
 * @returns {Promise<MarkdownScan>}
 */
export async function scanMarkdown(root, files) {
  /** @type {MarkdownScan} */
  const scan = { blocks: [], strayMarkers: [] }
  for (const path of files) {
    const file = relative(root, path)
    const lines = (await readFile(path, 'utf8')).split(/\r?\n/)
    for (let index = 0; index < lines.length; index += 1) {
      const fence = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index] ?? '')
      if (!fence) {
        if (lines[index]?.trim() === quickstartMarker && !isTsFence(lines[index + 1])) {
          scan.strayMarkers.push(`${file}:${index + 1}`)
        }
        continue
      }
      const [, indent = '', marks = '```', language = ''] = fence
      const end = closingFence(lines, index + 1, marks)
      if (language === 'ts' || language === 'typescript') {
        scan.blocks.push({
          file,
          line: index + 1,
          code: lines
            .slice(index + 1, end)
            .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()))
            .join('\n'),
          quickstart: lines[index - 1]?.trim() === quickstartMarker,
        })
      }
      index = end
    }
  }
  return scan
}

/**
 * @param {string | undefined} line
 * @returns {boolean}
 */
function isTsFence(line) {
  return line !== undefined && /^ {0,3}(`{3,}|~{3,})\s*(ts|typescript)\b/.test(line)
}

/**
 * Index of the line that closes a fence opened with `marks` (or the end of the file).
 * @param {string[]} lines
 * @param {number} from
 * @param {string} marks
 * @returns {number}
 */
function closingFence(lines, from, marks) {
  const closing = new RegExp(`^ {0,3}${marks[0] === '`' ? '`' : '~'}{${marks.length},}\\s*$`)
  for (let index = from; index < lines.length; index += 1) {
    if (closing.test(lines[index] ?? '')) return index
  }
  return lines.length
}
