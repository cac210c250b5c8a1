import { describe, expect, it } from 'vitest'
import { filterWithinFilter, isValidTopicFilter, isValidTopicName, topicMatchesFilter, unshareFilter } from '../src/topic.js'

describe('topic names and filters', () => {
  it.each(['a', 'a/b', '/a', 'a/', '$SYS/x', 'a b/c'])('%j is a valid topic name', (t) => expect(isValidTopicName(t)).toBe(true))
  it.each(['', 'a/+', 'a/#', 'a+b', 'x\u0000'])('%j is not a valid topic name', (t) => expect(isValidTopicName(t)).toBe(false))
  it.each(['#', '+', 'a/#', 'a/+/b', '+/+', '/#', 'a//b', '$share/g/a/#'])('%j is a valid filter', (f) => expect(isValidTopicFilter(f)).toBe(true))
  it.each(['', 'a#', 'a/#/b', 'a/b+', '#/a', 'a/++'])('%j is not a valid filter', (f) => expect(isValidTopicFilter(f)).toBe(false))
  it('limits a filter to 65535 UTF-8 bytes, however few characters that is', () => {
    expect(isValidTopicFilter('€'.repeat(21845))).toBe(true)
    expect(isValidTopicFilter('€'.repeat(21846))).toBe(false)
    expect(isValidTopicFilter(`a/${'b'.repeat(65533)}`)).toBe(true)
    expect(isValidTopicFilter(`a/${'b'.repeat(65534)}`)).toBe(false)
  })
})

describe('topicMatchesFilter', () => {
  it.each([
    ['a/b', 'a/b'],
    ['a/b', 'a/+'],
    ['a/b', '#'],
    ['a/b', 'a/#'],
    ['a', 'a/#'],
    ['a/b/c', 'a/#'],
    ['a/b/c', '+/b/+'],
    ['/a', '+/a'],
    ['a/', 'a/+'],
    ['$SYS/x', '$SYS/#'],
    ['$SYS/x', '$SYS/+'],
  ])('%j matches %j', (t, f) => expect(topicMatchesFilter(t, f)).toBe(true))

  it.each([
    ['a/b', 'a'],
    ['a', 'a/b'],
    ['a/b/c', 'a/+'],
    ['b/a', 'a/#'],
    ['a/b', 'a/b/c'],
    ['$SYS/x', '#'],
    ['$SYS/x', '+/x'],
    ['$foo', '+'],
    ['A/b', 'a/b'],
  ])('%j does not match %j', (t, f) => expect(topicMatchesFilter(t, f)).toBe(false))
})

describe('filterWithinFilter', () => {
  it.each([
    ['dev/c1/x', 'dev/c1/#'],
    ['dev/c1/#', 'dev/c1/#'],
    ['dev/c1', 'dev/c1/#'],
    ['dev/c1/+', 'dev/c1/#'],
    ['dev/c1/+/y', 'dev/+/+/y'],
    ['a/b', 'a/+'],
    ['a/+', 'a/+'],
    ['#', '#'],
    ['a/#', '#'],
    ['$SYS/x', '$SYS/#'],
  ])('%j lies within %j', (q, a) => expect(filterWithinFilter(q, a)).toBe(true))

  it.each([
    ['#', 'dev/c1/#'],
    ['+/c1/#', 'dev/c1/#'],
    ['dev/+/#', 'dev/c1/#'],
    ['dev/#', 'dev/c1/#'],
    ['a/#', 'a/+'],
    ['a/+', 'a/b'],
    ['a', 'a/+'],
    ['a/b/c', 'a/+'],
    ['$SYS/x', '#'],
    ['$SYS/#', '+/#'],
  ])('%j does not lie within %j', (q, a) => expect(filterWithinFilter(q, a)).toBe(false))
})

describe('unshareFilter', () => {
  it('returns the filter of a shared subscription', () => expect(unshareFilter('$share/g1/dev/c1/#')).toBe('dev/c1/#'))
  it('leaves plain filters alone', () => expect(unshareFilter('dev/c1/#')).toBe('dev/c1/#'))
  it.each(['$share/', '$share/g', '$share//a', '$share/g/', '$share/g+/a'])('refuses malformed %j', (f) => expect(unshareFilter(f)).toBeUndefined())
})

describe('isValidTopicFilter against the rule written out level by level', () => {
  // MQTT §4.7.1: "+" is a whole level; "#" is a whole level and the last one
  const byLevels = (f: string): boolean =>
    f.length > 0 &&
    f.split('/').every((level, i, levels) => (level.includes('#') ? level === '#' && i === levels.length - 1 : !level.includes('+') || level === '+'))

  it('agrees on every filter of up to 6 characters over "a", "/", "+" and "#"', () => {
    let filters = ['']
    let checked = 0
    for (let length = 1; length <= 6; length++) {
      filters = filters.flatMap((f) => ['a', '/', '+', '#'].map((c) => f + c))
      for (const f of filters) {
        expect(isValidTopicFilter(f), f).toBe(byLevels(f))
        checked++
      }
    }
    expect(checked).toBe(5460)
  })
})
