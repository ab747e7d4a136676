import { expect, test } from 'vitest'
import { TagIndex } from '../src/lifetime/tagIndex.js'

const entry = (name: string, ...tags: string[]) => ({ name, tags })

test('finds each entry once by any of its tags, whether a tag is its own or shared, and forgets it when deleted', () => {
  const index = new TagIndex<ReturnType<typeof entry>>()
  const a = entry('a', 'user:1', 'session:a')
  const b = entry('b', 'user:1', 'session:b')
  const c = entry('c', 'user:2', 'user:2') // a tag listed twice
  for (const one of [a, b, c, a]) index.add(one) // added twice: still once
  const names = (tags: string[]) => index.matching(tags).map((one) => one.name)
  expect(names(['user:1'])).toEqual(['a', 'b'])
  expect(names(['session:a', 'user:1', 'session:b'])).toEqual(['a', 'b'])
  expect(names(['user:2'])).toEqual(['c'])
  expect(names(['nobody'])).toEqual([])
  expect(index.size).toBe(4)
  index.delete(a)
  expect(names(['user:1', 'session:a'])).toEqual(['b'])
  index.delete(a) // deleted twice: nothing else goes
  index.delete(c)
  expect(names(['user:1'])).toEqual(['b'])
  expect(index.size).toBe(2)
  index.delete(b)
  expect(index.size).toBe(0)
  index.add(a)
  expect(names(['user:1'])).toEqual(['a'])
})
