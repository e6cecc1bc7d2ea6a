import assert from 'node:assert/strict';
import test, { describe } from 'node:test';
import { z } from 'zod';
import { defineMethod, PROTOCOL_VERSION, ServerState, ServerStateConfig, silentLogger } from '../../src/index.js';

describe('ServerStateConfig', () => {
  test('defaults', () => {
    const c = new ServerStateConfig();
    assert.equal(c.handlerTimeoutMs, 1_800_000);
    assert.equal(c.toolTimeoutMs, 300_000);
    assert.equal(c.port, 9100);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.authToken, null);
    assert.equal(c.hostToken, null);
    assert.equal(c.authEnabled, false);
    assert.equal(c.socketPath, null);
    assert.equal(c.carHome, null);
    assert.equal(c.maxBatchItems, 100);
    assert.equal(c.maxJsonDepth, 256);
    assert.equal(c.heartbeatIntervalMs, 30_000);
    assert.deepEqual(c.handshakeGated, ['host.subscribe', 'auth.']);
    assert.deepEqual(c.methods, []);
    assert.equal(c.logger, silentLogger);
    assert.deepEqual(ServerStateConfig.defaults().toOptions(), c.toOptions());
    assert.equal(PROTOCOL_VERSION, 2);
  });

  test('overrides apply; undefined overrides keep the default', () => {
    const c = new ServerStateConfig({ port: 0, authToken: 'secret', handlerTimeoutMs: undefined });
    assert.equal(c.port, 0);
    assert.equal(c.authToken, 'secret');
    assert.equal(c.authEnabled, true);
    assert.equal(c.handlerTimeoutMs, 1_800_000);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    ['handlerTimeoutMs 0', { handlerTimeoutMs: 0 }, /ServerStateConfig\.handlerTimeoutMs must be a positive number, got 0/],
    ['toolTimeoutMs negative', { toolTimeoutMs: -1 }, /ServerStateConfig\.toolTimeoutMs must be a positive number/],
    ['maxPayloadBytes NaN', { maxPayloadBytes: Number.NaN }, /ServerStateConfig\.maxPayloadBytes/],
    ['maxBatchItems as a string', { maxBatchItems: '10' }, /ServerStateConfig\.maxBatchItems/],
    ['maxInFlightPerConnection Infinity', { maxInFlightPerConnection: Infinity }, /ServerStateConfig\.maxInFlightPerConnection/],
    ['maxJsonDepth 0', { maxJsonDepth: 0 }, /ServerStateConfig\.maxJsonDepth/],
    ['toolCallbackGraceMs negative', { toolCallbackGraceMs: -5 }, /ServerStateConfig\.toolCallbackGraceMs must be a non-negative number/],
    ['heartbeatIntervalMs negative', { heartbeatIntervalMs: -1 }, /ServerStateConfig\.heartbeatIntervalMs/],
    ['port negative', { port: -1 }, /ServerStateConfig\.port must be a non-negative number/],
    ['port too large', { port: 65536 }, /ServerStateConfig\.port must be at most 65535, got 65536/],
    ['empty authToken', { authToken: '' }, /ServerStateConfig\.authToken must be a non-empty string or null/],
    ['numeric hostToken', { hostToken: 42 }, /ServerStateConfig\.hostToken must be a non-empty string or null/],
  ];
  for (const [label, overrides, message] of invalid) {
    test(`validation: ${label} is refused, naming the field`, () => {
      assert.throws(() => new ServerStateConfig(overrides as never), message);
    });
  }

  const limits: [keyof import('../../src/index.js').ServerStateOptions, number][] = [
    ['maxActionConcurrency', 64],
    ['deadlineSlackMs', 15_000],
    ['verifyDeadlineMs', 30_000],
    ['maxVerifyActions', 1000],
    ['maxPoliciesPerSession', 4096],
    ['maxPolicySessions', 1024],
    ['maxToolHandleChunks', 1024],
    ['toolHandleReapMs', 15 * 60_000],
    ['authTimeoutMs', 10_000],
    ['maxEvidenceBytes', 64 * 1024],
    ['maxHostEvents', 500],
    ['maxHostSubscriberBytes', 4 * 1024 * 1024],
    ['maxHostSubscribersTotalBytes', 64 * 1024 * 1024],
    ['maxHostRegistrationsPerSession', 256],
    ['maxHostRecordBytes', 64 * 1024],
    ['maxHostEventPayloadBytes', 1024 * 1024],
    ['workerParseThresholdBytes', 1024 * 1024],
    ['maxReplyBytes', 16 * 1024 * 1024],
    ['maxConnections', 1024],
    ['maxUnauthenticatedConnections', 64],
    ['maxAuthFailures', 5],
    ['maxHostEventBytes', 4 * 1024 * 1024],
    ['maxPendingApprovalsPerSession', 64],
    ['maxApprovalHistory', 200],
    ['maxStateBytesPerSession', 64 * 1024 * 1024],
    ['maxStateValueBytes', 4 * 1024 * 1024],
    ['maxHostSubscriberQueue', 4096],
    ['maxSupervisionHistory', 4096],
    ['maxFinishedRunsInMemory', 1000],
    ['maxRegistryStores', 64],
    ['maxTrajectoryRecords', 100_000],
    ['ocrMaxOutputBytes', 4 * 1024 * 1024],
    ['mcpMaxSessions', 256],
    ['mcpSessionIdleMs', 30 * 60_000],
    ['mcpMaxBodyBytes', 4 * 1024 * 1024],
    ['mcpResourcePageSize', 100],
    ['mcpAssistantMaxRuns', 8],
    ['mcpAssistantIdleMs', 60 * 60_000],
    ['mcpAssistantMaxEvents', 2000],
    ['mcpAssistantMaxTurns', 32],
    ['maxAgents', 256],
    ['agentLogTailBytes', 8 * 1024 * 1024],
    ['maxChatSessions', 1024],
    ['maxChatGoals', 4096],
    ['multiMaxConcurrency', 64],
    ['multiMaxSubtasks', 16],
  ];
  test('limit maxFrameParseWorkers: defaults to 2; 0 parses inline; a negative or fractional count is refused', () => {
    assert.equal(new ServerStateConfig().maxFrameParseWorkers, 2);
    assert.equal(new ServerStateConfig({ maxFrameParseWorkers: 0 }).maxFrameParseWorkers, 0);
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => new ServerStateConfig({ maxFrameParseWorkers: bad }), /ServerStateConfig\.maxFrameParseWorkers must be/);
    }
  });

  for (const [key, value] of limits) {
    test(`limit ${key}: defaults to ${value}; a negative, fractional or non-number value is refused`, () => {
      assert.equal(new ServerStateConfig()[key], value);
      for (const bad of [-1, Number.NaN, '5']) {
        assert.throws(() => new ServerStateConfig({ [key]: bad } as never), new RegExp(`ServerStateConfig\\.${key} must be`));
      }
      if (key !== 'deadlineSlackMs' && key !== 'verifyDeadlineMs' && key !== 'toolHandleReapMs' && key !== 'authTimeoutMs') {
        assert.throws(() => new ServerStateConfig({ [key]: 0 } as never), new RegExp(`ServerStateConfig\\.${key}`));
        assert.throws(() => new ServerStateConfig({ [key]: 1.5 } as never), new RegExp(`ServerStateConfig\\.${key}`));
      }
    });
  }

  test('agent timings: agentStopGraceMs 5 s and agentBackoffMaxMs 60 s by default; zero or negative refused', () => {
    const c = new ServerStateConfig();
    assert.equal(c.agentStopGraceMs, 5000);
    assert.equal(c.agentBackoffMaxMs, 60_000);
    assert.equal(c.chatAckTimeoutMs, 5000);
    assert.equal(c.multiRunAgentTimeoutMs, 600_000);
    for (const key of ['agentStopGraceMs', 'agentBackoffMaxMs', 'chatAckTimeoutMs', 'multiRunAgentTimeoutMs'] as const) {
      for (const bad of [0, -1, Number.NaN]) assert.throws(() => new ServerStateConfig({ [key]: bad }), new RegExp(`ServerStateConfig\\.${key}`));
    }
    assert.throws(() => new ServerStateConfig({ agentsManifestPath: 'relative.json' }), /agentsManifestPath must be an absolute path/);
    assert.throws(() => new ServerStateConfig({ agentEnv: null as never }), /agentEnv/);
  });

  test('zero is allowed where it means "off": heartbeatIntervalMs, toolCallbackGraceMs, port', () => {
    const c = new ServerStateConfig({ heartbeatIntervalMs: 0, toolCallbackGraceMs: 0, port: 0 });
    assert.equal(c.heartbeatIntervalMs, 0);
  });

  test('the config is frozen; with() returns a new config and leaves the original alone', () => {
    const base = new ServerStateConfig({ authToken: 'a' });
    assert.ok(Object.isFrozen(base));
    assert.throws(() => {
      (base as unknown as { port: number }).port = 1;
    }, TypeError);
    const next = base.with({ port: 1234, hostToken: 'h' });
    assert.notEqual(next, base);
    assert.equal(next.port, 1234);
    assert.equal(next.hostToken, 'h');
    assert.equal(next.authToken, 'a', 'unrelated values carry over');
    assert.equal(base.port, 9100);
    assert.equal(base.hostToken, null);
    assert.ok(next instanceof ServerStateConfig);
    assert.throws(() => base.with({ port: 70000 }), /port/);
    assert.equal(base.withAuthToken(null).authToken, null);
    assert.equal(base.authToken, 'a');
    assert.equal(base.withHostToken('x').hostToken, 'x');
  });

  test('withMethods() appends, without touching the original', () => {
    const m1 = defineMethod({ name: 'x.one', summary: '', params: z.object({}), handler: () => 1 });
    const m2 = defineMethod({ name: 'x.two', summary: '', params: z.object({}), handler: () => 2 });
    const a = new ServerStateConfig().withMethods(m1);
    const b = a.withMethods(m2);
    assert.deepEqual(
      a.methods.map((m) => m.name),
      ['x.one'],
    );
    assert.deepEqual(
      b.methods.map((m) => m.name),
      ['x.one', 'x.two'],
    );
    const state = ServerState.embedded(b);
    assert.ok(state.methods.has('x.one') && state.methods.has('x.two') && state.methods.has('state.get'));
    assert.equal(state.mode, 'embedded');
    assert.equal(ServerState.standalone(b).mode, 'standalone');
  });

  test('toOptions() round-trips', () => {
    const c = new ServerStateConfig({ port: 1, authToken: 't', maxBatchItems: 3 });
    const again = new ServerStateConfig(c.toOptions());
    assert.deepEqual(again.toOptions(), c.toOptions());
  });
});
