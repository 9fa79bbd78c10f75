import { describe, expect, test } from 'vitest';
import { commandWordFirst } from './leading-options.ts';
import { COMMAND_SPECS } from './specs/index.ts';

const split = (line: string) => commandWordFirst(line.split(' '), COMMAND_SPECS);

describe('options before the command word', () => {
  test('are moved behind the command and its words', () => {
    expect(split('--config /etc/moor/c.yaml agent')).toEqual(['agent', '--config', '/etc/moor/c.yaml']);
    expect(split('--state-dir /d show connections')).toEqual(['show', 'connections', '--state-dir', '/d']);
    expect(split('--state-dir=/d status -o json')).toEqual(['status', '-o', 'json', '--state-dir=/d']);
  });

  test('a value that is also a command word stays the value', () => {
    expect(split('--hostname status gateway --port 4500')).toEqual([
      'gateway',
      '--port',
      '4500',
      '--hostname',
      'status',
    ]);
  });

  test('stay before a "--"', () => {
    expect(split('--kubeconfig k acl who -- 10.0.0.1')).toEqual([
      'acl',
      'who',
      '--kubeconfig',
      'k',
      '--',
      '10.0.0.1',
    ]);
  });

  test('are left alone when they are not options of any following command', () => {
    expect(split('--bogus agent')).toEqual(['--bogus', 'agent']);
    expect(split('--config')).toEqual(['--config']);
    expect(split('agent --config c.yaml')).toEqual(['agent', '--config', 'c.yaml']);
    expect(split('--help')).toEqual(['--help']);
  });
});
