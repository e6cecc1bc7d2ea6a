import assert from 'node:assert/strict';
import test from 'node:test';
import { ollamaEndpointOf, resolveInferenceSettings } from '../../src/cli/inference-settings.js';

test('the binary\'s inference settings: models.json under CAR_HOME, OLLAMA_HOST forms, opt-outs and models', () => {
  assert.deepEqual(resolveInferenceSettings({}, '/h/.car'), {
    modelsPath: '/h/.car/models.json',
    ollamaEndpoint: 'http://127.0.0.1:11434',
    embedModel: null,
    skillsModel: null,
    assistantModel: null,
  });
  const s = resolveInferenceSettings(
    { CAR_MODELS_PATH: '/etc/car/models.json', CAR_NO_OLLAMA: '1', CAR_EMBED_MODEL: 'ollama/nomic-embed-text', CAR_SKILLS_MODEL: 'local/llama', CAR_ASSISTANT_MODEL: 'local/coder' },
    '/h/.car',
  );
  assert.deepEqual(s, {
    modelsPath: '/etc/car/models.json',
    ollamaEndpoint: null,
    embedModel: 'ollama/nomic-embed-text',
    skillsModel: 'local/llama',
    assistantModel: 'local/coder',
  });
  assert.throws(() => resolveInferenceSettings({ CAR_MODELS_PATH: 'models.json' }, '/h'), /absolute/);
  assert.throws(() => resolveInferenceSettings({ CAR_NO_OLLAMA: 'maybe' }, '/h'), /CAR_NO_OLLAMA/);
  assert.equal(ollamaEndpointOf('127.0.0.1:11500'), 'http://127.0.0.1:11500');
  assert.equal(ollamaEndpointOf('gpu-box'), 'http://gpu-box:11434');
  assert.equal(ollamaEndpointOf('0.0.0.0'), 'http://127.0.0.1:11434');
  assert.equal(ollamaEndpointOf('https://ollama.lan'), 'https://ollama.lan');
  assert.equal(ollamaEndpointOf('http://10.1.2.3:8080/'), 'http://10.1.2.3:8080');
  assert.throws(() => ollamaEndpointOf('ftp://x'), /OLLAMA_HOST/);
});
